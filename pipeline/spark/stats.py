"""The Spark engine's statistics pass: partial counts per partition with `mapInArrow`, merged with `groupBy`;
the driver collects only the merged counts (top-k for unbounded keys such as domains).
"""
from __future__ import annotations

from typing import Any, Iterator

import pyarrow as pa

from pipeline.config import Config
from pipeline.corpus import CORPUS, REJECTED
from pipeline.outputs import OutputDir
from pipeline.stats.counts import (MERGE_KEYS, PARTIAL_SCHEMA, SAMPLES_PER_REASON, SAMPLE_SCHEMA, TOP_K,
                                   partial_counts, sample_candidates, top_rows)
from pipeline.stats.store import read_token_manifest, signal_types, source_files, write_stats_tables
from pipeline.stats.tables import RunFacts, stats_tables
from pipeline.toml_config import config_hash


def write_stats(spark: Any, out: OutputDir, config: Config) -> dict[str, Any]:
    """OUT/stats/ from corpus/ and rejected/ with Spark: `partial_counts` per partition, merged by groupBy;
    only merged counts (top-k for domains and clusters) and a few samples per reason reach the driver.

    pyspark is imported here: the module is imported by the driver, where Spark may not be started yet.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import from_arrow_schema, to_arrow_schema

    if not source_files(out):  # no input gave a row: empty tables (Spark cannot read zero Parquet files)
        facts = RunFacts(config, config_hash(config), {}, [], read_token_manifest(out))
        summary, tables = stats_tables(PARTIAL_SCHEMA.empty_table(), [], facts)
        write_stats_tables(out, summary, tables)
        return summary
    frame = spark.read.option("mergeSchema", "true").parquet(out.spark_path(CORPUS, reading=True),
                                                             out.spark_path(REJECTED, reading=True))
    types_by_signal = signal_types(to_arrow_schema(frame.schema))
    signals = list(types_by_signal)

    def partials(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            yield from partial_counts(batch, signals).to_batches()

    def candidates(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            yield from sample_candidates(batch).to_batches()

    merged = frame.mapInArrow(partials, from_arrow_schema(PARTIAL_SCHEMA)).groupBy(*MERGE_KEYS).agg(
        F.sum("documents").alias("documents"), F.sum("total").alias("total"),
        F.min("value_min").alias("value_min"), F.max("value_max").alias("value_max")).persist()  # read 3 times
    parts = [merged.filter(~F.col("metric").isin(list(TOP_K)))]
    for metric, (limit, by) in TOP_K.items():
        rows = merged.filter(F.col("metric") == metric)
        size = F.sum("documents") if by == "documents" else F.max("bin")
        top = (rows.groupBy("key").agg(size.alias("_size")).orderBy(F.desc("_size"), F.asc_nulls_first("key"))
               .limit(limit).select(F.col("key").alias("_key")))
        parts.append(rows.join(top, rows["key"].eqNullSafe(F.col("_key")), "left_semi"))
    union = parts[0]
    for part in parts[1:]:
        union = union.unionByName(part)
    collected = union.toArrow().select(PARTIAL_SCHEMA.names).cast(PARTIAL_SCHEMA)  # columnar: no Row per count
    merged.unpersist()
    order = Window.partitionBy("drop_reason").orderBy("sample_key", "id")
    samples = (frame.mapInArrow(candidates, from_arrow_schema(SAMPLE_SCHEMA))
               .withColumn("_rank", F.row_number().over(order)).filter(F.col("_rank") <= SAMPLES_PER_REASON)
               .drop("_rank").collect())
    facts = RunFacts(config, config_hash(config), types_by_signal, source_files(out), read_token_manifest(out))
    summary, tables = stats_tables(top_rows(collected), [row.asDict() for row in samples], facts)
    write_stats_tables(out, summary, tables)
    return summary
