"""Engine-free stages and the one adapter that runs a chain of them over Arrow record batches.

A stage measures signals for each document, then decides from those signals alone whether the document
fails one of its rules (Dolma / NeMo Curator: measure, then decide). The adapter turns a chain into
`Iterator[pa.RecordBatch] -> Iterator[pa.RecordBatch]`, the one shape that plain Python (`run_stages`),
Spark (`mapInArrow`) and Ray (`map_batches(batch_format="pyarrow")`) all call.

A stage never deletes a row: the first failed rule sets `drop_reason = "<stage>:<rule>"`, and later stages
skip dropped rows unless `compute_all_signals` asks them to measure everything (for threshold tuning).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Callable, Iterable, Iterator, Sequence

import pyarrow as pa

from pipeline.schema import conform

Document = dict[str, Any]
BatchFn = Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]


class DocumentStage(ABC):
    """Base class for per-document stages.

    Subclasses set `name` (used as the drop-reason prefix) and `fields` (the signal columns they add),
    and implement `measure` (signals of one document) and `decide` (the failed rule's name, or None).
    `measure` may return a new "text" (line-level cleanup); no other core column may be changed.
    Heavy resources (models, engines) are loaded lazily on first use, once per worker process, and
    kept out of pickles so a stage can be shipped to Spark or Ray workers.
    """

    name: str = ""
    fields: tuple[pa.Field, ...] = ()

    @abstractmethod
    def measure(self, doc: Document) -> dict[str, Any]:
        """Signal columns of one document (a subset of `fields`, plus "text" if the stage rewrites it)."""

    @abstractmethod
    def decide(self, doc: Document) -> str | None:
        """The name of the first rule `doc` (with its signals) fails, or None to keep it."""

    def measure_many(self, docs: Sequence[Document]) -> list[dict[str, Any]]:
        """Signals for several documents; override when the model is faster on a batch."""
        return [self.measure(doc) for doc in docs]

    def __getstate__(self) -> dict[str, Any]:
        # Lazily loaded resources (attributes starting with "_loaded") stay on the worker that made them.
        return {key: value for key, value in self.__dict__.items() if not key.startswith("_loaded")}


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
