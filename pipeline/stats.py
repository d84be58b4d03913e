"""Run statistics derived from the output columns (never from side counters), for the report and the terminal.

What a researcher reads under OUT/stats/ (JSON for the summary, Parquet for the tables):
- `stats.json`: totals, the funnel, drops by reason and stage, languages, crawls, PII, dedup clusters, tokens;
- `funnel.parquet`: documents and characters into and out of every stage, in pipeline order (a row whose
  `drop_reason` starts with "<stage>:" leaves at that stage; characters are len(text) of the stored text);
- `reasons`, `languages`, `crawls`, `domains` (the top TOP_DOMAINS hosts of the url), `pii`, `clusters`,
  `largest_clusters`, `tokens` (once OUT/tokens/manifest.json exists);
- `histograms.parquet`: every numeric signal column on one fixed grid of bin edges (three significant
  digits at every scale, so any two runs' tables line up), per drop reason; `quantiles.parquet` from it.
  Storing the exact position of each value against the edges ("on edge k" or "between k and k+1") makes a
  threshold what-if exact for any threshold on the grid and either comparison (`<`, `<=`, `>`, `>=`);
- `samples.parquet`: a few documents per drop reason (lowest sha1 of the id: deterministic), text cut.

One definition, two engines (NeMo Curator / Dolma style: measure once, aggregate anywhere): `partial_counts`
turns a record batch of output rows into a small table of additive counts keyed by (metric, drop_reason,
key, bin); partials merge by summing (min/max for value ranges). The Spark job runs it per partition with
`mapInArrow` and merges with `groupBy`, collecting only the merged counts (top-k for unbounded keys such as
domains); `run_stages` output (and any output without stats) is done with the same functions over pyarrow
batches. `stats_tables` builds every table from the merged counts, whichever engine merged them.
"""
from __future__ import annotations

import hashlib
import heapq
import json
import math
import os
import tempfile
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from dedup.decisions import DEDUP_FIELDS, SIZE_BUCKETS
from filters.url import url_host
from pipeline.config import STAGE_CLASSES, Config, config_hash, load_config
from pipeline.corpus import CORPUS, REJECTED, STATS
from pipeline.extract import EXTRACT_FIELDS
from pipeline.inputs import TEMPORARY_MARK
from pipeline.outputs import CONFIG_FILE, OutputDir
from pipeline.schema import CORE_NAMES

STATS_FORMAT = "corpus-stats v2"  # v2: histograms.parquet has one row group per signal
STATS_JSON = f"{STATS}/stats.json"
RUN_STAGES_DOCUMENTS = "documents.parquet"  # what `jobs/run_stages.py` writes
TOKEN_MANIFEST = "tokens/manifest.json"

# Reason prefixes that are not configured stages but come before the first one, in this order: reading the
# input (warc, input), then the cheap-first cascade that drops pages before trafilatura (pipeline/cascade.py).
EARLY_STAGES = ("warc", "input", "cascade")
SAMPLES_PER_REASON = 3
SAMPLE_TEXT_CHARS = 1000  # a sample's text is cut here; `text_chars` keeps the full length
TOP_DOMAINS = 50
LARGEST_CLUSTERS = 20
QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
LOCAL_MERGE_ROWS = 500_000  # pyarrow path: merge the pending partials once they hold this many rows
CONFIG_HASH_HEADER = "# config_hash = "  # first line of every _config.toml (pipeline.config.to_toml)


# ------------------------------------------------------------------------------------------ bin grid


def _grid() -> np.ndarray:
    """[0, 0.01) in steps of 1e-5, then each decade [10^e, 10^(e+1)) up to 1e9 in 900 steps of 10^(e-2).

    Every edge is k / 10^m or k * 10^m computed exactly then rounded once, so it is the same double as the
    literal a config writes (0.12, 3.0, 100000): thresholds with up to three significant digits are edges.
    """
    edges = [k / 100_000 for k in range(1000)]
    for exponent in range(-2, 9):
        scale = exponent - 2
        edges += [k * 10**scale if scale >= 0 else k / 10**-scale for k in range(100, 1000)]
    edges.append(float(10**9))
    return np.array(edges, dtype=np.float64)


EDGES = _grid()
GRID_DESCRIPTION = ("position 2k = exactly EDGES[k], 2k+1 = strictly between EDGES[k] and EDGES[k+1] (or above the "
                    "last); -1 = below 0; -2 = null/NaN. EDGES: [0, 0.01) step 1e-5, then every decade up to 1e9 "
                    "in 900 steps (3 significant digits)")
BELOW_GRID, MISSING = -1, -2


def positions(values: np.ndarray) -> np.ndarray:
    """Position of each float64 value on the grid (see GRID_DESCRIPTION); order-preserving, exact at edges."""
    index = np.searchsorted(EDGES, values, side="right") - 1
    on_edge = EDGES[np.maximum(index, 0)] == values
    result = np.where(index < 0, BELOW_GRID, 2 * index + (~on_edge).astype(np.int64))
    result[np.isnan(values)] = MISSING
    return result.astype(np.int64)


def threshold_position(threshold: float) -> tuple[int, bool]:
    """(position of the grid edge nearest `threshold`, whether the edge equals it exactly)."""
    index = int(np.clip(np.searchsorted(EDGES, threshold, side="right") - 1, 0, len(EDGES) - 1))
    if EDGES[index] != threshold and index + 1 < len(EDGES) and EDGES[index + 1] - threshold < threshold - EDGES[index]:
        index += 1
    return 2 * index, bool(EDGES[index] == threshold)


# ------------------------------------------------------------------------------------ columns, stages


def signal_columns(schema: pa.Schema) -> list[str]:
    """Numeric and boolean columns the stages added, in schema order (core columns are not signals)."""
    return [f.name for f in schema if f.name not in CORE_NAMES
            and (pa.types.is_integer(f.type) or pa.types.is_floating(f.type) or pa.types.is_boolean(f.type))]


def signal_stage(column: str) -> str:
    """The stage whose `fields` declare a column ("" if none does); PII columns depend on the entities."""
    if column in {f.name for f in EXTRACT_FIELDS}:
        return "extract"
    for name, cls in STAGE_CLASSES.items():
        if column in {f.name for f in cls.fields}:
            return name
    if column.startswith("pii_") and column.endswith("_count"):
        return "pii"
    if column in {f.name for f in DEDUP_FIELDS}:
        return "dedup"
    return ""


def reason_stage(reason: str) -> str:
    return reason.split(":", 1)[0]


def stage_order(config_stages: Sequence[str], observed: Iterable[str]) -> list[str]:
    """Funnel order: EARLY_STAGES found in the data, the configured stages in config order, then stages that
    only appear in the data (e.g. dedup in an output whose config does not name it), sorted by name."""
    observed = set(observed)
    early = [stage for stage in EARLY_STAGES if stage in observed and stage not in config_stages]
    late = sorted(observed - set(config_stages) - set(EARLY_STAGES))
    return early + list(config_stages) + late


