"""The one place the project writes Parquet: fixed writer options, so the same rows give the same bytes.

Every Parquet file a job writes (corpus parts, stats tables, the dedup index, token-shard lineage) goes through
`parquet_writer` (streaming, batch by batch) or `write_parquet` (one table). zstd, pyarrow's defaults for
everything else (row groups of at most 1Mi rows unless the caller says otherwise, statistics, the Arrow schema
in the footer metadata). A second output format would plug in here. Spark's own writes (`DataFrame.write`) are
the engine's and do not pass through this module.
"""
from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

WRITER_OPTIONS = {"compression": "zstd"}  # fixed options: same rows -> same bytes


def parquet_writer(sink: Any, schema: pa.Schema) -> pq.ParquetWriter:
    """A streaming writer to `sink` (a path or an open output stream); use it as a context manager."""
    return pq.ParquetWriter(sink, schema, **WRITER_OPTIONS)


def write_parquet(table: pa.Table, sink: Any, row_group_rows: int | None = None) -> None:
    """`table` as one Parquet file to `sink`; row groups of at most `row_group_rows` (None: pyarrow's default)."""
    with parquet_writer(sink, table.schema) as writer:
        writer.write_table(table, row_group_size=row_group_rows)
