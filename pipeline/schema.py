"""The Document Arrow schema: one row per WARC response record (or per input row of JSONL/Parquet).

Core columns are fixed here; each stage declares the signal columns it adds (`Stage.fields`), so the full
schema of a chain is known before a job starts, as Spark's `mapInArrow` requires.
"""
from __future__ import annotations

from typing import Iterable, Sequence

import pyarrow as pa

CORE_FIELDS: tuple[pa.Field, ...] = (
    pa.field("id", pa.string(), nullable=False),  # WARC-Record-ID exactly as in the header
    pa.field("url", pa.string()),
    pa.field("crawl", pa.string()),  # e.g. CC-MAIN-2024-10, from warcinfo `isPartOf` or the path
    pa.field("warc_path", pa.string()),  # the input path as given, after expansion
    pa.field("warc_offset", pa.int64()),  # byte offset of the record in the (compressed) file
    pa.field("fetch_time", pa.string()),  # WARC-Date as written (ISO 8601); kept verbatim, malformed ones too
    pa.field("content_type", pa.string()),  # MIME type of the payload, lowercased, no parameters
    pa.field("http_status", pa.int32()),
    pa.field("text", pa.string()),
    pa.field("drop_reason", pa.string()),  # null = kept; "<stage>:<reason>" = the first failed rule
)

CORE_NAMES: frozenset[str] = frozenset(f.name for f in CORE_FIELDS)


def document_schema(stage_fields: Iterable[pa.Field] = ()) -> pa.Schema:
    """Core columns followed by the stages' signal columns, in chain order; names must be unique."""
    fields = list(CORE_FIELDS)
    seen = set(CORE_NAMES)
    for field in stage_fields:
        if field.name in seen:
            raise ValueError(f"column {field.name!r} is declared twice in the document schema")
        seen.add(field.name)
        fields.append(field)
    return pa.schema(fields)


def empty_columns(schema: pa.Schema, num_rows: int, names: Sequence[str]) -> dict[str, pa.Array]:
    """Null columns of the schema's types, for signals a stage did not compute (e.g. on dropped rows)."""
    return {name: pa.nulls(num_rows, type=schema.field(name).type) for name in names}


def conform(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """Return `batch` with exactly `schema`'s columns in order; missing columns become nulls.

    Raises if a present column has a different type: a silent cast would hide a stage's bug.
    """
    columns = []
    for field in schema:
        index = batch.schema.get_field_index(field.name)
        if index < 0:
            columns.append(pa.nulls(batch.num_rows, type=field.type))
            continue
        column = batch.column(index)
        if column.type != field.type:
            raise TypeError(f"column {field.name!r} has type {column.type}, the schema says {field.type}")
        columns.append(column)
    return pa.RecordBatch.from_arrays(columns, schema=schema)
