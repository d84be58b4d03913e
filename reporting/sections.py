"""The report's sections, one function each: an `<h2>` with its anchor, then charts and tables built from the
stats summary, the stats tables and the views (`reporting.views`). Pure: same inputs, same string."""
from __future__ import annotations

import json
from typing import Any

import pyarrow as pa

from contract.stage import Rule
from pipeline.stats.rules import ThresholdRule
from pipeline.stats.tables import QUANTILE_NAMES
from reporting.markup import esc, fmt_count, fmt_value, html_table, key_label, label, percent
from reporting.svg import DROPPED_COLOR, KEPT_COLOR, bar_chart, curve_svg, histogram_svg, legend
from reporting.views import deciding_signals, sample_outcomes

TEXT_LIMIT_CHARS = 600  # sample text shown per document (the stats keep up to 1000)


def section_summary(summary: dict[str, Any]) -> str:
    rows = [("documents", fmt_count(summary["documents"])), ("kept", f"{fmt_count(summary['kept'])} "
            f"({percent(summary['kept'], summary['documents'])})"), ("dropped", fmt_count(summary["dropped"])),
            ("characters", fmt_count(summary["chars"])), ("kept characters", fmt_count(summary["kept_chars"])),
            ("config hash", summary["config_hash"])]
    return '<h2 id="summary">Summary</h2>' + html_table(["", "value"], rows)


def section_funnel(summary: dict[str, Any]) -> str:
    funnel = summary["funnel"]
    chart = bar_chart([(f"{row['stage']}", (row["documents_out"], row["documents_dropped"])) for row in funnel],
                      (KEPT_COLOR, DROPPED_COLOR))
    rows = [(r["stage"], fmt_count(r["documents_in"]), fmt_count(r["documents_dropped"]), fmt_count(r["documents_out"]),
             percent(r["documents_out"], r["documents_in"]), fmt_count(r["chars_in"]), fmt_count(r["chars_dropped"]),
             fmt_count(r["chars_out"])) for r in funnel]
    return ('<h2 id="funnel">Funnel</h2><p class="note">Stages in pipeline order; a document leaves at the stage '
            'named by its drop reason\'s prefix. Characters are those of the stored text (after cleanup).</p>'
            + legend(["out", "dropped here"], (KEPT_COLOR, DROPPED_COLOR)) + chart
            + html_table(["stage", "documents in", "dropped", "out", "out/in", "chars in", "chars dropped",
                          "chars out"], rows))


def section_reasons(tables: dict[str, pa.Table], documents: int) -> str:
    rows = tables["reasons"].to_pylist()
    chart = bar_chart([(r["drop_reason"], (r["documents"],)) for r in rows], (DROPPED_COLOR,))
    table = html_table(["stage", "reason", "documents", "of all", "characters"],
                       [(r["stage"], r["drop_reason"], fmt_count(r["documents"]), percent(r["documents"], documents),
                         fmt_count(r["chars"])) for r in rows], left=2)
    return '<h2 id="reasons">Drops by reason</h2>' + chart + table


def rule_check(rule: Rule) -> str:
    """A rule's comparison in words: "gopher_word_count < 50 (heuristics.gopher_quality.min_words)"."""
    checks = [f"{rule.signal} {t.drops_when} {fmt_value(t.value)} ({t.config_key})" for t in rule.thresholds]
    if not checks and rule.signal:
        checks = [f"reads {rule.signal}"]
    return "; ".join(checks + ([rule.note] if rule.note else []))


def section_rules(rules: list[tuple[str, Rule]], summary: dict[str, Any]) -> str:
    """Every rule the run could apply (stats.rules.all_rules), in the order documents meet them, with what it
    means, what it compares and how many documents it dropped."""
    dropped = summary["dropped_by_reason"]
    rows = [(reason, rule.means, rule_check(rule), fmt_count(dropped.get(reason, 0))) for reason, rule in rules]
    return ('<h2 id="rules">Rules</h2><p class="note">Every rule of the run\'s config, in the order a document meets '
            'them: reading, the cascade\'s pre-checks, extraction, then each stage\'s own rules as declared by the '
            'stage. The first rule a document fails is its drop reason.</p>'
            + html_table(["reason", "what it means", "drops when", "documents"], rows, left=3))


