"""The dedup stage's output contract, shared by the single-machine and the Spark paths.

Decisions are keyed by `id` (join by id, never by position), one row per participating document (input
rows whose `drop_reason` is null):
- `text`: the text after repeated-line removal for kept documents; the input text, unchanged, for
  documents this stage drops (so rejected rows show what was dropped);
- `dup_cluster`: the id of the cluster's representative (the kept document, or an indexed document of a
  previous run) for every member of a cluster of two or more, the representative included; null for a
  document in no cluster (and for documents with no letters, which take no part in exact/near dedup);
- `dup_cluster_size` (int32): documents in the cluster, this run's plus the indexed documents it was
  matched to; 1 for a document in no cluster;
- `dedup_drop_reason`: "dedup:exact_duplicate" (normalized text equal to the representative's, or to an
  indexed document's), "dedup:near_duplicate" (in a near-duplicate cluster whose representative is
  another document), "dedup:too_many_repeated_lines" (more than `max_removed_char_frac` of its
  characters were repeated lines), or null = kept;
- `repeated_lines_removed`, `repeated_chars_removed` (int32): what repeated-line removal took out of a
  document that survived exact and near dedup; null for documents dropped as duplicates (not measured).

Representative of a cluster: an indexed document first (it is already in a previous corpus; lowest id
among them), else the highest `quality_score` (null/NaN ranks last), then the lowest `id` (string order
= UTF-8 byte order = code point order, the same in Python and Spark). No dependence on input order or
partitioning.
"""
from __future__ import annotations

import math
from collections import Counter
from typing import Any

import pyarrow as pa

from contract.stage import Rule

DEDUP_STAGE = "dedup"
# Decided by the dedup engines (dedup/local.py, pipeline/spark/dedup.py) over the whole run, not per document.
DEDUP_RULES = (
    Rule("exact_duplicate", "the normalized text equals a kept document's (or an indexed one's)"),
    Rule("near_duplicate", "in a MinHash near-duplicate cluster whose kept representative is another document"),
    Rule("too_many_repeated_lines", "more than dedup.max_removed_char_frac of its characters were lines "
         "repeated across the corpus"),
    # The corpus job's own: a row whose id an earlier input already had (the same record in two files);
    # the first input by path keeps it, as ids key every join of the stage.
    Rule("duplicate_id", "the same record id as a row of an earlier input (by path)"),
)
REASON_EXACT, REASON_NEAR, REASON_LINES, REASON_DUPLICATE_ID = (f"{DEDUP_STAGE}:{rule.name}" for rule in DEDUP_RULES)

# Signal columns the stage adds to the document schema (pipeline.schema.document_schema).
DEDUP_FIELDS: tuple[pa.Field, ...] = (
    pa.field("dup_cluster", pa.string()),
    pa.field("dup_cluster_size", pa.int32()),
    pa.field("repeated_lines_removed", pa.int32()),
    pa.field("repeated_chars_removed", pa.int32()),
)

DECISION_SCHEMA = pa.schema([
    pa.field("id", pa.string(), nullable=False),
    pa.field("text", pa.string()),
    pa.field("dup_cluster", pa.string()),
    pa.field("dup_cluster_size", pa.int32()),
    pa.field("dedup_drop_reason", pa.string()),
    pa.field("repeated_lines_removed", pa.int32()),
    pa.field("repeated_chars_removed", pa.int32()),
])

# Node keys order candidate-bucket centers: indexed documents ("i" + id) before this run's ("n" + id).
INDEXED_PREFIX, NEW_PREFIX = "i", "n"


def rank_key(doc_id: str, quality_score: float | None, indexed: bool = False) -> tuple[int, int, float, str]:
    """Sort key of a cluster member; the minimum is the representative (see module docstring)."""
    if indexed:
        return (0, 0, 0.0, doc_id)
    missing = quality_score is None or math.isnan(quality_score)
    return (1, int(missing), 0.0 if missing else -quality_score + 0.0, doc_id)  # + 0.0: -0.0 -> 0.0


SIZE_BUCKETS = ((2, 2), (3, 5), (6, 10), (11, 100), (101, None))


def summary_from_counts(reasons: dict[str | None, int], cluster_sizes: dict[int, int], largest: tuple[str, int] | None,
                        lines_removed: int, chars_removed: int) -> dict[str, Any]:
    """The stage's summary from counts: documents by reason, clusters by size bucket, the largest cluster
    (a giant component made of shared boilerplate shows up here first), repeated-line totals."""
    buckets = {}
    for low, high in SIZE_BUCKETS:
        label = f"{low}" if low == high else (f"{low}+" if high is None else f"{low}-{high}")
        buckets[label] = sum(n for size, n in cluster_sizes.items() if size >= low and (high is None or size <= high))
    return {
        "documents": sum(reasons.values()),
        "kept": reasons.get(None, 0),
        "dropped_by_reason": {reason: n for reason, n in sorted(reasons.items(), key=lambda item: str(item[0])) if reason},
        "clusters": sum(cluster_sizes.values()),
        "clusters_by_size": buckets,
        "largest_cluster": {"representative": largest[0], "size": largest[1]} if largest else None,
        "repeated_lines_removed": lines_removed,
        "repeated_chars_removed": chars_removed,
    }


def decision_summary(decisions: pa.Table) -> dict[str, Any]:
    """Summary of a decisions table (single machine); Spark: `pipeline.spark.dedup.decision_summary_frame`."""
    reasons = Counter(decisions.column("dedup_drop_reason").to_pylist())
    size_of: dict[str, int] = {}
    for cluster, size in zip(decisions.column("dup_cluster").to_pylist(), decisions.column("dup_cluster_size").to_pylist()):
        if cluster is not None:
            size_of[cluster] = max(size, size_of.get(cluster, 0))
    largest = min(size_of.items(), key=lambda item: (-item[1], item[0])) if size_of else None
    lines = sum(n for n in decisions.column("repeated_lines_removed").to_pylist() if n)
    chars = sum(n for n in decisions.column("repeated_chars_removed").to_pylist() if n)
    return summary_from_counts(dict(reasons), Counter(size_of.values()), largest, lines, chars)


def summary_line(summary: dict[str, Any]) -> str:
    """cc_net-style progress line in human terms."""
    documents = summary["documents"] or 1
    dropped = ", ".join(f"{n} {reason}" for reason, n in summary["dropped_by_reason"].items()) or "none"
    largest = summary["largest_cluster"]
    return (f"Dedup kept {summary['kept']} of {summary['documents']} documents ({100 * summary['kept'] / documents:.1f}%); "
            f"dropped: {dropped}; {summary['clusters']} clusters, largest {largest['size'] if largest else 0}; "
            f"{summary['repeated_lines_removed']} repeated lines removed")
