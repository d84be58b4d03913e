"""Spark de-duplication: the same decisions as `dedup.local`, as DataFrame joins that scale out.

The one module of `dedup/` that imports pyspark: the global stage's shuffles are the algorithm.
- features: one `mapInArrow` per input partition runs `dedup.features.features_fn` (the local path's
  normalization, exact hash, numpy MinHash signatures, band hashes, line hashes); checkpointed, as the
  rest reads it several times and the global stage restarts from it;
- exact: a window over exact_hash (this run's rows plus the indexed hashes) -> min(rank) is each group's
  representative;
- near: posexplode(bands) -> window over (band, hash) -> star edges from every member to the bucket's
  minimum node key -> optional verification -> connected components by alternating large-star and
  small-star (Kiveris et al. 2014, "Connected Components in MapReduce and Beyond"; as bigcode's and
  text-dedup's Spark near-dedup), checkpointed every `cc_checkpoint_interval` iterations so the lineage
  stays short, until the edge set stops changing -> window over the component label: min(rank);
- repeated lines: explode the survivors' distinct line hashes -> groupBy count per hash (documents, as
  the hashes are distinct per document) -> semi-join -> the repeated ones collected per document;
- finish: one `mapInArrow` over the survivors' text (`dedup.features.finish_fn`, the local step 3).
Node keys are "n" + id (this run) and "i" + id (indexed): string `min` picks an indexed document as a
bucket's center first, and ids of two runs never collide. Representatives use the struct form of
`dedup.decisions.rank_key` (indexed first, quality descending with null/NaN last, then id).
Windows replace groupBy + join-back where a key's rows are few (exact groups, buckets, components): one
shuffle instead of three.
"""
from __future__ import annotations

import logging

import pyarrow as pa

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import from_arrow_schema

from dedup.config import DedupConfig
from dedup.decisions import (
    DECISION_SCHEMA, DEDUP_FIELDS, INDEXED_PREFIX, NEW_PREFIX, REASON_EXACT, REASON_NEAR, summary_from_counts,
)
from dedup.features import (
    INDEX_BANDS_SCHEMA, VERIFY_SCHEMA, features_fn, features_schema, finish_fn, index_bands_fn, verify_fn,
)
from dedup.index import (
    INDEX_SCHEMA, WRITTEN_SCHEMA, file_count, index_files, prepare_dir, write_meta, write_part, write_parts_fn,
)
from pipeline.spark.files import read_parquet_frame


log = logging.getLogger(__name__)
# the index's columns as the Spark side reads them: its uint32 signature values as int64 (Spark has no unsigned)
INDEX_READ_SCHEMA = pa.schema([("id", pa.string()), ("exact_hash", pa.binary()), ("signature", pa.list_(pa.int64()))])


class ConnectedComponentsError(RuntimeError):
    """Large-star / small-star did not converge within cc_max_iterations."""


def _rank(quality: Column, doc_id: Column) -> Column:
    """struct(is_new, missing, neg_quality, id): its min is the representative (as `rank_key`)."""
    missing = quality.isNull() | F.isnan(quality)
    neg_quality = F.when(missing, F.lit(0.0)).otherwise(-quality + F.lit(0.0))  # + 0.0: -0.0 -> 0.0
    return F.struct(F.lit(1).alias("is_new"), missing.cast("int").alias("missing"), neg_quality.alias("neg_quality"),
                    doc_id.alias("id"))


def _indexed_rank(doc_id: Column) -> Column:
    return F.struct(F.lit(0).alias("is_new"), F.lit(0).alias("missing"), F.lit(0.0).alias("neg_quality"), doc_id.alias("id"))


def _key_of(rank: Column) -> Column:
    """Node key of a rank struct: "i" + id for an indexed document, "n" + id for this run's."""
    return F.concat(F.when(rank["is_new"] == 0, F.lit(INDEXED_PREFIX)).otherwise(F.lit(NEW_PREFIX)), rank["id"])


