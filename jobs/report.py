"""The stats report: `python jobs/report.py OUT` writes OUT/report/index.html, one self-contained page.

It reads only the aggregated tables under OUT/stats/ (computed first with pyarrow when a run has none, e.g.
`run_stages` output; histograms.parquet one signal at a time), the run's OUT/_config.toml for the thresholds
and OUT/tokens/manifest.json: its time and memory are bounded by those tables, which stop growing once the
signals fill their fixed grid, not by the number of documents (benchmarks/RESULTS.md, "Stats and report"). The page works offline: no network, no external
file; plots are inline SVG drawn here; one small inline script (allowed by its sha256 in a strict
Content-Security-Policy, nothing else may run) moves the threshold what-if sliders over embedded counts, and
static tables say the same without it. Every crawled string (text, urls, domains, reasons) is escaped, and
embedded JSON escapes `<`, `>` and `&`, so a document holding `</script>` stays text. Same stats, same bytes.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import html
import json
import sys
from typing import Any, Iterable, Sequence

import numpy as np
import pyarrow as pa

from pipeline.outputs import OutputDir
from pipeline.stats import (
    EARLY_STAGES, MISSING, QUANTILE_NAMES, RECORD_COLUMNS, STATS_JSON, TABLE_SCHEMAS, SignalHistogram, ThresholdRule,
    decision_rules, ensure_stats, read_run_config, read_signal_histograms, read_stats_tables, reaches_rule,
    reason_stage, refresh_tokens, threshold_rules, whatif,
)

REPORT = "report/index.html"
KEPT_COLOR, DROPPED_COLOR, THRESHOLD_COLOR = "#3b7dd8", "#d8593b", "#111111"
HIST_BINS = 40  # display bars per signal histogram (the stored grid is much finer)
MAX_BAR_ROWS = 30  # rows in a bar chart; tables list the rest
TEXT_LIMIT_CHARS = 600  # sample text shown per document (the stats keep up to 1000)
HISTOGRAM_COLUMNS = ["signal", "drop_reason", "position", "documents", "value_min"]  # what the page reads
CURVE = {"x0": 50, "width": 560, "top": 10, "height": 110}  # what-if curve geometry, shared with the script

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:0 16px 48px;color:#222}
h1{font-size:22px}h2{font-size:18px;border-bottom:1px solid #ccc;padding-top:12px}h3{font-size:15px}
table{border-collapse:collapse;margin:6px 0 12px}td,th{border:1px solid #ddd;padding:2px 8px;text-align:right}
td.l,th.l{text-align:left}th{background:#f3f3f3}figure{margin:8px 0 16px}figcaption{color:#555;font-size:12px}
pre{white-space:pre-wrap;word-break:break-word;background:#f7f7f7;padding:8px;max-height:260px;overflow:auto}
svg text{font:11px system-ui,sans-serif;fill:#333}.note{color:#666;font-size:12px}
nav a{margin-right:10px}input[type=range]{width:560px}output{font-weight:600;margin-left:8px}
""".strip()

SCRIPT = """
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var geometry = data.whatif_curve;
  function fmt(x) { return String(Number(x.toPrecision(6))); }
  data.whatif.forEach(function (rule, i) {
    var box = document.getElementById("whatif-" + i);
    if (!box) { return; }
    var slider = box.querySelector("input");
    var output = box.querySelector("output");
    var svg = box.querySelector("svg");
    var marker = document.createElementNS("http://www.w3.org/2000/svg", "line");
    marker.setAttribute("stroke", "#111111");
    marker.setAttribute("stroke-width", "2");
    marker.setAttribute("y1", String(geometry.top));
    marker.setAttribute("y2", String(geometry.top + geometry.height));
    svg.appendChild(marker);
    var last = Math.max(1, rule.thresholds.length - 1);
    function update() {
      var k = Number(slider.value);
      var x = geometry.x0 + geometry.width * k / last;
      var change = rule.drops[k] - rule.now;
      marker.setAttribute("x1", String(x));
      marker.setAttribute("x2", String(x));
      output.textContent = "dropped when " + rule.signal + " " + rule.drops_when + " " + fmt(rule.thresholds[k]) +
        ": " + rule.drops[k] + " of " + rule.population + " documents (" + (change >= 0 ? "+" : "") + change +
        " vs now)";
    }
    slider.disabled = false;
    slider.addEventListener("input", update);
    update();
    box.setAttribute("data-js", "ready");
  });
}());
""".strip()


def esc(value: Any) -> str:
    """Text for HTML content and attribute values: every crawled string goes through here."""
    return html.escape("" if value is None else str(value), quote=True)


