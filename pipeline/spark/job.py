"""Spark engine glue for the corpus job: one task per input file, results derived from output files.

Tasks write their own parts atomically and return only small manifests, so a retried or speculative
task rewrites the same bytes and nothing is counted twice (no accumulators). No master is set here:
`spark-submit` without `--master` runs local mode, and the same code runs unchanged on a cluster.
"""
from __future__ import annotations

import itertools
import json
import os
import sys
from typing import Any, Callable, Iterator, Sequence

import pyarrow as pa
import pyarrow.compute as pc
from pyspark import SparkConf, TaskContext
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import BooleanType, StructField, StructType

from dedup.decisions import REASON_DUPLICATE_ID
from pipeline.config import Config
from pipeline.corpus import (
    CORPUS, DECISIONS, DEDUP, EXTRACTED, INDEX, REJECTED, STATS, adopt_stages, build_stages, commit_unit, extract_unit,
    has_dedup, output_schema, part_name, repeated_across_inputs, summarize,
)
from pipeline.dataset_card import write_dataset_card
from pipeline.outputs import OutputDir
from pipeline.spark.dedup import decision_summary_frame, dedup_frame
from pipeline.spark.files import (checkpoint_dir, participating, read_parquet_frame, unit_frame, values_of,
                                  write_grouped)
from pipeline.spark.jvm import local_java_options
from pipeline.stats.store import write_stats_from_parts
from pipeline.toml_config import config_hash

MANIFEST_SCHEMA = "warc_path string, manifest string"
# Fault injection for the reliability tests: with this variable set in the executors' environment
# (`--conf spark.executorEnv.CORPUS_FAIL_ONCE_DIR=DIR`), the first attempt of every unit fails once.
FAIL_ONCE_ENV = "CORPUS_FAIL_ONCE_DIR"
_PASSES = itertools.count()  # numbers the map_inputs calls of a driver, so each pass fails once per input


class InjectedFault(RuntimeError):
    """The failure `fail_once` injects; only raised when FAIL_ONCE_ENV is set."""


def fail_once(fail_dir: str | None, pass_number: int, path: str) -> None:
    """Raise once per (pass, input) when `fail_dir` is set: the first attempt creates the marker
    `pass<N>-<part>.json` there (O_EXCL, so exactly one attempt wins) and raises; later attempts pass.
    The marker names the attempt and the file this code was imported from (the shipped zip on a cluster).

    Called after the unit did its work and before its manifest is returned: the task has written its
    outputs and completion marker but the driver never hears of it, the case in which side counters
    would count twice. The retry must find the marker, skip the work and return the same manifest.
    """
    if not fail_dir:
        return
    marker = os.path.join(fail_dir, f"pass{pass_number}-{part_name(path)}.json")
    try:
        descriptor = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return
    context = TaskContext.get()
    attempt = context.attemptNumber() if context is not None else None
    record = {"warc_path": path, "pass": pass_number, "attempt": attempt, "code_file": os.path.abspath(__file__)}
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(record, handle)
    raise InjectedFault(f"injected failure of pass {pass_number} for {path} ({attempt=}); {FAIL_ONCE_ENV}={fail_dir}")