# ------------------------------------------------------------------------------------ decision rules


@dataclass(frozen=True)
class ThresholdRule:
    """A drop reason that compares one signal column with one configured number."""

    reason: str  # e.g. "heuristics:gopher_too_few_words"
    signal: str  # the column compared
    drops_when: str  # the document is dropped when `signal drops_when threshold` ("<", "<=", ">", ">=")
    threshold: float
    config_key: str  # where the number is set, e.g. "heuristics.gopher_quality.min_words"
    note: str = ""  # where one number does not tell the whole rule (per-language values, exceptions)


def decision_rules(config: Config) -> list[tuple[str, ThresholdRule | None]]:
    """Every reason the configured stages give, in the order their `decide` checks them, with the threshold
    rule where one column is compared with one number. Mirrors the stages' `decide` (filters/*.py)."""
    rules: list[tuple[str, ThresholdRule | None]] = []

    def add(reason: str, signal: str = "", drops_when: str = "", threshold: float = 0.0, key: str = "",
            note: str = "") -> None:
        rule = ThresholdRule(reason, signal, drops_when, float(threshold), key, note) if signal else None
        rules.append((reason, rule))

    def per_language(table: dict[str, Any]) -> str:
        others = sorted(lang for lang in table if lang != "default")
        return f"per-language values for {', '.join(others)}; the what-if applies one value to all" if others else ""

    stages = config.pipeline.stages
    if "langid" in stages:
        add("langid:too_short")
        add("langid:language_not_kept")
        add("langid:below_threshold", "lang_score", "<=", config.langid.min_score["default"],
            "langid.min_score.default", per_language(config.langid.min_score))
    if "url" in stages:
        add("url:banned_domain")
        add("url:banned_word")
        add("url:soft_banned_words", "url_soft_banned_word_count", ">=", config.url.min_soft_banned_words,
            "url.min_soft_banned_words")
    if "heuristics" in stages:
        h = config.heuristics
        add("heuristics:empty_text")
        if h.c4.enabled:
            add("heuristics:c4_lorem_ipsum")
            add("heuristics:c4_curly_bracket")
            add("heuristics:c4_too_few_sentences", "c4_sentence_count", "<", h.c4.min_sentences,
                "heuristics.c4.min_sentences")
        if h.gopher_quality.enabled:
            gq, key = h.gopher_quality, "heuristics.gopher_quality"
            add("heuristics:gopher_too_few_words", "gopher_word_count", "<", gq.min_words, f"{key}.min_words")
            add("heuristics:gopher_too_many_words", "gopher_word_count", ">", gq.max_words, f"{key}.max_words")
            reason = "heuristics:gopher_mean_word_length_out_of_range"
            add(reason, "gopher_mean_word_length", "<", gq.min_mean_word_length["default"],
                f"{key}.min_mean_word_length.default", per_language(gq.min_mean_word_length))
            add(reason, "gopher_mean_word_length", ">", gq.max_mean_word_length["default"],
                f"{key}.max_mean_word_length.default", per_language(gq.max_mean_word_length))
            for rule, signal, name in (
                ("symbol_ratio_too_high", "gopher_symbol_word_ratio", "max_symbol_to_word_ratio"),
                ("bullet_lines_frac_too_high", "gopher_bullet_lines_frac", "max_bullet_lines_frac"),
                ("ellipsis_lines_frac_too_high", "gopher_ellipsis_lines_frac", "max_ellipsis_lines_frac"),
            ):
                add(f"heuristics:gopher_{rule}", signal, ">", getattr(gq, name), f"{key}.{name}")
            add("heuristics:gopher_alpha_words_frac_too_low", "gopher_alpha_words_frac", "<", gq.min_alpha_words_frac,
                f"{key}.min_alpha_words_frac")
            empty = sorted(lang for lang, words in gq.stop_words.items() if not words)
            add("heuristics:gopher_too_few_stop_words", "gopher_stop_word_count", "<", gq.min_stop_words,
                f"{key}.min_stop_words", f"not checked for {', '.join(empty)} (no stop words)" if empty else "")
        if h.gopher_repetition.enabled:
            for name, limit in vars(h.gopher_repetition).items():
                if name.startswith("max_"):
                    signal = name.removeprefix("max_")
                    add(f"heuristics:gopher_{signal}_too_high", f"gopher_{signal}", ">", limit,
                        f"heuristics.gopher_repetition.{name}")
        if h.fineweb.enabled:
            fw, key = h.fineweb, "heuristics.fineweb"
            add("heuristics:fineweb_line_punct_ratio_too_low", "fineweb_line_punct_ratio", "<", fw.min_line_punct_ratio,
                f"{key}.min_line_punct_ratio", "a ratio of exactly 0 is kept" if fw.line_punct_exclude_zero else "")
            add("heuristics:fineweb_short_line_ratio_too_high", "fineweb_short_line_ratio", ">", fw.max_short_line_ratio,
                f"{key}.max_short_line_ratio")
            add("heuristics:fineweb_char_dup_ratio_too_high", "fineweb_char_dup_ratio", ">", fw.max_char_dup_ratio,
                f"{key}.max_char_dup_ratio")
            add("heuristics:fineweb_newline_word_ratio_too_high", "fineweb_newline_word_ratio", ">",
                fw.max_newline_to_word_ratio, f"{key}.max_newline_to_word_ratio")
        if h.badwords.enabled:
            add("heuristics:badwords_count_too_high", "badwords_count", ">", h.badwords.max_badwords,
                "heuristics.badwords.max_badwords")
    if "quality" in stages:
        if config.quality.mode == "threshold":
            add("quality:below_threshold", "quality_score", "<", config.quality.threshold, "quality.threshold")
        else:
            add("quality:pareto_rejected")
    if "pii" in stages:
        add("pii:too_many_entities", "pii_total_count", ">", config.pii.max_entities_per_doc, "pii.max_entities_per_doc")
    for reason in ("dedup:exact_duplicate", "dedup:near_duplicate", "dedup:too_many_repeated_lines"):
        add(reason)
    return rules


def threshold_rules(config: Config) -> list[ThresholdRule]:
    return [rule for _, rule in decision_rules(config) if rule is not None]


def reaches_rule(stages: Sequence[str], rules: Sequence[tuple[str, Any]]) -> Callable[[str | None, str], bool]:
    """reaches(drop_reason, rule_reason): whether a document with that outcome was checked by the rule.

    Kept documents and documents dropped by a later rule (or stage) were; a reason this module does not know
    counts as checked before every rule of its stage, so it never inflates a what-if.
    """
    stage_index = {stage: i for i, stage in enumerate(stages)}
    rule_index: dict[str, int] = {}
    for i, (reason, _) in enumerate(rules):
        rule_index.setdefault(reason, i)

    def reaches(reason: str | None, rule_reason: str) -> bool:
        if reason is None:
            return True
        mine, theirs = stage_index.get(reason_stage(reason), -1), stage_index.get(reason_stage(rule_reason), -1)
        if mine != theirs:
            return mine > theirs
        return rule_index.get(reason, -1) >= rule_index[rule_reason]

    return reaches