def script_json(value: Any) -> str:
    """JSON for a <script type="application/json"> block: `<`, `>` and `&` escaped, so `</script>` in a
    document cannot end the block; ensure_ascii also escapes U+2028/2029."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def csp_hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode("ascii") + "'"


def fmt_count(n: int | None) -> str:
    return "-" if n is None else f"{n:,}"


def fmt_value(x: float | None) -> str:
    return "-" if x is None else f"{x:.6g}"


def label(reason: str | None) -> str:
    return "kept" if reason is None else reason


def key_label(key: str | None) -> str:
    return "(none)" if key is None else key


# ----------------------------------------------------------------------------------------------- SVG


def bar_chart(rows: Sequence[tuple[str, Sequence[int]]], colors: Sequence[str], width: int = 900) -> str:
    """Horizontal stacked bars, one row per (label, values); the total is written after each bar."""
    rows = list(rows)[:MAX_BAR_ROWS]
    label_px, row_px, bar_px = 280, 20, 14
    biggest = max([sum(values) for _, values in rows] + [1])
    scale = (width - label_px - 80) / biggest
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{row_px * len(rows) + 6}" role="img">']
    for i, (name, values) in enumerate(rows):
        y = i * row_px + 3
        shown = name if len(name) <= 44 else name[:43] + "…"
        parts.append(f'<text x="{label_px - 6}" y="{y + 11}" text-anchor="end">{esc(shown)}</text>')
        x = float(label_px)
        for value, color in zip(values, colors):
            if value > 0:
                w = max(value * scale, 1.0)
                parts.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_px}" fill="{color}"/>')
                x += w
        parts.append(f'<text x="{x + 4:.1f}" y="{y + 11}">{esc(fmt_count(sum(values)))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def legend(names: Sequence[str], colors: Sequence[str]) -> str:
    items = []
    for i, (name, color) in enumerate(zip(names, colors)):
        items.append(f'<rect x="{i * 140}" y="2" width="12" height="12" fill="{color}"/>'
                     f'<text x="{i * 140 + 16}" y="12">{esc(name)}</text>')
    return f'<svg xmlns="http://www.w3.org/2000/svg" width="{140 * len(names)}" height="16">{"".join(items)}</svg>'


def display_bins(histogram: SignalHistogram, p99: float | None, thresholds: Sequence[float]) -> dict[str, Any] | None:
    """HIST_BINS equal-width bars of kept and dropped documents from the smallest value to the 99th percentile
    (a long tail would squash every bar; larger values go into the last bar), widened to show configured
    thresholds that lie inside the data. Each fine bin counts at the smallest value seen in it."""
    rows = (histogram.position != MISSING) & np.isfinite(histogram.value_min)
    if not rows.any():
        return None
    values = histogram.value_min[rows]
    documents = histogram.documents[rows]
    kept = np.array([reason is None for reason in histogram.reasons], dtype=bool)[histogram.reason_code[rows]]
    low, largest = float(values.min()), float(values.max())
    high = p99 if p99 is not None else largest
    for threshold in thresholds:
        if low <= threshold <= largest:
            high = max(high, threshold * 1.05 if threshold > 0 else threshold)
    if high <= low:
        high = largest if largest > low else low + 1.0
    index = np.clip(((values - low) / (high - low) * HIST_BINS).astype(np.int64), 0, HIST_BINS - 1)
    return {"low": low, "high": high, "more": largest > high,
            "kept": np.bincount(index, weights=documents * kept, minlength=HIST_BINS).astype(np.int64).tolist(),
            "dropped": np.bincount(index, weights=documents * ~kept, minlength=HIST_BINS).astype(np.int64).tolist()}


def histogram_svg(bins: dict[str, Any], thresholds: Sequence[float]) -> str:
    """Stacked kept/dropped bars of `display_bins`, with each threshold as a dashed line."""
    width, height, x0, x1, top, bottom = 640, 170, 56, 628, 10, 140
    low, high = bins["low"], bins["high"]
    tallest = max([k + d for k, d in zip(bins["kept"], bins["dropped"])] + [1])
    bar_w = (x1 - x0) / HIST_BINS
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">',
             f'<line x1="{x0}" y1="{bottom}" x2="{x1}" y2="{bottom}" stroke="#999"/>',
             f'<text x="{x0 - 4}" y="{top + 8}" text-anchor="end">{tallest:,}</text>',
             f'<text x="{x0 - 4}" y="{bottom}" text-anchor="end">0</text>']
    for i, (k, d) in enumerate(zip(bins["kept"], bins["dropped"])):
        x = x0 + i * bar_w
        y = float(bottom)
        for count, color in ((k, KEPT_COLOR), (d, DROPPED_COLOR)):
            if count:
                h = max(count / tallest * (bottom - top), 1.0)
                y -= h
                parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(bar_w - 1, 1):.1f}" height="{h:.1f}" '
                             f'fill="{color}"/>')
    for threshold in thresholds:
        if low <= threshold <= high:
            x = x0 + (threshold - low) / (high - low) * (x1 - x0)
            parts.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{bottom}" stroke="{THRESHOLD_COLOR}" '
                         f'stroke-width="2" stroke-dasharray="4 3"/>'
                         f'<text x="{x + 3:.1f}" y="{top + 20}">threshold {esc(fmt_value(threshold))}</text>')
    parts.append(f'<text x="{x0}" y="{bottom + 14}">{esc(fmt_value(low))}</text>'
                 f'<text x="{x1}" y="{bottom + 14}" text-anchor="end">{esc(fmt_value(high))}'
                 f'{"+" if bins["more"] else ""}</text>')
    off = [t for t in thresholds if not low <= t <= high]
    if off:
        parts.append(f'<text x="{(x0 + x1) / 2:.0f}" y="{bottom + 28}" text-anchor="middle">threshold '
                     f'{esc(", ".join(fmt_value(t) for t in off))} outside the plotted range</text>')
    parts.append("</svg>")
    return "".join(parts)


def curve_svg(drops: Sequence[int], configured_index: int) -> str:
    """Documents dropped (y) at each what-if threshold (x: the stops in order), the configured one marked."""
    g = CURVE
    width, height = g["x0"] + g["width"] + 80, g["top"] + g["height"] + 24
    tallest = max(list(drops) + [1])
    last = max(1, len(drops) - 1)
    points = [(g["x0"] + g["width"] * i / last, g["top"] + g["height"] * (1 - n / tallest)) for i, n in enumerate(drops)]
    path = "M" + " L".join(f"{x:.1f} {y:.1f}" for x, y in points)
    x_now = g["x0"] + g["width"] * configured_index / last
    bottom = g["top"] + g["height"]
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">'
            f'<line x1="{g["x0"]}" y1="{bottom}" x2="{g["x0"] + g["width"]}" y2="{bottom}" stroke="#999"/>'
            f'<text x="{g["x0"] - 4}" y="{g["top"] + 8}" text-anchor="end">{tallest:,}</text>'
            f'<text x="{g["x0"] - 4}" y="{bottom}" text-anchor="end">0</text>'
            f'<path d="{path}" fill="none" stroke="{DROPPED_COLOR}" stroke-width="2"/>'
            f'<line x1="{x_now:.1f}" y1="{g["top"]}" x2="{x_now:.1f}" y2="{bottom}" stroke="#999" stroke-dasharray="3 3"/>'
            f'<text x="{x_now + 3:.1f}" y="{bottom + 16}">configured</text></svg>')


# --------------------------------------------------------------------------------------------- tables


def html_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], left: int = 1) -> str:
    """A table whose first `left` columns are text (left-aligned); every cell is escaped."""
    head = "".join(f'<th class="l">{esc(h)}</th>' if i < left else f"<th>{esc(h)}</th>" for i, h in enumerate(headers))
    body = []
    for row in rows:
        cells = "".join(f'<td class="l">{esc(c)}</td>' if i < left else f"<td>{esc(c)}</td>" for i, c in enumerate(row))
        body.append(f"<tr>{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


# ------------------------------------------------------------------------------------------- sections


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
        thresholds = sorted({rule.threshold for rule in rules if rule.signal == name})
        if name not in bars:
            continue
        if signal["stage"] != stage:
            stage = signal["stage"]
            parts.append(f"<h3>{esc(stage or 'other')}</h3>")
        rows = []
        for population in ("kept", "dropped", "all"):
            q = quantiles.get((name, population))
            if q:
                rows.append((population, fmt_count(q["documents"]), fmt_count(q["missing"]),
                             *(fmt_value(q[k]) for k in ["min", *QUANTILE_NAMES, "max"])))
        rule_text = "; ".join(f"dropped when {rule.drops_when} {fmt_value(rule.threshold)} ({rule.config_key})"
                              for rule in rules if rule.signal == name)
        parts.append(f'<figure id="signal-{esc(name)}"><figcaption><b>{esc(name)}</b> {esc(rule_text)}</figcaption>'
                     + histogram_svg(bars[name], thresholds)
                     + html_table(["population", "documents", "missing", "min", *QUANTILE_NAMES, "max"], rows)
                     + "</figure>")
    return "".join(parts)


def section_whatif(whatifs: list[dict[str, Any]]) -> str:
    parts = ['<h2 id="whatif">Threshold what-if</h2><p class="note">For each thresholded rule: how many of the '
             'documents it checked (kept ones and those dropped by it or by a later rule) it would drop at other '
             'thresholds, from the stored signal histograms. Move the slider (needs the page\'s script); the table '
             'shows the same counts at the configured threshold and at quantiles of the signal.</p>']
    for i, w in enumerate(whatifs):
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
        parts.append(
            f'<div id="whatif-{i}" class="whatif"><h3>{esc(w["reason"])}</h3>'
            f'<p>{esc(w["signal"])} {esc(w["drops_when"])} {esc(fmt_value(w["threshold"]))} '
            f'(<code>{esc(w["config_key"])}</code>); dropped now: {esc(fmt_count(w["now"]))}. '
            f'<span class="note">{esc("; ".join(notes))}</span></p>'
            f'<p><label>threshold <input type="range" min="0" max="{len(w["thresholds"]) - 1}" step="1" '
            f'value="{configured}" disabled></label></p><p><output>{esc(static)}</output></p>'
            + curve_svg(w["drops"], configured)
            + html_table(["threshold", "would drop", "vs now"], rows) + "</div>")
    return "".join(parts)


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


def deciding_signals(reason: str | None, signals: dict[str, Any], rules: list[ThresholdRule],
                     stage_of: dict[str, str]) -> list[str]:
    """The columns that decided a drop: the rule's own signals, else every signal of the reason's stage."""
    if reason is None:
        return []
    named = [rule.signal for rule in rules if rule.reason == reason]
    if named:
        return list(dict.fromkeys(named))
    stage = reason_stage(reason)
    if stage in EARLY_STAGES + ("extract",):  # decided from the record itself: status, type, size, charset
        return sorted(name for name in signals if stage_of.get(name) == "extract" or name in RECORD_COLUMNS)
    return sorted(name for name in signals if stage_of.get(name) == stage)


def section_samples(summary: dict[str, Any], tables: dict[str, pa.Table], rules: list[ThresholdRule]) -> str:
    stage_of = {s["column"]: s["stage"] for s in summary["signals"]}
    order = {stage: i for i, stage in enumerate(summary["stages"])}
    samples = tables["samples"].to_pylist()
    reasons = sorted({s["drop_reason"] for s in samples},
                     key=lambda r: (r is not None, order.get(reason_stage(r), len(order)) if r else -1, r or ""))
    parts = ['<h2 id="samples">Samples</h2><p class="note">Up to three documents per outcome: those with the lowest '
             'sha1 of their id (the same on every run). Text is the stored text, cut; signals that decided the drop '
             'come first.</p>']
    for reason in reasons:
        parts.append(f"<h3>{esc(label(reason))}</h3>")
        for sample in (s for s in samples if s["drop_reason"] == reason):
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
            parts.append(
                f'<div class="sample"><p><b>{esc(sample["id"])}</b><br>url: {esc(sample["url"] or "-")}'
                f' · crawl: {esc(sample["crawl"] or "-")} · lang: {esc(sample["lang"] or "-")}'
                f' · {esc(fmt_count(sample["text_chars"]))} characters</p>'
                + (decided if deciding else "")
                + f"<details><summary>all signals</summary>{others}</details>"
                + (f"<pre>{esc(shown)}{esc(f' … ({more:,} more characters)') if more > 0 else ''}</pre>" if shown else "")
                + "</div>")
    return "".join(parts)


# ----------------------------------------------------------------------------------------------- page


def report_numbers(summary: dict[str, Any], tables: dict[str, pa.Table]) -> dict[str, Any]:
    """The counts the page shows, machine-readable (embedded as JSON; tests compare them with OUT/stats/)."""
    samples: dict[str, list[str]] = {}
    for sample in tables["samples"].to_pylist():
        samples.setdefault(label(sample["drop_reason"]), []).append(sample["id"])
    return {
        "documents": summary["documents"], "kept": summary["kept"], "dropped": summary["dropped"],
        "chars": summary["chars"], "kept_chars": summary["kept_chars"], "config_hash": summary["config_hash"],
        "funnel": summary["funnel"], "dropped_by_reason": summary["dropped_by_reason"],
        "dropped_by_stage": summary["dropped_by_stage"],
        "languages": {key_label(r["lang"]): r["documents"] for r in tables["languages"].to_pylist()},
        "crawls": {key_label(r["crawl"]): r["documents"] for r in tables["crawls"].to_pylist()},
        "domains": {key_label(r["domain"]): r["documents"] for r in tables["domains"].to_pylist()},
        "pii": {r["entity"]: {"documents_with_hits": r["documents_with_hits"], "hits": r["hits"]}
                for r in tables["pii"].to_pylist()},
        "clusters": summary.get("clusters"),
        "tokens": summary.get("tokens"),
        "samples": samples,
    }


def signal_views(histograms: Iterable[tuple[str, SignalHistogram]], summary: dict[str, Any], quantiles: pa.Table,
                 config: Any) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """(display bars per signal, what-ifs in rule order) from the signals' histograms taken one at a time, so
    the page costs one signal's histogram in memory, whatever the corpus size."""
    rules = threshold_rules(config)
    reaches = reaches_rule(summary["stages"], decision_rules(config))
    p99 = {r["signal"]: r["p99"] for r in quantiles.to_pylist() if r["population"] == "all"}
    bars: dict[str, dict[str, Any]] = {}
    found: dict[int, dict[str, Any]] = {}
    for signal, histogram in histograms:
        mine = [(i, rule) for i, rule in enumerate(rules) if rule.signal == signal]
        shown = display_bins(histogram, p99.get(signal), sorted({rule.threshold for _, rule in mine}))
        if shown is not None:
            bars[signal] = shown
        for i, rule in mine:
            found[i] = whatif(rule, histogram, reaches, summary["dropped_by_reason"].get(rule.reason, 0))
    return bars, [found[i] for i in sorted(found)]


