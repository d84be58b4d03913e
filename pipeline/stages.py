"""The one adapter that runs a chain of engine-free stages (contract/stage.py) over Arrow record batches.

It turns a chain into `Iterator[pa.RecordBatch] -> Iterator[pa.RecordBatch]`, the one shape that plain
Python (`run_stages`), Spark (`mapInArrow`) and Ray (`map_batches(batch_format="pyarrow")`) all call.
"""
from __future__ import annotations

from typing import Callable, Iterable, Iterator, Sequence

import pyarrow as pa

from contract.stage import Document, DocumentStage
from pipeline.schema import conform

BatchFn = Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]


def apply_stage(
    stage: DocumentStage, batch: pa.RecordBatch, schema: pa.Schema, compute_all_signals: bool
) -> pa.RecordBatch:
    """Measure and decide one stage over a batch; rows keep their order and count."""
    rows = batch.to_pylist()
    to_measure = [row for row in rows if compute_all_signals or row["drop_reason"] is None]
    allowed = {field.name for field in stage.fields} | {"text"}
    for row, signals in zip(to_measure, stage.measure_many(to_measure), strict=True):
        unexpected = set(signals) - allowed
        if unexpected:
            raise KeyError(f"stage {stage.name!r} returned undeclared columns {sorted(unexpected)}")
        row.update(signals)
        if row["drop_reason"] is None:
            rule = stage.decide(row)
            if rule is not None:
                row["drop_reason"] = f"{stage.name}:{rule}"
    return pa.RecordBatch.from_pylist(rows, schema=schema)


def chain_batches(
    stages: Sequence[DocumentStage], schema: pa.Schema, compute_all_signals: bool = False
) -> BatchFn:
    """The adapter: a chain of document stages as `Iterator[RecordBatch] -> Iterator[RecordBatch]`.

    Input batches may lack the chain's signal columns (they are added as nulls); the output has exactly
    `schema`. Empty batches pass through so that Spark always sees the declared schema.
    """

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            batch = conform(batch, schema)
            for stage in stages:
                if batch.num_rows:
                    batch = apply_stage(stage, batch, schema, compute_all_signals)
            yield batch

    return run


def batched(rows: Iterable[Document], schema: pa.Schema, batch_rows: int) -> Iterator[pa.RecordBatch]:
    """Group row dicts into record batches of at most `batch_rows` rows."""
    pending: list[Document] = []
    for row in rows:
        pending.append(row)
        if len(pending) >= batch_rows:
            yield pa.RecordBatch.from_pylist(pending, schema=schema)
            pending = []
    if pending:
        yield pa.RecordBatch.from_pylist(pending, schema=schema)