def spark_session(app_name: str = "build_corpus") -> SparkSession:
    """The active session, or a new one; executors run this interpreter unless PYSPARK_PYTHON says otherwise."""
    builder = SparkSession.builder.appName(app_name)
    if "PYSPARK_PYTHON" not in os.environ:
        builder = builder.config("spark.pyspark.python", sys.executable)
    submitted = SparkConf()  # what spark-submit was given; a cluster's settings are left alone
    local = submitted.get("spark.master", "local").startswith("local")
    if local and not submitted.contains("spark.sql.shuffle.partitions"):
        # the default 200 shuffle partitions are sized for a cluster; on a few local cores each is a task
        # that costs more than its rows (the stats phase took 72 CPU s of a 130 CPU s run at 5,000 pages)
        builder = builder.config("spark.sql.shuffle.partitions", str(max(4, 2 * (os.cpu_count() or 1))))
    if local and not submitted.contains("spark.driver.extraJavaOptions"):
        # The local JVM's options (pipeline/spark/jvm.py says why). Only take effect when this call starts
        # the JVM (python jobs/..., the tests); under spark-submit they belong on its command line
        # (--driver-java-options, as the Makefile gives them).
        builder = builder.config("spark.driver.extraJavaOptions", local_java_options())
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
    pass_number = next(_PASSES)

    def run_one(path: str) -> str:
        manifest = json.dumps(unit(path), sort_keys=True)
        fail_once(os.environ.get(FAIL_ONCE_ENV), pass_number, path)  # read on the executor, not the driver
        return manifest

    def run(units: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for path in values_of(units, paths):
            yield pa.RecordBatch.from_pydict({"warc_path": [path], "manifest": [run_one(path)]})

    rows = unit_frame(spark, len(paths)).mapInArrow(run, MANIFEST_SCHEMA).collect()
    by_path = {row.warc_path: json.loads(row.manifest) for row in rows}
    return [by_path[path] for path in paths]


def part_column(warc_path: F.Column) -> F.Column:
    """`pipeline.corpus.part_name` as a Spark column (sha1 of the path's UTF-8 bytes, 16 hex digits)."""
    return F.concat(F.lit("part-"), F.substring(F.sha1(warc_path.cast("binary")), 1, 16))


def _with_repeat(table: pa.Table) -> Iterator[pa.RecordBatch]:
    repeats = repeated_across_inputs(table.column("id").to_pylist(), table.column("warc_path").to_pylist())
    yield from table.append_column("repeat", pa.array(repeats, pa.bool_())).to_batches()


def flag_repeats(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Batches of one partition sorted by id -> the same rows with `repeat`, the rule applied to whole id groups:
    each batch is flagged up to its last id, whose rows may go on in the next batch and wait for it."""
    carry: pa.Table | None = None
    for batch in batches:
        table = pa.Table.from_batches([batch])
        if carry is not None:
            table = pa.concat_tables([carry, table])
        if table.num_rows == 0:
            continue
        cut = pc.index(table.column("id"), table.column("id")[-1]).as_py()  # where the last id's group starts
        if cut:
            yield from _with_repeat(table.slice(0, cut))
        carry = table.slice(cut)
    if carry is not None and carry.num_rows:
        yield from _with_repeat(carry)


def mark_repeated_across_inputs_frame(rows: DataFrame) -> DataFrame:
    """Participating rows with `repeat` (`pipeline.corpus.repeated_across_inputs`, the rule the pyarrow path
    uses): partitioned and sorted by id, so every row of an id reaches the same call."""
    schema = StructType(rows.schema.fields + [StructField("repeat", BooleanType())])
    return rows.repartition("id").sortWithinPartitions("id").mapInArrow(flag_repeats, schema)


def dedup_columns(config: Config) -> pa.Schema:
    """The columns of the extracted rows the global stage reads (the text, and the quality that ranks)."""
    schema = output_schema(config)
    return pa.schema([schema.field(name) for name in ("id", "text", "drop_reason", "warc_path", "quality_score")
                      if name in schema.names])


def dedup_step(spark: SparkSession, out: OutputDir, inputs: list[str], config: Config,
               checkpoints: str) -> dict[str, Any]:
    """The global stage over every extracted part: decisions written per part under dedup/decisions/
    (read by `commit_unit`), the kept signatures to dedup/index/; skipped when already done. `checkpoints`:
    where Spark checkpoints its intermediate results (`pipeline.spark.files.checkpoint_dir`)."""
    marker = f"{DEDUP}/_done.json"
    if out.exists(marker):
        return out.read_json(marker)
    parts = [out.uri_of(f"{EXTRACTED}/{part_name(path)}.parquet") for path in inputs]
    rows = mark_repeated_across_inputs_frame(read_parquet_frame(spark, parts, dedup_columns(config), participating))
    first = rows.where(~F.col("repeat"))
    decisions = dedup_frame(spark, first, config.dedup, checkpoints,
                            out.uri_of(INDEX) if config.dedup.write_index else None)
    repeats = rows.where(F.col("repeat")).select(  # DECISION_SCHEMA: dropped, text and signals untouched
        "id", "text", F.lit(None).cast("string").alias("dup_cluster"), F.lit(None).cast("int").alias("dup_cluster_size"),
        F.lit(REASON_DUPLICATE_ID).alias("dedup_drop_reason"), F.lit(None).cast("int").alias("repeated_lines_removed"),
        F.lit(None).cast("int").alias("repeated_chars_removed"), "warc_path")
    # computed once: the decisions are both written and summarized
    located = decisions.join(first.select("id", "warc_path"), "id").unionByName(repeats).localCheckpoint()
    if out.exists(DECISIONS):  # what a killed run left; every part's file is written again below
        out.fs.delete_dir(out.path(DECISIONS))
    write_grouped(located.withColumn("input_part", part_column(F.col("warc_path"))).drop("warc_path"), out,
                  lambda part: f"{DECISIONS}/input_part={part}", "input_part", order=("id",))
    summary = decision_summary_frame(located)
    out.write_json(marker, summary)
    return summary


def build_corpus(spark: SparkSession, inputs: list[str], output: str, config: Config,
                 command: Sequence[str] = ("pipeline.spark.job.build_corpus",)) -> dict[str, Any]:
    """Extract (resumable per input) -> dedup (global) -> commit (each part counted as it is written) ->
    statistics merged from the parts' counts -> the dataset card naming `command`; returns the summary
    written to stats/summary.json."""
    # The stages are built here, so a missing model or list fails before any task, and they travel with the
    # tasks (PySpark broadcasts a pickled task over 1 MB: pyspark/core/rdd.py `_prepare_for_python_RDD`); models
    # stay out of the pickles and load on the workers.
    stages = build_stages(config)
    out = OutputDir(output)
    # corpus/ holds only the data (and its card): `datasets` reads every other file in it as data
    out.claim(config, (EXTRACTED,) + ((DEDUP,) if has_dedup(config) else ()) + (REJECTED, STATS))

    def extract(path: str) -> dict[str, Any]:
        adopt_stages(config, stages)
        return extract_unit(out, path, config)

    def commit(path: str) -> dict[str, Any]:
        adopt_stages(config, stages)
        return commit_unit(out, path, config)

    if has_dedup(config):  # a cluster that cannot checkpoint refuses here, before any task
        checkpoints, remove_checkpoints = checkpoint_dir(spark, out, f"{DEDUP}/_checkpoints")
    manifests = map_inputs(spark, inputs, extract)
    if has_dedup(config):
        dedup_step(spark, out, inputs, config, checkpoints)
        remove_checkpoints()
    committed = map_inputs(spark, inputs, commit)
    # Every unit and the global step are done and the stats are written after this point: a `.tmp-` file in any
    # folder is what a killed run left (a kill while the stats were written leaves one in stats/).
    out.remove_temporaries((EXTRACTED, DEDUP, CORPUS, REJECTED, STATS))
    out.remove(f"{STATS}/summary.json")  # an earlier run's must not outlive a rerun that fails its checks
    counts = [(done["warc_path"], reason, rows) for done in committed for reason, rows in done["rows_by_reason"]]
    summary = summarize(manifests, counts, config_hash(config))
    out.write_json(f"{STATS}/summary.json", summary)
    out.write_bytes(
        f"{STATS}/inputs.jsonl",
        "".join(json.dumps(m | {"part": part_name(m["warc_path"])}, sort_keys=True) + "\n" for m in manifests).encode(),
    )
    write_stats_from_parts(out, config, config_hash(config), [part_name(path) for path in inputs])
    write_dataset_card(out, summary, config, list(command))
    return summary