def section_benchmarks(tables: dict[str, pa.Table]) -> str:
    """Documents the decontam stage matched, per benchmark (a document that holds two counts for both)."""
    rows = tables["benchmarks"].to_pylist()
    if not rows:
        return ""
    return ('<h2 id="benchmarks">Benchmark text found (decontam)</h2>'
            + html_table(["benchmark", "documents", "kept (cut)", "dropped"],
                         [(r["benchmark"], fmt_count(r["documents"]), fmt_count(r["kept_documents"]),
                           fmt_count(r["dropped_documents"])) for r in rows]))


def section_perplexity(tables: dict[str, pa.Table]) -> str:
    """Each language's perplexity buckets (their shares of the language's scored documents) and its
    perplexity quantiles, kept and dropped (histograms per language: signal "perplexity@<lang>")."""
    buckets = tables["perplexity_buckets"].to_pylist()
    if not buckets:
        return ""
    scored = {}
    for r in buckets:
        scored[r["lang"]] = scored.get(r["lang"], 0) + r["documents"]
    share_rows = [(r["lang"], r["bucket"], fmt_count(r["documents"]), percent(r["documents"], scored[r["lang"]]),
                   fmt_count(r["kept_documents"])) for r in buckets]
    quantiles = [r for r in tables["quantiles"].to_pylist() if r["signal"].startswith("perplexity@")]
    quantile_table = html_table(["language", "population", "documents"] + QUANTILE_NAMES,
                                [(r["signal"].split("@", 1)[1], r["population"], fmt_count(r["documents"]),
                                  *(fmt_value(r[name]) for name in QUANTILE_NAMES)) for r in quantiles], left=2)
    return ('<h2 id="perplexity">Perplexity by language</h2>'
            + html_table(["language", "bucket", "documents", "share", "kept"], share_rows, left=2) + quantile_table)


def keyed_section(anchor: str, title: str, rows: list[dict[str, Any]], column: str) -> str:
    chart = bar_chart([(key_label(r[column]), (r["kept_documents"], r["dropped_documents"])) for r in rows],
                      (KEPT_COLOR, DROPPED_COLOR))
    table = html_table([column, "documents", "kept", "dropped", "kept share", "kept characters"],
                       [(key_label(r[column]), fmt_count(r["documents"]), fmt_count(r["kept_documents"]),
                         fmt_count(r["dropped_documents"]), percent(r["kept_documents"], r["documents"]),
                         fmt_count(r["kept_chars"])) for r in rows])
    return (f'<h2 id="{anchor}">{esc(title)}</h2>' + legend(["kept", "dropped"], (KEPT_COLOR, DROPPED_COLOR))
            + chart + table)


def section_signals(summary: dict[str, Any], tables: dict[str, pa.Table], bars: dict[str, dict[str, Any]],
                    rules: list[ThresholdRule]) -> str:
    quantiles = {(r["signal"], r["population"]): r for r in tables["quantiles"].to_pylist()}
    parts = ['<h2 id="signals">Signals</h2><p class="note">Every numeric signal column: kept (blue) and dropped '
             '(red) documents, from the smallest value to the 99th percentile (larger values in the last bar); the '
             'dashed line is the configured threshold. Quantiles are within 0.1% of the exact value.</p>',
             legend(["kept", "dropped"], (KEPT_COLOR, DROPPED_COLOR))]
    stage = None
    for signal in summary["signals"]:
        name = signal["column"]
        if name not in bars:
            continue
        if signal["stage"] != stage:
            stage = signal["stage"]
            parts.append(f"<h3>{esc(stage or 'other')}</h3>")
        parts.append(signal_figure(name, bars[name], quantiles, rules))
        # per-language histograms of a signal whose scale depends on the language (pipeline.stats.counts)
        parts += [signal_figure(each, bars[each], quantiles, rules) for each in sorted(bars)
                  if each.startswith(f"{name}@")]
    return "".join(parts)