def render(summary: dict[str, Any], tables: dict[str, pa.Table], bars: dict[str, dict[str, Any]],
           whatifs: list[dict[str, Any]], config: Any) -> str:
    """The whole page from the stats, `signal_views` and the run's config (pure: same inputs, same string)."""
    rules = threshold_rules(config)
    data = {"numbers": report_numbers(summary, tables), "whatif": whatifs, "whatif_curve": CURVE}
    policy = (f"default-src 'none'; script-src {csp_hash(SCRIPT)}; style-src {csp_hash(STYLE)}; img-src 'none'; "
              "base-uri 'none'; form-action 'none'")
    nav = "".join(f'<a href="#{anchor}">{name}</a>' for anchor, name in (
        ("summary", "summary"), ("funnel", "funnel"), ("reasons", "reasons"), ("languages", "languages"),
        ("crawls", "crawls"), ("domains", "domains"), ("signals", "signals"), ("whatif", "what-if"),
        ("clusters", "clusters"), ("pii", "PII"), ("tokens", "tokens"), ("samples", "samples")))
    body = [
        section_summary(summary), section_funnel(summary), section_reasons(tables, summary["documents"]),
        keyed_section("languages", "Languages", tables["languages"].to_pylist(), "lang"),
        keyed_section("crawls", "Crawls", tables["crawls"].to_pylist(), "crawl"),
        keyed_section("domains", "Top domains", tables["domains"].to_pylist(), "domain"),
        section_signals(summary, tables, bars, rules), section_whatif(whatifs), section_clusters(summary, tables),
        section_pii(tables), section_tokens(summary, tables), section_samples(summary, tables, rules),
    ]
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Corpus report</title><style>{STYLE}</style></head><body>"
        f"<h1>Corpus report</h1><nav>{nav}</nav>" + "".join(body)
        + f'<script type="application/json" id="report-data">{script_json(data)}</script>'
        + f"<script>{SCRIPT}</script></body></html>\n"
    )


def write_report(uri: str) -> str:
    """Write OUT/report/index.html (stats are computed first if the output has none); returns its path."""
    out = OutputDir(uri)
    summary = refresh_tokens(out, ensure_stats(out))
    config, _ = read_run_config(out)
    tables = read_stats_tables(out, [name for name in TABLE_SCHEMAS if name != "histograms"])  # streamed below
    bars, whatifs = signal_views(read_signal_histograms(out, HISTOGRAM_COLUMNS), summary, tables["quantiles"], config)
    page = render(summary, tables, bars, whatifs, config)
    out.write_bytes(REPORT, page.encode("utf-8"))
    return out.path(REPORT)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("output", help="a build_corpus or run_stages output directory")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        path = write_report(args.output)
    except (OSError, ValueError) as error:  # no such run, no stats or config in it, unreadable tables
        print(f"report failed: {' '.join(str(error).split())}", file=sys.stderr)
        return 1
    print(f"Wrote {path} (from {args.output}/{STATS_JSON})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
