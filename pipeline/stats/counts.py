"""Partial counts (engine-free): a record batch of output rows -> a small table of additive counts keyed by
(metric, drop_reason, key, bin), merged by summing (min/max for value ranges); and the sample candidates.

The one definition every path runs: the corpus job's commit tasks per slice they write (pipeline/stats/parts.py),
pyarrow over batches of written files (pipeline/stats/store.py).
"""
from __future__ import annotations

import hashlib
import heapq
import json
import math
from typing import Any, Iterable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from filters.url import url_host
from pipeline.registry import STAGE_CLASSES
from pipeline.schema import CORE_NAMES
from pipeline.stats.grid import positions
from pipeline.stats.rules import signal_columns

SAMPLES_PER_REASON = 3
SAMPLE_TEXT_CHARS = 1000  # a sample's text is cut here; `text_chars` keeps the full length
TOP_DOMAINS = 50
LARGEST_CLUSTERS = 20
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
# Signals the stages declare language-dependent (`DocumentStage.per_language_fields`): also histogrammed per
# language, as signal "<name>@<lang>".
PER_LANGUAGE_SIGNALS = tuple(name for stage in STAGE_CLASSES.values() for name in stage.per_language_fields)
# Metrics whose keys grow with the corpus: only the top k keys are collected, by documents or by bin.
TOP_K: dict[str, tuple[int, str]] = {"domain": (TOP_DOMAINS, "documents"), "cluster": (LARGEST_CLUSTERS, "bin")}


def signal_types(schema: pa.Schema) -> dict[str, str]:
    """"bool", "int" or "float" of every signal column of `schema`, in schema order."""
    kinds = {}
    for name in signal_columns(schema):
        type_ = schema.field(name).type
        kinds[name] = "bool" if pa.types.is_boolean(type_) else ("int" if pa.types.is_integer(type_) else "float")
    return kinds


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


def benchmark_counts(table: pa.Table, reason: pa.ChunkedArray, chars: pa.Array) -> pa.Table:
    """Documents (and characters) per benchmark the decontam stage matched in them: `decontam_benchmarks` holds
    the matched names, comma-joined; a document counts once for each."""
    names = pc.split_pattern(pc.cast(table["decontam_benchmarks"], pa.string()).combine_chunks(), ",")
    parents = pc.list_parent_indices(names)
    rows = pa.table({"drop_reason": pc.take(reason, parents), "key": pc.list_flatten(names),
                     "bin": pa.array(np.zeros(len(parents), dtype=np.int64)), "chars": pc.take(chars, parents)})
    return _counted("benchmark", rows)


def per_language_signal_counts(table: pa.Table, reason: pa.ChunkedArray, name: str) -> list[pa.Table]:
    """Histograms of a signal whose scale depends on the language (a perplexity under each language's own
    model), one per language that has a value (a language without a model has none): signal "<name>@<lang>"."""
    langs = _column(table, "lang", pa.string())
    parts = []
    for lang in sorted(pc.unique(pc.drop_null(langs.filter(pc.is_valid(table[name])))).to_pylist()):
        rows = pc.fill_null(pc.equal(langs, lang), False)
        one = pa.table({f"{name}@{lang}": table[name].filter(rows)})
        parts.append(_signal_counts(one, reason.filter(rows), f"{name}@{lang}"))
    return parts


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
    for name in PER_LANGUAGE_SIGNALS:
        if name in table.column_names:
            parts += per_language_signal_counts(table, reason, name)
    if "decontam_benchmarks" in table.column_names:
        parts.append(benchmark_counts(table, reason, chars))
    if "perplexity_bucket" in table.column_names:
        bucket = _column(table, "perplexity_bucket", pa.string())
        key = pc.binary_join_element_wise(pc.fill_null(_column(table, "lang", pa.string()), "(none)"), bucket, "/")
        parts.append(_counted("perplexity_bucket", by(key).filter(pc.is_valid(bucket))))
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


def top_order(key: str | None, documents: int, bin_: int, by: str) -> tuple:
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
                       key=lambda entry: top_order(entry[0], entry[1], entry[2], by))
        chosen = pa.array([key for key, _, _ in order[:limit]], pa.string())
        kept.append(rows.filter(pc.is_in(rows["key"], chosen, skip_nulls=False)))
    return pa.concat_tables(kept)


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
