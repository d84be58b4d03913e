"""Spark engine glue for the corpus job: one task per input file, results derived from output files.

Tasks write their own parts atomically and return only small manifests, so a retried or speculative
task rewrites the same bytes and nothing is counted twice (no accumulators). No master is set here:
`spark-submit` without `--master` runs local mode, and the same code runs unchanged on a cluster.
"""
from __future__ import annotations

import json
import os
import sys
from typing import Any, Callable, Iterator

import pyarrow as pa
from pyspark.sql import SparkSession

from pipeline.config import Config, config_hash
from pipeline.corpus import (
    CORPUS, EXTRACTED, REJECTED, STATS, commit_unit, extract_unit, output_schema, part_name, summarize,
)
from pipeline.outputs import OutputDir

MANIFEST_SCHEMA = "warc_path string, manifest string"


def spark_session(app_name: str = "build_corpus") -> SparkSession:
    """The active session, or a new one; executors run this interpreter unless PYSPARK_PYTHON says otherwise."""
    builder = SparkSession.builder.appName(app_name)
    if "PYSPARK_PYTHON" not in os.environ:
        builder = builder.config("spark.pyspark.python", sys.executable)
    return (
        builder.config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.log.level", "WARN")
        .getOrCreate()
    )


def map_inputs(spark: SparkSession, paths: list[str], unit: Callable[[str], dict[str, Any]]) -> list[dict[str, Any]]:
    """Run `unit(path)` in one Spark task per path; returns the manifests in path order."""
    if not paths:
        return []

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            names = batch.column("warc_path").to_pylist()
            manifests = [json.dumps(unit(path), sort_keys=True) for path in names]
            yield pa.RecordBatch.from_pydict({"warc_path": names, "manifest": manifests})

    frame = spark.createDataFrame(
        spark.sparkContext.parallelize([(p,) for p in paths], numSlices=len(paths)), "warc_path string"
    )
    rows = frame.mapInArrow(run, MANIFEST_SCHEMA).collect()
    by_path = {row.warc_path: json.loads(row.manifest) for row in rows}
    return [by_path[path] for path in paths]


def output_counts(spark: SparkSession, out: OutputDir) -> list[tuple[str, str | None, int]]:
    """(warc_path, drop_reason, rows) over corpus/ and rejected/, read back from the written files."""
    frame = spark.read.parquet(out.uri_of(CORPUS), out.uri_of(REJECTED))
    return [(r.warc_path, r.drop_reason, r["count"]) for r in frame.groupBy("warc_path", "drop_reason").count().collect()]


def build_corpus(spark: SparkSession, inputs: list[str], output: str, config: Config) -> dict[str, Any]:
    """Extract (resumable per input) -> commit -> stats; returns the summary written to stats/summary.json."""
    output_schema(config)  # builds the stages here, so a missing model or list fails before any task
    out = OutputDir(output)
    out.claim(config, (EXTRACTED, CORPUS, REJECTED, STATS))
    manifests = map_inputs(spark, inputs, lambda path: extract_unit(out, path, config))
    map_inputs(spark, inputs, lambda path: commit_unit(out, path) or {})
    out.remove_temporaries((EXTRACTED, CORPUS, REJECTED))
    summary = summarize(manifests, output_counts(spark, out), config_hash(config))
    out.write_json(f"{STATS}/summary.json", summary)
    out.write_bytes(
        f"{STATS}/inputs.jsonl",
        "".join(json.dumps(m | {"part": part_name(m["warc_path"])}, sort_keys=True) + "\n" for m in manifests).encode(),
    )
    return summary