# ------------------------------------------------------------------------- partial counts (engine-free)

PARTIAL_SCHEMA = pa.schema([
    pa.field("metric", pa.string()),  # outcome, lang, crawl, domain, signal, cluster_size, cluster_rep, cluster
    pa.field("drop_reason", pa.string()),  # null = kept
    pa.field("key", pa.string()),  # the language, crawl, domain, signal column or representative id
    pa.field("bin", pa.int64()),  # signal: grid position; cluster metrics: dup_cluster_size; else 0
    pa.field("documents", pa.int64()),
    pa.field("total", pa.int64()),  # signal: sum of an integer signal (null for floats); else characters
    pa.field("value_min", pa.float64()),  # signal only: the smallest and largest value in the bin
    pa.field("value_max", pa.float64()),
])
MERGE_KEYS = ("metric", "drop_reason", "key", "bin")
# Metrics whose keys grow with the corpus: only the top k keys are collected, by documents or by bin.
TOP_K: dict[str, tuple[int, str]] = {"domain": (TOP_DOMAINS, "documents"), "cluster": (LARGEST_CLUSTERS, "bin")}


def _column(table: pa.Table, name: str, type_: pa.DataType) -> pa.ChunkedArray:
    return table[name] if name in table.column_names else pa.chunked_array([pa.nulls(table.num_rows, type_)])


def _counted(metric: str, table: pa.Table) -> pa.Table:
    """Rows of one metric from a (drop_reason, key, bin, chars) table: documents and characters per group."""
    grouped = table.group_by(["drop_reason", "key", "bin"], use_threads=False).aggregate(
        [([], "count_all"), ("chars", "sum")])
    rows = grouped.num_rows
    return pa.table([pa.array([metric] * rows, pa.string()), grouped["drop_reason"], grouped["key"], grouped["bin"],
                     grouped["count_all"], grouped["chars_sum"], pa.nulls(rows, pa.float64()),
                     pa.nulls(rows, pa.float64())], schema=PARTIAL_SCHEMA)


def _signal_counts(table: pa.Table, reason: pa.ChunkedArray, name: str) -> pa.Table:
    column = table[name].combine_chunks()
    integer = pa.types.is_integer(column.type) or pa.types.is_boolean(column.type)
    if pa.types.is_boolean(column.type):
        column = pc.cast(column, pa.int8())
    values = pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)  # nulls -> NaN
    grouped = pa.table({
        "drop_reason": reason, "bin": pa.array(positions(values)),
        "ints": pc.cast(column, pa.int64()) if integer else pa.nulls(len(column), pa.int64()),
        "values": pa.array(values, from_pandas=True),  # NaN -> null: min/max skip them
    }).group_by(["drop_reason", "bin"], use_threads=False).aggregate(
        [([], "count_all"), ("ints", "sum"), ("values", "min"), ("values", "max")])
    rows = grouped.num_rows
    return pa.table([pa.array(["signal"] * rows, pa.string()), grouped["drop_reason"],
                     pa.array([name] * rows, pa.string()), grouped["bin"], grouped["count_all"], grouped["ints_sum"],
                     grouped["values_min"], grouped["values_max"]], schema=PARTIAL_SCHEMA)


def domains(table: pa.Table) -> pa.Array:
    """Host of each row's url: the url stage's `url_host` where it ran, else the same function on `url`
    (the url stage only measures rows that reached it; calling urlsplit again costs ~50 us a row)."""
    measured = _column(table, "url_host", pa.string()).to_pylist()
    urls = _column(table, "url", pa.string()).to_pylist()
    return pa.array([host if host is not None or not url else url_host(url) for host, url in zip(measured, urls)],
                    pa.string())


def partial_counts(batch: pa.RecordBatch | pa.Table, signals: Sequence[str]) -> pa.Table:
    """Additive counts of one batch of output rows (PARTIAL_SCHEMA); merge any number with `merge_partials`."""
    table = pa.Table.from_batches([batch]) if isinstance(batch, pa.RecordBatch) else batch
    rows = table.num_rows
    reason = _column(table, "drop_reason", pa.string())
    chars = pc.fill_null(pc.utf8_length(_column(table, "text", pa.string())), 0).cast(pa.int64())
    zeros = pa.array(np.zeros(rows, dtype=np.int64))
    none = pa.nulls(rows, pa.string())

    def by(key: Any) -> pa.Table:
        return pa.table({"drop_reason": reason, "key": key, "bin": zeros, "chars": chars})

    hosts = domains(table)
    parts = [
        _counted("outcome", by(none)),
        _counted("lang", by(_column(table, "lang", pa.string()))),
        _counted("crawl", by(_column(table, "crawl", pa.string()))),
        _counted("domain", by(hosts)),
    ]
    parts += [_signal_counts(table, reason, name) for name in signals if name in table.column_names]
    if "dup_cluster_size" in table.column_names and "dup_cluster" in table.column_names:
        sizes = pc.cast(table["dup_cluster_size"], pa.int64())
        sized = pc.is_valid(sizes)
        parts.append(_counted("cluster_size", pa.table(
            {"drop_reason": reason, "key": none, "bin": sizes, "chars": chars}).filter(sized)))
        # A cluster's representative carries its own id as dup_cluster: one row per cluster of this run.
        is_rep = pc.fill_null(pc.equal(table["dup_cluster"], table["id"]), False)
        reps = pa.table({"drop_reason": reason, "key": table["id"], "bin": sizes, "chars": chars}).filter(is_rep)
        parts.append(_counted("cluster_rep", reps.set_column(1, "key", pa.nulls(reps.num_rows, pa.string()))))
        parts.append(top_rows(_counted("cluster", reps)))  # top-k of a union = top-k of the parts' top-k
    return pa.concat_tables(parts)


def merge_partials(partials: pa.Table) -> pa.Table:
    """Partials summed per (metric, drop_reason, key, bin); the pyarrow twin of the Spark job's groupBy."""
    merged = partials.group_by(list(MERGE_KEYS), use_threads=False).aggregate(
        [("documents", "sum"), ("total", "sum"), ("value_min", "min"), ("value_max", "max")])
    return pa.table([merged[name] for name in MERGE_KEYS] + [merged["documents_sum"], merged["total_sum"],
                     merged["value_min_min"], merged["value_max_max"]], schema=PARTIAL_SCHEMA)


def _top_order(key: str | None, documents: int, bin_: int, by: str) -> tuple:
    # Largest first, then the key (null first: Spark's ascending order), so both engines pick the same keys.
    return (-(documents if by == "documents" else bin_), key is not None, key or "")


