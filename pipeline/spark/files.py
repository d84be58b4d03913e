"""Every file the Spark job reads or writes goes through pyarrow inside a task: Spark schedules and shuffles,
pyarrow touches the files. Any filesystem pyarrow opens (local, s3://, gs://, hdfs://, abfs://) then works for
every step with no Hadoop connector on the cluster; pyspark ships none for S3, and `spark.read` of an `s3://`
path fails with `No FileSystem for scheme "s3"`.

The one Hadoop path left is the checkpoint directory of the global dedup stage (`checkpoint_dir`).
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from typing import Any, Callable, Iterator, Sequence

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pyspark import SparkConf
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.pandas.types import from_arrow_schema

from pipeline.inputs import _filesystem, is_uri
from pipeline.outputs import OutputDir
from pipeline.toml_config import ConfigError

READ_BATCH_ROWS = 8192  # rows per Arrow batch handed to Spark: bounded memory whatever a file's row groups
HADOOP_SCHEMES = ("file", "hdfs")  # where Spark's own checkpoint writer can put files with what pyspark ships
WRITTEN = pa.schema([("key", pa.string()), ("rows", pa.int64())])  # what each writing task reports


def _read_files(schema: pa.Schema, keep: Callable[[pa.Table], pa.Array] | None) -> Callable:
    def read(uris: Iterator[str]) -> Iterator[pa.RecordBatch]:
        for uri in uris:
            fs, path = _filesystem(uri)
            with fs.open_input_file(path) as source:
                for rows in pq.ParquetFile(source).iter_batches(READ_BATCH_ROWS, columns=schema.names):
                    table = pa.Table.from_batches([rows]).select(schema.names).cast(schema)
                    yield from (table.filter(keep(table)) if keep else table).to_batches()
    return read


def unit_frame(spark: SparkSession, units: int) -> DataFrame:
    """Rows `unit` = 0 .. units-1, one partition each, made in the JVM: a DataFrame over a Python RDD
    (`parallelize`) would run its rows through Python workers of their own, a second pyspark daemon and worker
    per core (~2 CPU s of startup: benchmarks/RESULTS.md, "Startup cost")."""
    return spark.range(units, numPartitions=max(1, units)).withColumnRenamed("id", "unit")


def values_of(units: Iterator[pa.RecordBatch], values: Sequence[Any]) -> Iterator[Any]:
    """The `values` a task's `unit` numbers (`unit_frame`) stand for, in order."""
    for batch in units:
        yield from (values[unit] for unit in batch.column("unit").to_pylist())


def read_parquet_frame(spark: SparkSession, uris: list[str], schema: pa.Schema,
                       keep: Callable[[pa.Table], pa.Array] | None = None) -> DataFrame:
    """The rows of the Parquet files `uris` (pyarrow URIs or local paths) with `schema`'s columns, cast to its
    types, and only those where `keep(table)` holds when given; one task per file, batches streamed."""
    read = _read_files(schema, keep)
    return unit_frame(spark, len(uris)).mapInArrow(lambda units: read(values_of(units, uris)), from_arrow_schema(schema))


def participating(table: pa.Table) -> pa.Array:
    """Rows no stage dropped (a null drop_reason)."""
    return pc.is_null(table["drop_reason"])


def _runs(values: list[Any]) -> Iterator[tuple[Any, int, int]]:
    """(value, start, end) of each run of equal neighbours."""
    start = 0
    for end in range(1, len(values) + 1):
        if end == len(values) or values[end] != values[start]:
            yield values[start], start, end
            start = end


def _write_groups(out: OutputDir, folder: Callable[[str], str], key: str) -> Callable:
    def write(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        written: dict[str, int] = {}
        with contextlib.ExitStack() as stack:
            writer = None
            for batch in batches:
                table = pa.Table.from_batches([batch])
                rows = table.drop_columns([key])
                for value, start, end in _runs(table.column(key).to_pylist()):
                    if value not in written:  # sorted by key: a new value is never an earlier one again
                        stack.close()
                        writer = stack.enter_context(out.parquet_writer(f"{folder(value)}/part-0.parquet", rows.schema))
                        written[value] = 0
                    writer.write_table(rows.slice(start, end - start))
                    written[value] += end - start
        yield pa.RecordBatch.from_pydict({"key": list(written), "rows": list(written.values())}, schema=WRITTEN)
    return write


def write_grouped(frame: DataFrame, out: OutputDir, folder: Callable[[str], str], key: str,
                  order: tuple[str, ...] = ()) -> dict[str, int]:
    """Write `frame`'s rows, without `key`, to `folder(value)/part-0.parquet` for each value of `key`, sorted
    by `order` (one file per value, written by the one task that holds all its rows: a retried task rewrites
    the same file, and with a total `order` the same bytes); returns the rows written per value."""
    grouped = frame.repartition(key).sortWithinPartitions(key, *order)
    written = grouped.mapInArrow(_write_groups(out, folder, key), from_arrow_schema(WRITTEN)).collect()
    return {row.key: row.rows for row in written}


def checkpoint_dir(spark: SparkSession, out: OutputDir, relative: str) -> tuple[str, Callable[[], Any]]:
    """(Hadoop path for Spark's checkpoints, a function that removes them) for the global dedup stage.

    Checkpoints are Spark's own files: on a local or HDFS output they go under it (`relative`); elsewhere in
    `spark.checkpoint.dir` when set (a cluster writing to object storage points it at HDFS); in local mode
    in a temporary directory. ConfigError on a cluster with none of these, before any task runs.
    """
    scheme = out.uri.split("://", 1)[0] if is_uri(out.uri) else "file"
    if scheme in HADOOP_SCHEMES:
        return out.spark_path(relative), lambda: out.exists(relative) and out.fs.delete_dir(out.path(relative))
    configured = SparkConf().get("spark.checkpoint.dir", None) or spark.conf.get("spark.checkpoint.dir", None)
    if configured:
        return configured, lambda: None  # the user's directory: Spark's own cleaner owns what is in it
    if spark.sparkContext.master.startswith("local"):
        local = tempfile.mkdtemp(prefix="corpus-checkpoints-")
        return "file://" + os.path.abspath(local), lambda: shutil.rmtree(local, ignore_errors=True)
    raise ConfigError(f"dedup on a cluster writing to {scheme}:// needs a checkpoint directory Spark can write: "
                      "--conf spark.checkpoint.dir=hdfs:///tmp/checkpoints (README, 'Object storage')")