def participating_frame(frame: DataFrame) -> DataFrame:
    """(id, text, quality) of the rows no earlier stage dropped; quality null when there is no quality_score."""
    quality = F.col("quality_score").cast("double") if "quality_score" in frame.columns else F.lit(None).cast("double")
    return frame.where(F.col("drop_reason").isNull()).select("id", "text", quality.alias("quality"))


def check_unique(docs: DataFrame) -> None:
    repeated = docs.groupBy("id").count().where(F.col("count") > 1).limit(3).collect()
    if repeated:
        raise ValueError(f"dedup needs unique ids; ids repeat, e.g. {sorted(row.id for row in repeated)}")


def index_frame(spark: SparkSession, config: DedupConfig) -> DataFrame:
    """(id, exact_hash, bands, signature) of the indexed documents of `config.index_paths` (checked)."""
    raw = read_parquet_frame(spark, index_files(config.index_paths, config), INDEX_READ_SCHEMA)
    unique = raw.dropDuplicates(["id", "exact_hash"])
    return unique.mapInArrow(index_bands_fn(config), from_arrow_schema(INDEX_BANDS_SCHEMA))


def star_edges_frame(nodes: DataFrame) -> DataFrame:
    """(src, dst) edges from every node to its bucket's minimum node, over buckets holding a new node.

    `nodes`: (node, bands array<bigint>, is_new int). One shuffle: a window over (band, hash).
    """
    bucket = Window.partitionBy("band", "hash")
    return (nodes.select("node", "is_new", F.posexplode("bands").alias("band", "hash"))
            .select("node", F.min("node").over(bucket).alias("center"), F.max("is_new").over(bucket).alias("anchored"))
            .where((F.col("node") != F.col("center")) & (F.col("anchored") == 1))
            .select(F.col("node").alias("src"), F.col("center").alias("dst")))


def connected_components_frame(edges: DataFrame, config: DedupConfig,
                               persisted: list[DataFrame] | None = None) -> DataFrame:
    """(node, label) for every node of `edges` (src, dst): label = the minimum node of its component.

    Alternates large-star (each node links its larger neighbors to its neighborhood's minimum) and
    small-star (each node links its smaller neighbors and itself to that minimum) until the edge set no
    longer changes: then every component is one star around its minimum. Per iteration two window
    shuffles and one aggregation, which both deduplicates the new edges and compares them with the old.
    The last iteration's edges stay persisted (the labels read them); they are appended to `persisted`
    for the caller to unpersist once the labels are materialized.
    """
    current = edges.select(F.greatest("src", "dst").alias("src"), F.least("src", "dst").alias("dst")).where(
        F.col("src") != F.col("dst"))
    previous = None
    for iteration in range(1, config.cc_max_iterations + 1):
        both = current.select(F.col("src").alias("u"), F.col("dst").alias("v")).unionByName(
            current.select(F.col("dst").alias("u"), F.col("src").alias("v")))
        large = (both.withColumn("m", F.min("v").over(Window.partitionBy("u"))).where(F.col("v") > F.col("u"))
                 .select(F.col("v").alias("src"), F.least("m", "u").alias("dst")))
        star = large.withColumn("m", F.min("dst").over(Window.partitionBy("src")))
        small = (star.where(F.col("dst") != F.col("m")).select(F.col("dst").alias("src"), F.col("m").alias("dst"))
                 .unionByName(star.select("src", F.col("m").alias("dst"))))
        merged = (current.select("src", "dst", F.lit(1).alias("old"), F.lit(0).alias("new"))
                  .unionByName(small.select("src", "dst", F.lit(0).alias("old"), F.lit(1).alias("new")))
                  .groupBy("src", "dst").agg(F.max("old").alias("old"), F.max("new").alias("new")))
        merged = merged.checkpoint() if iteration % config.cc_checkpoint_interval == 0 else merged.persist()
        changed = merged.where(F.col("old") != F.col("new")).limit(1).count()
        if previous is not None:
            previous.unpersist()
        previous = merged
        current = merged.where(F.col("new") == 1).select("src", "dst")
        log.info("connected components: iteration %d, edge set %s", iteration, "unchanged" if changed == 0 else "changed")
        if changed == 0:
            if persisted is not None:
                persisted.append(merged)
            roots = current.select(F.col("dst").alias("node")).distinct().withColumn("label", F.col("node"))
            return current.select(F.col("src").alias("node"), F.col("dst").alias("label")).unionByName(roots)
    raise ConnectedComponentsError(f"connected components did not converge in cc_max_iterations={config.cc_max_iterations}")