def signal_figure(name: str, bins: dict[str, Any], quantiles: dict[tuple[str, str], dict[str, Any]],
                  rules: list[ThresholdRule]) -> str:
    """One signal: its rules, its histogram (`bins`) with their thresholds, and its quantiles per population."""
    thresholds = sorted({rule.threshold for rule in rules if rule.signal == name})
    rows = []
    for population in ("kept", "dropped", "all"):
        q = quantiles.get((name, population))
        if q:
            rows.append((population, fmt_count(q["documents"]), fmt_count(q["missing"]),
                         *(fmt_value(q[k]) for k in ["min", *QUANTILE_NAMES, "max"])))
    rule_text = "; ".join(f"dropped when {rule.drops_when} {fmt_value(rule.threshold)} ({rule.config_key})"
                          for rule in rules if rule.signal == name)
    return (f'<figure id="signal-{esc(name)}"><figcaption><b>{esc(name)}</b> {esc(rule_text)}</figcaption>'
            + histogram_svg(bins, thresholds)
            + html_table(["population", "documents", "missing", "min", *QUANTILE_NAMES, "max"], rows)
            + "</figure>")


def section_whatif(whatifs: list[dict[str, Any]]) -> str:
    parts = ['<h2 id="whatif">Threshold what-if</h2><p class="note">For each thresholded rule: how many of the '
             'documents it checked (kept ones and those dropped by it or by a later rule) it would drop at other '
             'thresholds, from the stored signal histograms. Move the slider (needs the page\'s script); the table '
             'shows the same counts at the configured threshold and at quantiles of the signal.</p>']
    return "".join(parts + [whatif_block(i, w) for i, w in enumerate(whatifs)])


def whatif_block(i: int, w: dict[str, Any]) -> str:
    """The i-th what-if (`pipeline.stats.whatif`): a disabled slider the page's script enables, its curve, and
    a static table of the same counts at the configured threshold and at the table's quantile stops."""
    configured = w["configured_index"]
    rows = []
    for k in w["table_indices"]:
        change = w["drops"][k] - w["now"]
        rows.append((fmt_value(w["thresholds"][k]) + (" (configured)" if k == configured else ""),
                     fmt_count(w["drops"][k]), f"{change:+,}"))
    notes = [] if w["threshold_on_grid"] else [f"the configured {fmt_value(w['threshold'])} is not on the stored "
                                               "grid: the nearest edge is used"]
    notes += [w["note"]] if w["note"] else []
    static = (f"dropped when {w['signal']} {w['drops_when']} {fmt_value(w['thresholds'][configured])}: "
              f"{w['drops'][configured]:,} of {w['population']:,} documents")
    return (f'<div id="whatif-{i}" class="whatif"><h3>{esc(w["reason"])}</h3>'
            f'<p>{esc(w["signal"])} {esc(w["drops_when"])} {esc(fmt_value(w["threshold"]))} '
            f'(<code>{esc(w["config_key"])}</code>); dropped now: {esc(fmt_count(w["now"]))}. '
            f'<span class="note">{esc("; ".join(notes))}</span></p>'
            f'<p><label>threshold <input type="range" min="0" max="{len(w["thresholds"]) - 1}" step="1" '
            f'value="{configured}" disabled></label></p><p><output>{esc(static)}</output></p>'
            + curve_svg(w["drops"], configured)
            + html_table(["threshold", "would drop", "vs now"], rows) + "</div>")


def section_clusters(summary: dict[str, Any], tables: dict[str, pa.Table]) -> str:
    clusters = summary.get("clusters")
    if not clusters:
        return ('<h2 id="clusters">Dedup clusters</h2><p class="note">No dedup columns in this output '
                '(dup_cluster, dup_cluster_size): the dedup stage did not run.</p>')
    chart = bar_chart([(f"size {b['sizes']}", (b["clusters"],)) for b in clusters["clusters_by_size"]], (KEPT_COLOR,))
    rows = [(fmt_count(r["dup_cluster_size"]), fmt_count(r["documents"]), fmt_count(r["kept_documents"]),
             fmt_count(r["dropped_documents"]), fmt_count(r["clusters"])) for r in tables["clusters"].to_pylist()]
    largest = [(r["dup_cluster"], fmt_count(r["dup_cluster_size"])) for r in tables["largest_clusters"].to_pylist()]
    return ('<h2 id="clusters">Dedup clusters</h2>'
            f'<p>{fmt_count(clusters["clusters"])} clusters of two or more documents with their representative in this '
            f'run; {fmt_count(clusters["documents_in_clusters"])} documents in clusters.</p>'
            '<h3>Clusters by size</h3>' + chart
            + html_table(["cluster size", "documents", "kept", "dropped", "clusters"], rows, left=0)
            + "<h3>Largest clusters</h3>" + html_table(["representative", "size"], largest))