def top_rows(merged: pa.Table) -> pa.Table:
    """`merged` with only the top keys of the TOP_K metrics (summed over drop reasons) left."""
    is_top = pc.is_in(merged["metric"], pa.array(list(TOP_K)))
    kept = [merged.filter(pc.invert(is_top))]
    for metric, (limit, by) in TOP_K.items():
        rows = merged.filter(pc.equal(merged["metric"], metric))
        sizes = rows.group_by("key", use_threads=False).aggregate([("documents", "sum"), ("bin", "max")])
        keys = sizes["key"].to_pylist()
        order = sorted(zip(keys, sizes["documents_sum"].to_pylist(), sizes["bin_max"].to_pylist()),
                       key=lambda entry: _top_order(entry[0], entry[1], entry[2], by))
        chosen = pa.array([key for key, _, _ in order[:limit]], pa.string())
        kept.append(rows.filter(pc.is_in(rows["key"], chosen, skip_nulls=False)))
    return pa.concat_tables(kept)


# --------------------------------------------------------------------------------------------- samples

RECORD_COLUMNS = ("http_status", "content_type")  # core columns that decide read and extract drops
SAMPLE_SCHEMA = pa.schema([
    pa.field("drop_reason", pa.string()),  # null = kept
    pa.field("sample_key", pa.string()),  # first 16 hex digits of sha1(id): the sample order
    pa.field("id", pa.string()),
    pa.field("url", pa.string()),
    pa.field("crawl", pa.string()),
    pa.field("lang", pa.string()),
    pa.field("text_chars", pa.int64()),  # len(text) before the cut
    pa.field("text", pa.string()),  # the first SAMPLE_TEXT_CHARS characters
    pa.field("signals", pa.string()),  # JSON object of the row's non-null stage columns and RECORD_COLUMNS
])


def sample_key(doc_id: str) -> str:
    return hashlib.sha1(doc_id.encode("utf-8")).hexdigest()[:16]


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def sample_candidates(batch: pa.RecordBatch | pa.Table, per_reason: int = SAMPLES_PER_REASON) -> pa.Table:
    """The `per_reason` rows of each drop reason (and of the kept rows) with the lowest (sample key, id)."""
    table = pa.Table.from_batches([batch]) if isinstance(batch, pa.RecordBatch) else batch
    by_reason: dict[str | None, list[tuple[str, str, int]]] = {}
    reasons = _column(table, "drop_reason", pa.string()).to_pylist()
    for index, (doc_id, reason) in enumerate(zip(table["id"].to_pylist(), reasons)):
        by_reason.setdefault(reason, []).append((sample_key(doc_id), doc_id, index))
    chosen = sorted(index for items in by_reason.values() for _, _, index in heapq.nsmallest(per_reason, items))
    rows = []
    for row in table.take(pa.array(chosen, pa.int64())).to_pylist():
        text = row.get("text")
        signals = {name: _json_value(value) for name, value in row.items()
                   if (name not in CORE_NAMES or name in RECORD_COLUMNS) and _json_value(value) is not None}
        rows.append({
            "drop_reason": row.get("drop_reason"), "sample_key": sample_key(row["id"]), "id": row["id"],
            "url": row.get("url"), "crawl": row.get("crawl"), "lang": row.get("lang"),
            "text_chars": len(text) if text is not None else 0,
            "text": text[:SAMPLE_TEXT_CHARS] if text is not None else None,
            "signals": json.dumps(signals, sort_keys=True, allow_nan=False),
        })
    return pa.Table.from_pylist(rows, schema=SAMPLE_SCHEMA)


def pick_samples(candidates: Iterable[dict[str, Any]], per_reason: int = SAMPLES_PER_REASON) -> list[dict[str, Any]]:
    """The final sample from any set of candidates: kept first, then by reason, lowest (sample_key, id)."""
    ordered = sorted(candidates, key=lambda r: (r["drop_reason"] is not None, r["drop_reason"] or "", r["sample_key"],
                                                r["id"]))
    taken: dict[str | None, int] = {}
    chosen = []
    for row in ordered:
        if taken.get(row["drop_reason"], 0) < per_reason:
            taken[row["drop_reason"]] = taken.get(row["drop_reason"], 0) + 1
            chosen.append(row)
    return chosen


# ---------------------------------------------------------------------------------------------- tables

@dataclass(frozen=True)
class SignalHistogram:
    """One signal's rows of histograms.parquet as arrays (no Python object per row)."""

    reasons: list[str | None]  # the distinct drop reasons (None = kept)
    reason_code: np.ndarray  # index into `reasons`, per row
    position: np.ndarray  # grid position, per row
    documents: np.ndarray
    value_min: np.ndarray  # NaN where null
    value_max: np.ndarray  # NaN where null, or where not read


def signal_histograms(histograms: pa.Table, value_max: np.ndarray | None = None) -> dict[str, SignalHistogram]:
    """histograms.parquet split by signal, vectorized (the report reads no value_max: NaN there)."""
    if histograms.num_rows == 0:
        return {}
    signal = histograms["signal"].combine_chunks().dictionary_encode()
    reason = histograms["drop_reason"].combine_chunks().dictionary_encode()
    reasons = reason.dictionary.to_pylist() + [None]
    reason_code = pc.fill_null(reason.indices, len(reasons) - 1).to_numpy()
    signal_code = signal.indices.to_numpy()
    position = histograms["position"].to_numpy()
    documents = histograms["documents"].to_numpy()
    value_min = histograms["value_min"].to_numpy(zero_copy_only=False).astype(np.float64)
    value_max = np.full(len(value_min), np.nan) if value_max is None else value_max
    order = np.argsort(signal_code, kind="stable")
    bounds = np.searchsorted(signal_code[order], np.arange(len(signal.dictionary) + 1))
    result = {}
    for code, name in enumerate(signal.dictionary.to_pylist()):
        rows = order[bounds[code]:bounds[code + 1]]
        result[name] = SignalHistogram(reasons, reason_code[rows], position[rows], documents[rows], value_min[rows],
                                       value_max[rows])
    return result


_COUNT = pa.int64()
FUNNEL_SCHEMA = pa.schema([("stage", pa.string())] + [(f"{what}_{way}", _COUNT) for what in ("documents", "chars")
                                                          for way in ("in", "dropped", "out")])
REASONS_SCHEMA = pa.schema([("stage", pa.string()), ("drop_reason", pa.string()), ("documents", _COUNT),
                            ("chars", _COUNT)])
KEYED_COUNTS = [("documents", _COUNT), ("kept_documents", _COUNT), ("dropped_documents", _COUNT), ("chars", _COUNT),
                ("kept_chars", _COUNT)]
HISTOGRAMS_SCHEMA = pa.schema([("signal", pa.string()), ("drop_reason", pa.string()), ("position", _COUNT),
                               ("edge", pa.float64()), ("documents", _COUNT), ("value_min", pa.float64()),
                               ("value_max", pa.float64()), ("value_total", _COUNT)])