def _verify(edges: DataFrame, node_data: DataFrame, config: DedupConfig) -> DataFrame:
    """Keep the candidate edges whose similarity reaches the threshold (`dedup.features.verify_fn`)."""
    src = node_data.select(F.col("node").alias("src"), F.col("shingles").alias("src_shingles"),
                           F.col("signature").alias("src_signature"))
    dst = node_data.select(F.col("node").alias("dst"), F.col("shingles").alias("dst_shingles"),
                           F.col("signature").alias("dst_signature"))
    joined = edges.distinct().join(src, "src").join(dst, "dst").select(
        "src", "dst", "src_shingles", "dst_shingles", "src_signature", "dst_signature")
    return joined.mapInArrow(verify_fn(config), from_arrow_schema(VERIFY_SCHEMA)).where(F.col("keep")).select("src", "dst")


def dedup_frame(spark: SparkSession, frame: DataFrame, config: DedupConfig, checkpoint_dir: str,
                index_dir: str | None = None) -> DataFrame:
    """Decisions (DECISION_SCHEMA columns) for the rows of `frame` with a null `drop_reason`.

    Same contract and results as `dedup.local.dedup_table` (tested). Intermediate results are
    checkpointed under `checkpoint_dir` (features, exact groups, cluster decisions: each step's plan then
    starts from files, so plans stay small and nothing upstream is recomputed); with `index_dir`, the
    decisions are computed eagerly (checkpointed) and this run's kept documents are written there as an
    index (`dedup.index`).
    """
    spark.sparkContext.setCheckpointDir(checkpoint_dir)
    docs = participating_frame(frame)
    check_unique(docs)
    index = index_frame(spark, config).persist() if config.index_paths else None
    persisted = [index] if index is not None else []
    with_signature = index_dir is not None or (index is not None and config.verify_jaccard)
    schema = from_arrow_schema(features_schema(with_signature, config.verify_jaccard))
    features = docs.mapInArrow(features_fn(config, with_signature, config.verify_jaccard), schema).checkpoint()
    table = features.withColumn("rank", _rank(F.col("quality"), F.col("id"))).withColumn(
        "own", F.concat(F.lit(NEW_PREFIX), F.col("id")))

    # 1. exact: each group's representative is its minimum rank (indexed hashes join the groups)
    if config.exact:
        rows = table.withColumn("is_indexed", F.lit(0))
        if index is not None:
            indexed = index.select("exact_hash", _indexed_rank(F.col("id")).alias("rank"), F.lit(1).alias("is_indexed"))
            rows = rows.unionByName(indexed, allowMissingColumns=True)
        # documents without letters (null hash) get their own partition key: no skew onto one null key
        group = F.coalesce(F.concat(F.lit(bytearray(b"h")), F.col("exact_hash")),
                           F.concat(F.lit(bytearray(b"n")), F.col("id").cast("binary")))
        best = F.min("rank").over(Window.partitionBy(group))
        table = (rows.withColumn("group_key", F.when(F.col("exact_hash").isNull(), F.lit(None)).otherwise(_key_of(best)))
                 .where(F.col("is_indexed") == 0).drop("is_indexed")).checkpoint()
    else:
        table = table.withColumn("group_key", F.when(F.col("exact_hash").isNull(), F.lit(None)).otherwise(F.col("own")))

    # 2. near: components over the exact survivors and the indexed documents
    if config.near:
        candidates = table.where(F.col("group_key") == F.col("own"))
        nodes = candidates.select(F.col("own").alias("node"), "bands", F.lit(1).alias("is_new"))
        ranks = candidates.select(F.col("own").alias("node"), "rank", F.lit(0).alias("is_indexed"))
        if index is not None:
            index_node = F.concat(F.lit(INDEXED_PREFIX), F.col("id"))
            nodes = nodes.unionByName(index.select(index_node.alias("node"), "bands", F.lit(0).alias("is_new")))
            ranks = ranks.unionByName(index.select(index_node.alias("node"), _indexed_rank(F.col("id")).alias("rank"),
                                                   F.lit(1).alias("is_indexed")))
        edges = star_edges_frame(nodes)
        if config.verify_jaccard:
            signature = F.col("signature") if with_signature else F.lit(None).cast("array<int>")
            node_data = candidates.select(F.col("own").alias("node"), "shingles", signature.alias("signature"))
            if index is not None:
                node_data = node_data.unionByName(index.select(
                    F.concat(F.lit(INDEXED_PREFIX), F.col("id")).alias("node"),
                    F.lit(None).cast("array<int>").alias("shingles"), "signature"))
            edges = _verify(edges, node_data, config)
        labels = connected_components_frame(edges, config, persisted)
        component = Window.partitionBy("label")
        component_of = (labels.join(ranks, "node")
                        .select(F.col("node").alias("group_key"), _key_of(F.min("rank").over(component)).alias("rep_key"),
                                F.sum("is_indexed").over(component).alias("indexed")))
        table = table.join(component_of, "group_key", "left").withColumn(
            "final_key", F.coalesce(F.col("rep_key"), F.col("group_key"))).select(
            "id", "own", "group_key", "final_key", "indexed", "line_hashes")
    else:
        table = table.withColumn("final_key", F.col("group_key")).withColumn("indexed", F.lit(None).cast("long"))

    reason = (F.when(F.col("group_key") != F.col("own"), F.lit(REASON_EXACT))
              .when(F.col("final_key") != F.col("own"), F.lit(REASON_NEAR)))
    new_members = F.count(F.lit(1)).over(Window.partitionBy(F.coalesce(F.col("final_key"), F.col("own"))))
    indexed_members = F.coalesce(
        F.col("indexed"), F.when(F.col("final_key").startswith(INDEXED_PREFIX), F.lit(1)).otherwise(F.lit(0)))
    size = F.when(F.col("final_key").isNull(), F.lit(1)).otherwise(new_members + indexed_members).cast("int")
    table = (table.withColumn("dedup_drop_reason", reason).withColumn("dup_cluster_size", size)
             .withColumn("dup_cluster", F.when(F.col("dup_cluster_size") > 1, F.expr("substring(final_key, 2)"))))

    # 3. repeated lines, counted over the survivors of 1 and 2; removed by `finish_fn` with the text
    decided = table.select("id", "dup_cluster", "dup_cluster_size", "dedup_drop_reason", "line_hashes").checkpoint()
    for frame_to_free in persisted:  # everything upstream of the checkpoint is no longer read
        frame_to_free.unpersist()
    if config.repeated_lines:
        per_doc = (decided.where(F.col("dedup_drop_reason").isNull())
                   .select("id", F.explode("line_hashes").alias("h")))
        # groupBy + semi-join rather than a window: a boilerplate line can be in millions of documents,
        # and the partial aggregation keeps that hot key from landing in one task
        frequent = per_doc.groupBy("h").count().where(F.col("count") >= config.min_docs_for_repeated_line).select("h")
        repeated = per_doc.join(frequent, "h", "left_semi").groupBy("id").agg(F.collect_list("h").alias("repeated"))
        decided = decided.join(repeated, "id", "left")
    else:
        decided = decided.withColumn("repeated", F.lit(None).cast("array<bigint>"))
    with_text = decided.join(docs.select("id", "text"), "id").select(
        "id", "text", "dup_cluster", "dup_cluster_size", "dedup_drop_reason", "repeated")
    decisions = with_text.mapInArrow(finish_fn(config), from_arrow_schema(DECISION_SCHEMA))
    if index_dir is not None:
        decisions = decisions.checkpoint()  # read twice: by the index writer and by the caller
        kept = (decisions.where(F.col("dedup_drop_reason").isNull()).select("id")
                .join(features.where(F.col("exact_hash").isNotNull()).select("id", "exact_hash", "signature"), "id"))
        write_index_frame(kept, index_dir, config)
    return decisions