def section_pii(tables: dict[str, pa.Table]) -> str:
    rows = tables["pii"].to_pylist()
    if not rows:
        return '<h2 id="pii">PII</h2><p class="note">No PII columns: the pii stage did not run.</p>'
    chart = bar_chart([(r["entity"], (r["hits"],)) for r in rows if r["entity"] != "TOTAL"], (DROPPED_COLOR,))
    table = html_table(["entity", "documents with hits", "hits", "kept documents with hits", "kept hits"],
                       [(r["entity"], fmt_count(r["documents_with_hits"]), fmt_count(r["hits"]),
                         fmt_count(r["kept_documents_with_hits"]), fmt_count(r["kept_hits"])) for r in rows])
    return '<h2 id="pii">PII</h2><p class="note">Spans replaced by placeholders, per entity type.</p>' + chart + table


def section_tokens(summary: dict[str, Any], tables: dict[str, pa.Table]) -> str:
    tokens = summary.get("tokens")
    if not tokens:
        return '<h2 id="tokens">Tokens</h2><p class="note">No OUT/tokens/manifest.json yet: tokenize the corpus first.</p>'
    rows = tables["tokens"].to_pylist()
    per_lang: dict[str, int] = {}
    for row in rows:
        per_lang[row["lang"]] = per_lang.get(row["lang"], 0) + row["tokens"]
    chart = bar_chart(sorted(((key_label(k), (n,)) for k, n in per_lang.items()), key=lambda r: (-r[1][0], r[0])),
                      (KEPT_COLOR,))
    splits = html_table(["split", "documents", "tokens"], [(split, fmt_count(s["documents"]), fmt_count(s["tokens"]))
                                                           for split, s in tokens["splits"].items()])
    table = html_table(["split", "lang", "documents", "tokens"],
                       [(r["split"], key_label(r["lang"]), fmt_count(r["documents"]), fmt_count(r["tokens"])) for r in rows],
                       left=2)
    return (f'<h2 id="tokens">Tokens</h2><p>{fmt_count(tokens["tokens"])} tokens in {fmt_count(tokens["documents"])} '
            'documents.</p>' + splits + chart + table)


def section_samples(summary: dict[str, Any], tables: dict[str, pa.Table], rules: list[ThresholdRule]) -> str:
    stage_of = {s["column"]: s["stage"] for s in summary["signals"]}
    samples = tables["samples"].to_pylist()
    parts = ['<h2 id="samples">Samples</h2><p class="note">Up to three documents per outcome: those with the lowest '
             'sha1 of their id (the same on every run). Text is the stored text, cut; signals that decided the drop '
             'come first.</p>']
    for reason in sample_outcomes(samples, summary["stages"]):
        parts.append(f"<h3>{esc(label(reason))}</h3>")
        parts += [sample_block(s, reason, rules, stage_of) for s in samples if s["drop_reason"] == reason]
    return "".join(parts)


def sample_block(sample: dict[str, Any], reason: str | None, rules: list[ThresholdRule],
                 stage_of: dict[str, str]) -> str:
    """One sample document: where it came from, the signals that decided its drop first, then all of them,
    then its text cut at TEXT_LIMIT_CHARS."""
    signals = json.loads(sample["signals"])
    deciding = deciding_signals(reason, signals, rules, stage_of)
    rule_of = {rule.signal: f"dropped when {rule.drops_when} {fmt_value(rule.threshold)}"
               for rule in rules if rule.reason == reason}
    decided = html_table(["signal", "value", "rule"],
                         [(name, signals.get(name, "-"), rule_of.get(name, "")) for name in deciding])
    others = html_table(["signal", "value"], [(k, v) for k, v in sorted(signals.items()) if k not in deciding])
    text = sample["text"] or ""
    shown = text[:TEXT_LIMIT_CHARS]
    more = sample["text_chars"] - len(shown)
    return (f'<div class="sample"><p><b>{esc(sample["id"])}</b><br>url: {esc(sample["url"] or "-")}'
            f' · crawl: {esc(sample["crawl"] or "-")} · lang: {esc(sample["lang"] or "-")}'
            f' · {esc(fmt_count(sample["text_chars"]))} characters</p>'
            + (decided if deciding else "")
            + f"<details><summary>all signals</summary>{others}</details>"
            + (f"<pre>{esc(shown)}{esc(f' … ({more:,} more characters)') if more > 0 else ''}</pre>" if shown else "")
            + "</div>")