QUANTILE_NAMES = [f"p{round(q * 100):02d}" for q in QUANTILES]
QUANTILES_SCHEMA = pa.schema([("signal", pa.string()), ("stage", pa.string()), ("population", pa.string()),
                              ("documents", _COUNT), ("missing", _COUNT), ("min", pa.float64())]
                             + [(name, pa.float64()) for name in QUANTILE_NAMES] + [("max", pa.float64())])
CLUSTERS_SCHEMA = pa.schema([("dup_cluster_size", _COUNT), ("documents", _COUNT), ("kept_documents", _COUNT),
                             ("dropped_documents", _COUNT), ("clusters", _COUNT)])
LARGEST_CLUSTERS_SCHEMA = pa.schema([("dup_cluster", pa.string()), ("dup_cluster_size", _COUNT)])
PII_SCHEMA = pa.schema([("entity", pa.string()), ("column", pa.string()), ("documents_with_hits", _COUNT),
                        ("hits", _COUNT), ("kept_documents_with_hits", _COUNT), ("kept_hits", _COUNT)])
TOKENS_SCHEMA = pa.schema([("split", pa.string()), ("lang", pa.string()), ("documents", _COUNT), ("tokens", _COUNT)])
TABLE_SCHEMAS = {
    "funnel": FUNNEL_SCHEMA, "reasons": REASONS_SCHEMA,
    "languages": pa.schema([("lang", pa.string())] + KEYED_COUNTS),
    "crawls": pa.schema([("crawl", pa.string())] + KEYED_COUNTS),
    "domains": pa.schema([("domain", pa.string())] + KEYED_COUNTS),
    "histograms": HISTOGRAMS_SCHEMA, "quantiles": QUANTILES_SCHEMA, "clusters": CLUSTERS_SCHEMA,
    "largest_clusters": LARGEST_CLUSTERS_SCHEMA, "pii": PII_SCHEMA, "samples": SAMPLE_SCHEMA, "tokens": TOKENS_SCHEMA,
}


@dataclass(frozen=True)
class RunFacts:
    """What the tables need besides the merged counts."""

    config: Config
    config_hash: str  # as written in the output's _config.toml (the config that made the rows)
    signal_types: dict[str, str]  # signal column -> "int", "float" or "bool", in schema order
    sources: list[list[Any]]  # [relative path, bytes] of the files the stats were taken from
    token_manifest: dict[str, Any] | None


def funnel_rows(outcomes: dict[str | None, tuple[int, int]], stages: Sequence[str]) -> list[dict[str, Any]]:
    """Documents and characters into, dropped at and out of each stage; `outcomes`: reason -> (docs, chars)."""
    documents = sum(n for n, _ in outcomes.values())
    chars = sum(c for _, c in outcomes.values())
    rows = []
    for stage in stages:
        dropped = [value for reason, value in outcomes.items() if reason is not None and reason_stage(reason) == stage]
        docs_dropped, chars_dropped = sum(n for n, _ in dropped), sum(c for _, c in dropped)
        rows.append({"stage": stage, "documents_in": documents, "documents_dropped": docs_dropped,
                     "documents_out": documents - docs_dropped, "chars_in": chars, "chars_dropped": chars_dropped,
                     "chars_out": chars - chars_dropped})
        documents, chars = documents - docs_dropped, chars - chars_dropped
    kept = outcomes.get(None, (0, 0))
    if (documents, chars) != kept:  # every reason's stage is in `stages`, so this cannot differ
        raise AssertionError(f"funnel ends at {documents=} {chars=} != kept {kept}")
    return rows


