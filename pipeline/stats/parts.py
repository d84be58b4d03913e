"""Statistics of one committed part, counted by the task that wrote it, and their merge on the driver.

A commit task holds each slice of its part right after finishing it (`pipeline.corpus.commit_unit`): counting
the slice there costs no read, and the driver then merges the parts' small tables (`merge_parts`) instead of
running a second pass over the whole output. The counts are `partial_counts`, the one definition every engine
runs, so the statistics still derive from the output columns. Each part's counts and sample candidates are
written under OUT/stats/parts/ before the part's commit marker (`done_file`, beside them, not in corpus/: that
folder holds only the data and its card, as Hugging Face `datasets` loads it): a part is counted once its
marker stands, and a retried task rewrites the same bytes.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any, Sequence

import pyarrow as pa
import pyarrow.compute as pc

from pipeline.outputs import OutputDir
from pipeline.stats.counts import (PARTIAL_SCHEMA, SAMPLE_SCHEMA, merge_partials, partial_counts, pick_samples,
                                   sample_candidates)

PARTS_FOLDER = "stats/parts"
MERGE_ROWS = 500_000  # merge the pending partials once they hold this many rows: memory ~ distinct keys
READ_THREADS = 16  # the driver reads many small files from object storage: latency, not CPU, bounds it


class Counts:
    """Merged counts and sample candidates, fed rows (`add_rows`, histogramming `signals`) or counts made
    elsewhere (`add_counts`)."""

    def __init__(self, signals: Sequence[str]) -> None:
        self.signals = list(signals)
        self.pending: list[pa.Table] = []
        self.candidates: list[dict[str, Any]] = []

    def add_rows(self, rows: pa.Table | pa.RecordBatch) -> None:
        self.add_counts(partial_counts(rows, self.signals), sample_candidates(rows))

    def add_counts(self, counts: pa.Table, samples: pa.Table) -> None:
        self.pending.append(counts)
        self.candidates = pick_samples(self.candidates + samples.to_pylist())
        if sum(table.num_rows for table in self.pending) > MERGE_ROWS:
            self.pending = [self.merged()]

    def merged(self) -> pa.Table:
        return merge_partials(pa.concat_tables(self.pending)) if self.pending else PARTIAL_SCHEMA.empty_table()

    def samples(self) -> pa.Table:
        return pa.Table.from_pylist(self.candidates, schema=SAMPLE_SCHEMA)


def done_file(part: str) -> str:
    """The part's commit marker: its input path and rows by reason, written after its counts."""
    return f"{PARTS_FOLDER}/{part}.json"


def counts_file(part: str) -> str:
    return f"{PARTS_FOLDER}/{part}.counts.parquet"


def samples_file(part: str) -> str:
    return f"{PARTS_FOLDER}/{part}.samples.parquet"


def rows_by_reason(counts: pa.Table) -> list[list[Any]]:
    """[[drop_reason or None, rows], ...] of a part, from its `outcome` counts: what the accounting check reads."""
    outcome = counts.filter(pc.equal(counts["metric"], "outcome"))
    pairs = zip(outcome["drop_reason"].to_pylist(), outcome["documents"].to_pylist())
    return sorted(([reason, rows] for reason, rows in pairs), key=lambda pair: (pair[0] is not None, pair[0] or ""))


def write_part_counts(out: OutputDir, part: str, counts: Counts) -> list[list[Any]]:
    """Write one part's counts and samples (each atomically); returns its rows by reason."""
    merged = counts.merged()
    out.write_parquet(counts_file(part), merged)
    out.write_parquet(samples_file(part), counts.samples())
    return rows_by_reason(merged)


def has_part_counts(out: OutputDir, part: str) -> bool:
    return out.exists(counts_file(part)) and out.exists(samples_file(part))


def _read_part(out: OutputDir, part: str) -> tuple[pa.Table, pa.Table]:
    return (out.read_parquet(counts_file(part)).cast(PARTIAL_SCHEMA),
            out.read_parquet(samples_file(part)).cast(SAMPLE_SCHEMA))


def merge_parts(out: OutputDir, parts: Sequence[str]) -> Counts:
    """The counts of every part, merged; READ_THREADS files in flight, merged in part order."""
    total = Counts(signals=())
    with ThreadPoolExecutor(READ_THREADS) as pool:
        for counts, samples in pool.map(lambda part: _read_part(out, part), parts):
            total.add_counts(counts, samples)
    return total
