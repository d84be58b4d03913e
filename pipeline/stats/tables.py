"""The statistics tables (their schemas) and `stats.json`, built from merged counts whichever engine merged
them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dedup.decisions import SIZE_BUCKETS
from pipeline.config import Config
from pipeline.stats.counts import LARGEST_CLUSTERS, SAMPLE_SCHEMA, top_order, pick_samples
from pipeline.stats.grid import EDGES, GRID_DESCRIPTION, MISSING, signal_histograms
from pipeline.stats.rules import reason_stage, signal_stage, stage_order

STATS_FORMAT = "corpus-stats v3"  # v2: histograms.parquet has one row group per signal; v3: benchmarks, buckets
QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
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
    "benchmarks": pa.schema([("benchmark", pa.string())] + KEYED_COUNTS),
    "perplexity_buckets": pa.schema([("lang", pa.string()), ("bucket", pa.string())] + KEYED_COUNTS),
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
    ordered = sorted(totals, key=lambda key: top_order(key, totals[key]["documents"], 0, "documents"))
    return [{name: key} | totals[key] for key in ordered]


def bucket_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Perplexity buckets per language (keys "<lang>/<bucket>"), by language, then head, middle, tail."""
    order = {"head": 0, "middle": 1, "tail": 2}
    split = []
    for row in _keyed_rows(rows, "key"):
        lang, bucket = row.pop("key").split("/", 1)
        split.append({"lang": lang, "bucket": bucket} | row)
    return sorted(split, key=lambda row: (row["lang"], order.get(row["bucket"], 3), row["bucket"]))


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
    largest = sorted(by_metric.get("cluster", []), key=lambda r: top_order(r["key"], r["documents"], r["bin"], "bin"))
    tables: dict[str, Any] = {
        "funnel": funnel_rows(outcomes, stages),
        "reasons": [{"stage": reason_stage(r), "drop_reason": r, "documents": outcomes[r][0], "chars": outcomes[r][1]}
                    for r in reasons],
        "languages": _keyed_rows(by_metric.get("lang", []), "lang"),
        "crawls": _keyed_rows(by_metric.get("crawl", []), "crawl"),
        "domains": _keyed_rows(by_metric.get("domain", []), "domain"),
        "benchmarks": _keyed_rows(by_metric.get("benchmark", []), "benchmark"),
        "perplexity_buckets": bucket_rows(by_metric.get("perplexity_bucket", [])),
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
        "benchmarks": tables["benchmarks"],
        "perplexity_buckets": tables["perplexity_buckets"],
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