def _keyed_rows(rows: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    totals: dict[str | None, dict[str, int]] = {}
    for row in rows:
        entry = totals.setdefault(row["key"], {count: 0 for count, _ in KEYED_COUNTS})
        kept = row["drop_reason"] is None
        entry["documents"] += row["documents"]
        entry["chars"] += row["total"] or 0
        entry["kept_documents" if kept else "dropped_documents"] += row["documents"]
        entry["kept_chars"] += (row["total"] or 0) if kept else 0
    ordered = sorted(totals, key=lambda key: _top_order(key, totals[key]["documents"], 0, "documents"))
    return [{name: key} | totals[key] for key in ordered]


def quantile_row(position: np.ndarray, documents: np.ndarray, value_min: np.ndarray,
                 value_max: np.ndarray) -> dict[str, Any]:
    """documents, missing, min, QUANTILES and max of one population's fine bins. Nearest rank: a quantile is
    the smallest value in the fine bin holding its rank, so within one bin (0.1%) of the exact value."""
    missing = int(documents[position == MISSING].sum())
    present = position != MISSING
    # One bin per position (rows of several reasons share one): documents summed, the smallest value kept.
    _, bin_of = np.unique(position[present], return_inverse=True)
    counts = np.bincount(bin_of, weights=documents[present]).astype(np.int64)
    lows = np.full(len(counts), np.inf)
    np.minimum.at(lows, bin_of, value_min[present])
    measured = int(counts.sum())
    row: dict[str, Any] = {"documents": measured + missing, "missing": missing, "min": None, "max": None}
    row |= dict.fromkeys(QUANTILE_NAMES)
    if not measured:
        return row
    cumulative = np.cumsum(counts)
    row["min"], row["max"] = float(lows[0]), float(np.nanmax(value_max[present]))
    for name, q in zip(QUANTILE_NAMES, QUANTILES):
        row[name] = float(lows[np.searchsorted(cumulative, max(1, math.ceil(q * measured)))])
    return row


def token_rows(manifest: dict[str, Any] | None) -> list[dict[str, Any]]:
    """(split, lang, documents, tokens) from a token manifest's `splits` (tokenizer/shards.py)."""
    if not manifest:
        return []
    return [{"split": split, "lang": lang, "documents": counts["documents"], "tokens": counts["tokens"]}
            for split, info in sorted(manifest["splits"].items())
            for lang, counts in sorted(info.get("by_language", {}).items())]


def token_summary(manifest: dict[str, Any] | None) -> dict[str, Any] | None:
    if not manifest:
        return None
    splits = {split: {"documents": info["documents"], "tokens": info["tokens"], "shards": info.get("shards")}
              for split, info in sorted(manifest["splits"].items())}
    return {"splits": splits, "tokens": sum(s["tokens"] for s in splits.values()),
            "documents": sum(s["documents"] for s in splits.values()),
            "tokenizer": (manifest.get("tokenizer") or {}).get("path")}


def pii_entity(column: str) -> str:
    return column.removeprefix("pii_").removesuffix("_count").upper()


def histogram_table(signal_rows: pa.Table, signal_order: Sequence[str]) -> pa.Table:
    """histograms.parquet from merged signal rows: by signal (schema order), kept first, then reason, position."""
    rank = {name: i for i, name in enumerate(signal_order)}
    names = signal_rows["key"].to_pylist()
    ranks = pa.array([rank.get(name, len(rank)) for name in names], pa.int64())
    position = signal_rows["bin"].to_numpy()
    edge = pa.array(EDGES[np.maximum(position, 0) // 2], mask=position < 0)
    table = pa.table({"_rank": ranks, "signal": signal_rows["key"], "drop_reason": signal_rows["drop_reason"],
                      "position": signal_rows["bin"], "edge": edge, "documents": signal_rows["documents"],
                      "value_min": signal_rows["value_min"], "value_max": signal_rows["value_max"],
                      "value_total": signal_rows["total"]})
    table = table.sort_by([("_rank", "ascending"), ("signal", "ascending"), ("drop_reason", "ascending", "at_start"),
                           ("position", "ascending")])
    return table.drop_columns(["_rank"]).cast(HISTOGRAMS_SCHEMA)


def quantile_rows(histograms: pa.Table) -> list[dict[str, Any]]:
    """Quantiles of every signal for kept, dropped and all documents, from histograms.parquet."""
    rows = []
    value_max = histograms["value_max"].to_numpy(zero_copy_only=False).astype(np.float64)
    for signal, h in signal_histograms(histograms, value_max).items():
        kept = np.array([reason is None for reason in h.reasons], dtype=bool)[h.reason_code]
        for population, member in (("kept", kept), ("dropped", ~kept), ("all", np.ones_like(kept))):
            rows.append({"signal": signal, "stage": signal_stage(signal), "population": population}
                        | quantile_row(h.position[member], h.documents[member], h.value_min[member], h.value_max[member]))
    return rows


def pii_rows(histograms: pa.Table) -> list[dict[str, Any]]:
    """Documents with hits and hits per PII entity (the sum of its count column), all and kept."""
    rows = []
    for signal in dict.fromkeys(histograms["signal"].to_pylist()):
        if signal_stage(signal) != "pii":
            continue
        hit = histograms.filter(pc.and_(pc.equal(histograms["signal"], signal), pc.greater(histograms["position"], 0)))
        kept = hit.filter(pc.is_null(hit["drop_reason"]))
        rows.append({"entity": pii_entity(signal), "column": signal,
                     "documents_with_hits": pc.sum(hit["documents"]).as_py() or 0,
                     "hits": pc.sum(hit["value_total"]).as_py() or 0,
                     "kept_documents_with_hits": pc.sum(kept["documents"]).as_py() or 0,
                     "kept_hits": pc.sum(kept["value_total"]).as_py() or 0})
    return rows


def cluster_rows(by_metric: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Per dup_cluster_size: documents (kept, dropped) and clusters whose representative is in this run."""
    clusters: dict[int, dict[str, int]] = {}

    def entry(size: int) -> dict[str, int]:
        return clusters.setdefault(size, {"documents": 0, "kept_documents": 0, "dropped_documents": 0, "clusters": 0})

    for row in by_metric.get("cluster_size", []):
        entry(row["bin"])["documents"] += row["documents"]
        entry(row["bin"])["kept_documents" if row["drop_reason"] is None else "dropped_documents"] += row["documents"]
    for row in by_metric.get("cluster_rep", []):
        entry(row["bin"])["clusters"] += row["documents"]
    return [{"dup_cluster_size": size} | clusters[size] for size in sorted(clusters)]


def stats_tables(merged: pa.Table, candidates: Iterable[dict[str, Any]],
                 facts: RunFacts) -> tuple[dict[str, Any], dict[str, pa.Table]]:
    """(stats.json, tables) from merged counts (after `top_rows`) and sample candidates, for either engine.

    Signal rows (the bulk: up to signals x reasons x grid positions) stay columnar; the rest are few."""
    is_signal = pc.equal(merged["metric"], "signal")
    by_metric: dict[str, list[dict[str, Any]]] = {}
    for row in merged.filter(pc.invert(is_signal)).to_pylist():
        by_metric.setdefault(row["metric"], []).append(row)
    outcomes: dict[str | None, tuple[int, int]] = {}
    for row in by_metric.get("outcome", []):
        documents, chars = outcomes.get(row["drop_reason"], (0, 0))
        outcomes[row["drop_reason"]] = (documents + row["documents"], chars + (row["total"] or 0))
    stages = stage_order(facts.config.pipeline.stages, {reason_stage(r) for r in outcomes if r is not None})
    stage_index = {stage: i for i, stage in enumerate(stages)}
    reasons = sorted((r for r in outcomes if r is not None), key=lambda r: (stage_index[reason_stage(r)], r))
    histograms = histogram_table(merged.filter(is_signal), list(facts.signal_types))
    largest = sorted(by_metric.get("cluster", []), key=lambda r: _top_order(r["key"], r["documents"], r["bin"], "bin"))
    tables: dict[str, Any] = {
        "funnel": funnel_rows(outcomes, stages),
        "reasons": [{"stage": reason_stage(r), "drop_reason": r, "documents": outcomes[r][0], "chars": outcomes[r][1]}
                    for r in reasons],
        "languages": _keyed_rows(by_metric.get("lang", []), "lang"),
        "crawls": _keyed_rows(by_metric.get("crawl", []), "crawl"),
        "domains": _keyed_rows(by_metric.get("domain", []), "domain"),
        "histograms": histograms,
        "quantiles": quantile_rows(histograms),
        "clusters": cluster_rows(by_metric),
        "largest_clusters": [{"dup_cluster": r["key"], "dup_cluster_size": r["bin"]} for r in largest[:LARGEST_CLUSTERS]],
        "pii": pii_rows(histograms),
        "samples": pick_samples(candidates),
        "tokens": token_rows(facts.token_manifest),
    }
    clusters = tables["clusters"]
    kept_documents, kept_chars = outcomes.get(None, (0, 0))
    summary = {
        "format": STATS_FORMAT,
        "config_hash": facts.config_hash,
        "sources": facts.sources,
        "bin_grid": GRID_DESCRIPTION,
        "documents": sum(n for n, _ in outcomes.values()),
        "kept": kept_documents,
        "dropped": sum(n for r, (n, _) in outcomes.items() if r is not None),
        "chars": sum(c for _, c in outcomes.values()),
        "kept_chars": kept_chars,
        "stages": stages,
        "funnel": tables["funnel"],
        "dropped_by_reason": {r: outcomes[r][0] for r in sorted(reasons)},
        "dropped_by_stage": {s: sum(outcomes[r][0] for r in reasons if reason_stage(r) == s) for s in stages},
        "languages": tables["languages"],
        "crawls": tables["crawls"],
        "signals": [{"column": name, "stage": signal_stage(name), "type": kind} for name, kind in facts.signal_types.items()],
        "pii": tables["pii"],
        "clusters": None if not clusters else {
            "documents_in_clusters": sum(r["documents"] for r in clusters if r["dup_cluster_size"] >= 2),
            "clusters": sum(r["clusters"] for r in clusters),
            "clusters_by_size": _size_buckets({r["dup_cluster_size"]: r["clusters"] for r in clusters}),
            "largest": tables["largest_clusters"][:1],
        },
        "tokens": token_summary(facts.token_manifest),
        "tables": sorted(f"{name}.parquet" for name in TABLE_SCHEMAS),
    }
    return summary, {name: value if isinstance(value, pa.Table) else
                     pa.Table.from_pylist(value, schema=TABLE_SCHEMAS[name]) for name, value in tables.items()}


def _size_buckets(clusters_by_size: dict[int, int]) -> list[dict[str, Any]]:
    """Clusters per size bucket, labelled as dedup's own summary (dedup.decisions.SIZE_BUCKETS); a list,
    so the buckets keep their order in JSON."""
    buckets = []
    for low, high in SIZE_BUCKETS:
        label = f"{low}" if low == high else (f"{low}+" if high is None else f"{low}-{high}")
        count = sum(n for size, n in clusters_by_size.items() if size >= low and (high is None or size <= high))
        buckets.append({"sizes": label, "clusters": count})
    return buckets


# --------------------------------------------------------------------------------------------- what-if

MAX_WHATIF_STOPS = 200  # slider positions per rule: bounded whatever the corpus size
WHATIF_TABLE_QUANTILES = (0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99)


def whatif(rule: ThresholdRule, histogram: SignalHistogram, reaches: Callable[[str | None, str], bool],
           now: int) -> dict[str, Any]:
    """How many documents `rule` would drop at other thresholds, from its signal's histogram. Only documents
    the rule checked count (kept ones and those dropped by it or later rules), so at the configured
    threshold the answer is the rule's actual drops (single-valued, on-grid thresholds).

    Thresholds are grid edges where the count can change (at most MAX_WHATIF_STOPS of them, evenly picked),
    the configured one and the population's quantiles (`table_indices`: the ones the static table shows)."""
    checked = np.array([reaches(reason, rule.reason) for reason in histogram.reasons], dtype=bool)
    rows = checked[histogram.reason_code] & (histogram.position != MISSING)
    occupied, inverse = np.unique(histogram.position[rows], return_inverse=True)
    per_position = np.bincount(inverse, weights=histogram.documents[rows], minlength=len(occupied))
    cumulative = np.cumsum(per_position).astype(np.int64)
    population = int(cumulative[-1]) if len(cumulative) else 0
    at, exact = threshold_position(rule.threshold)
    last = len(EDGES) - 1
    edges = np.maximum(occupied, 0) // 2
    candidates = np.unique(np.clip(np.concatenate([edges, edges + 1, [at // 2]]), 0, last))
    table = {at // 2}
    for q in WHATIF_TABLE_QUANTILES:
        if population:
            table.add(int(edges[np.searchsorted(cumulative, max(1, math.ceil(q * population)))]))
    if len(candidates) > MAX_WHATIF_STOPS:
        candidates = candidates[np.round(np.linspace(0, len(candidates) - 1, MAX_WHATIF_STOPS)).astype(np.int64)]
    ordered = np.unique(np.concatenate([candidates, sorted(table)])).astype(np.int64)

    def below(inclusive: bool) -> np.ndarray:
        """Documents whose position is below (or at) each stop's edge position."""
        index = np.searchsorted(occupied, 2 * ordered, side="right" if inclusive else "left")
        return np.where(index > 0, cumulative[np.maximum(index - 1, 0)] if len(cumulative) else 0, 0)

    drops = {"<": lambda: below(False), "<=": lambda: below(True), ">": lambda: population - below(True),
             ">=": lambda: population - below(False)}[rule.drops_when]()
    stops = ordered.tolist()
    return {
        "reason": rule.reason, "signal": rule.signal, "drops_when": rule.drops_when, "threshold": rule.threshold,
        "threshold_on_grid": exact, "config_key": rule.config_key, "note": rule.note, "now": now,
        "population": population, "thresholds": [float(EDGES[e]) for e in stops], "drops": [int(d) for d in drops],
        "configured_index": stops.index(at // 2), "table_indices": [stops.index(e) for e in sorted(table)],
    }


# --------------------------------------------------------------------------------------------- engines


def _signal_types(schema: pa.Schema) -> dict[str, str]:
    kinds = {}
    for name in signal_columns(schema):
        type_ = schema.field(name).type
        kinds[name] = "bool" if pa.types.is_boolean(type_) else ("int" if pa.types.is_integer(type_) else "float")
    return kinds


def source_files(out: OutputDir) -> list[list[Any]]:
    """[relative path, bytes] of the row files: corpus/ and rejected/ parts, or run_stages' documents.parquet."""
    if out.exists(RUN_STAGES_DOCUMENTS) and not out.exists(CORPUS):
        return [[RUN_STAGES_DOCUMENTS, out.fs.get_file_info(out.path(RUN_STAGES_DOCUMENTS)).size]]
    files = []
    for folder in (CORPUS, REJECTED):
        if out.exists(folder):
            for info in out.fs.get_file_info(pafs.FileSelector(out.path(folder), recursive=False)):
                if info.type == pafs.FileType.File and info.base_name.endswith(".parquet") and TEMPORARY_MARK not in info.base_name:
                    files.append([f"{folder}/{info.base_name}", info.size])
    return sorted(files)


def read_token_manifest(out: OutputDir) -> dict[str, Any] | None:
    return out.read_json(TOKEN_MANIFEST) if out.exists(TOKEN_MANIFEST) else None


def read_run_config(out: OutputDir) -> tuple[Config, str]:
    """(the run's resolved config, its hash as written) from OUT/_config.toml; checks no model or list file.

    The hash comes from the file's header, not from rehashing: defaults added to the code after the run
    would change a recomputed hash, not the run.
    """
    if not out.exists(CONFIG_FILE):
        raise FileNotFoundError(f"{out.uri}: no {CONFIG_FILE}; statistics need the run's config")
    with out.fs.open_input_stream(out.path(CONFIG_FILE)) as stream:
        text = stream.read()
    header = text.decode("utf-8").split("\n", 1)[0]
    if not header.startswith(CONFIG_HASH_HEADER):
        raise ValueError(f"{out.uri}/{CONFIG_FILE}: first line {header!r} is not '{CONFIG_HASH_HEADER}<hash>'")
    with tempfile.NamedTemporaryFile("wb", suffix=".toml", delete=False) as handle:
        handle.write(text)
    try:
        return load_config(handle.name), header.removeprefix(CONFIG_HASH_HEADER)
    finally:
        os.unlink(handle.name)


def write_stats_tables(out: OutputDir, summary: dict[str, Any], tables: dict[str, pa.Table]) -> None:
    """Tables first, stats.json last: its presence says the set is complete. histograms.parquet holds one row
    group per signal, so readers (`read_signal_histograms`) hold one signal's rows at a time."""
    for name, table in tables.items():
        with out.parquet_writer(f"{STATS}/{name}.parquet", table.schema) as writer:
            if name != "histograms":
                writer.write_table(table)
                continue
            for rows in signal_runs(table):
                writer.write_table(rows, row_group_size=rows.num_rows)
    out.write_json(STATS_JSON, summary)


def signal_runs(histograms: pa.Table) -> Iterator[pa.Table]:
    """The table's consecutive runs of one signal (histograms.parquet is sorted by signal)."""
    names = histograms["signal"].to_pylist()
    start = 0
    for end in range(1, len(names) + 1):
        if end == len(names) or names[end] != names[start]:
            yield histograms.slice(start, end - start)
            start = end


def read_signal_histograms(out: OutputDir, columns: Sequence[str]) -> Iterator[tuple[str, SignalHistogram]]:
    """histograms.parquet one signal (one row group) at a time: memory bounded by the largest signal's rows.

    `columns` must include signal, drop_reason, position, documents and value_min."""
    parquet = pq.ParquetFile(out.path(f"{STATS}/histograms.parquet"), filesystem=out.fs)
    for index in range(parquet.metadata.num_row_groups):
        group = parquet.read_row_group(index, columns=list(columns))
        signals = signal_histograms(group)
        if len(signals) != 1:
            raise ValueError(f"{out.uri}/{STATS}/histograms.parquet row group {index} holds {len(signals)} signals, "
                             "not 1: rewrite the stats (delete stats/stats.json and rerun the report)")
        yield next(iter(signals.items()))


def write_stats(spark: Any, out: OutputDir, config: Config) -> dict[str, Any]:
    """OUT/stats/ from corpus/ and rejected/ with Spark: `partial_counts` per partition, merged by groupBy;
    only merged counts (top-k for domains and clusters) and a few samples per reason reach the driver.

    pyspark is imported here, not at module level: the rest of this module is engine-free.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import from_arrow_schema, to_arrow_schema

    if not source_files(out):  # no input gave a row: empty tables (Spark cannot read zero Parquet files)
        facts = RunFacts(config, config_hash(config), {}, [], read_token_manifest(out))
        summary, tables = stats_tables(PARTIAL_SCHEMA.empty_table(), [], facts)
        write_stats_tables(out, summary, tables)
        return summary
    frame = spark.read.option("mergeSchema", "true").parquet(out.spark_path(CORPUS, reading=True),
                                                             out.spark_path(REJECTED, reading=True))
    signal_types = _signal_types(to_arrow_schema(frame.schema))
    signals = list(signal_types)

    def partials(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            yield from partial_counts(batch, signals).to_batches()

    def candidates(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            yield from sample_candidates(batch).to_batches()

    merged = frame.mapInArrow(partials, from_arrow_schema(PARTIAL_SCHEMA)).groupBy(*MERGE_KEYS).agg(
        F.sum("documents").alias("documents"), F.sum("total").alias("total"),
        F.min("value_min").alias("value_min"), F.max("value_max").alias("value_max")).persist()  # read 3 times
    parts = [merged.filter(~F.col("metric").isin(list(TOP_K)))]
    for metric, (limit, by) in TOP_K.items():
        rows = merged.filter(F.col("metric") == metric)
        size = F.sum("documents") if by == "documents" else F.max("bin")
        top = (rows.groupBy("key").agg(size.alias("_size")).orderBy(F.desc("_size"), F.asc_nulls_first("key"))
               .limit(limit).select(F.col("key").alias("_key")))
        parts.append(rows.join(top, rows["key"].eqNullSafe(F.col("_key")), "left_semi"))
    union = parts[0]
    for part in parts[1:]:
        union = union.unionByName(part)
    collected = union.toArrow().select(PARTIAL_SCHEMA.names).cast(PARTIAL_SCHEMA)  # columnar: no Row per count
    merged.unpersist()
    order = Window.partitionBy("drop_reason").orderBy("sample_key", "id")
    samples = (frame.mapInArrow(candidates, from_arrow_schema(SAMPLE_SCHEMA))
               .withColumn("_rank", F.row_number().over(order)).filter(F.col("_rank") <= SAMPLES_PER_REASON)
               .drop("_rank").collect())
    facts = RunFacts(config, config_hash(config), signal_types, source_files(out), read_token_manifest(out))
    summary, tables = stats_tables(top_rows(collected), [row.asDict() for row in samples], facts)
    write_stats_tables(out, summary, tables)
    return summary


def write_stats_local(out: OutputDir, config: Config, hash_: str, batch_rows: int = 8192) -> dict[str, Any]:
    """OUT/stats/ with pyarrow alone, batch by batch: for run_stages output and outputs without stats."""
    sources = source_files(out)
    if not sources:
        raise FileNotFoundError(f"{out.uri}: no {CORPUS}/, {REJECTED}/ or {RUN_STAGES_DOCUMENTS} to take statistics of")
    files = [pq.ParquetFile(out.path(path), filesystem=out.fs) for path, _ in sources]
    schemas = [f.schema_arrow for f in files]
    signal_types: dict[str, str] = {}
    for schema in schemas:
        signal_types |= {k: v for k, v in _signal_types(schema).items() if k not in signal_types}
    pending: list[pa.Table] = []
    candidates: list[dict[str, Any]] = []
    for parquet in files:
        for batch in parquet.iter_batches(batch_size=batch_rows):
            pending.append(partial_counts(batch, list(signal_types)))
            candidates = pick_samples(candidates + sample_candidates(batch).to_pylist())
            if sum(t.num_rows for t in pending) > LOCAL_MERGE_ROWS:
                pending = [merge_partials(pa.concat_tables(pending))]
    merged = merge_partials(pa.concat_tables(pending)) if pending else PARTIAL_SCHEMA.empty_table()
    facts = RunFacts(config, hash_, signal_types, sources, read_token_manifest(out))
    summary, tables = stats_tables(top_rows(merged), candidates, facts)
    write_stats_tables(out, summary, tables)
    return summary


def ensure_stats(out: OutputDir) -> dict[str, Any]:
    """stats.json of an output, recomputed with pyarrow when missing or older than the row files."""
    if out.exists(STATS_JSON):
        summary = out.read_json(STATS_JSON)
        if summary.get("format") == STATS_FORMAT and summary.get("sources") == source_files(out):
            return summary
    return write_stats_local(out, *read_run_config(out))


def read_stats_tables(out: OutputDir, names: Iterable[str] = tuple(TABLE_SCHEMAS)) -> dict[str, pa.Table]:
    return {name: out.read_parquet(f"{STATS}/{name}.parquet") for name in names}


def refresh_tokens(out: OutputDir, summary: dict[str, Any]) -> dict[str, Any]:
    """Bring the token counts up to date with OUT/tokens/manifest.json, which tokenize_corpus writes after the
    corpus job: rewrites stats/tokens.parquet and stats.json's "tokens", nothing else (bounded work)."""
    manifest = read_token_manifest(out)
    tokens = token_summary(manifest)
    if summary.get("tokens") == tokens:
        return summary
    with out.parquet_writer(f"{STATS}/tokens.parquet", TOKENS_SCHEMA) as writer:
        writer.write_table(pa.Table.from_pylist(token_rows(manifest), schema=TOKENS_SCHEMA))
    summary = summary | {"tokens": tokens}
    out.write_json(STATS_JSON, summary)
    return summary