def write_index_frame(kept: DataFrame, index_dir: str, config: DedupConfig) -> int:
    """Write (id, exact_hash, signature) rows as an index (`dedup.index` layout); returns the row count."""
    rows = kept.count()
    files = file_count(rows)
    prepare_dir(index_dir)
    number = F.conv(F.substring(F.sha1(F.col("id").cast("binary")), 1, 8), 16, 10).cast("long") % F.lit(files)
    written = (kept.withColumn("file", number).repartition(files, "file")
               .mapInArrow(write_parts_fn(index_dir), from_arrow_schema(WRITTEN_SCHEMA)).collect())
    if sum(row.rows for row in written) != rows:
        raise RuntimeError(f"index parts hold {sum(row.rows for row in written)} rows, expected {rows}")
    for number in sorted(set(range(files)) - {row.file for row in written}):  # no rows hashed to it
        write_part(index_dir, number, INDEX_SCHEMA.empty_table())
    write_meta(index_dir, config, rows)
    return rows


def apply_decisions_frame(frame: DataFrame, decisions: DataFrame) -> DataFrame:
    """`frame` with the decisions joined by id (as `dedup.local.apply_decisions`): new `text`, the signal
    columns, and `drop_reason` set from `dedup_drop_reason` only where it was null."""
    signals = [field.name for field in DEDUP_FIELDS]
    joined = frame.drop(*[name for name in signals if name in frame.columns]).join(
        decisions.select("id", F.lit(True).alias("_decided"), F.col("text").alias("_dedup_text"),
                         F.col("dedup_drop_reason").alias("_dedup_reason"), *signals), "id", "left")
    # rows an earlier stage dropped took no part, even where another row has their id
    applies = F.col("_decided").isNotNull() & F.col("drop_reason").isNull()
    for name in signals:
        joined = joined.withColumn(name, F.when(applies, F.col(name)))
    return (joined.withColumn("text", F.when(applies, F.col("_dedup_text")).otherwise(F.col("text")))
            .withColumn("drop_reason", F.coalesce(F.col("drop_reason"), F.when(applies, F.col("_dedup_reason"))))
            .drop("_decided", "_dedup_text", "_dedup_reason"))


def decision_summary_frame(decisions: DataFrame) -> dict:
    """`dedup.decisions.decision_summary` computed with Spark aggregations (only small results collected)."""
    reasons = {row["dedup_drop_reason"]: row["count"] for row in decisions.groupBy("dedup_drop_reason").count().collect()}
    clusters = (decisions.where(F.col("dup_cluster").isNotNull()).groupBy("dup_cluster")
                .agg(F.max("dup_cluster_size").alias("size")))
    sizes = {row["size"]: row["count"] for row in clusters.groupBy("size").count().collect()}
    largest = clusters.orderBy(F.col("size").desc(), F.col("dup_cluster")).limit(1).collect()
    totals = decisions.agg(F.sum("repeated_lines_removed").alias("lines"),
                           F.sum("repeated_chars_removed").alias("chars")).collect()[0]
    return summary_from_counts(reasons, sizes, (largest[0]["dup_cluster"], largest[0]["size"]) if largest else None,
                               totals["lines"] or 0, totals["chars"] or 0)
