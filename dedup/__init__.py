"""De-duplication at three levels: exact documents, MinHash LSH near-duplicates, repeated lines.

Single machine (`run_stages`, tests):
    decisions = dedup.local.dedup_table(table, DedupConfig(), index_dir="OUT/dedup/index")
    table = dedup.local.apply_decisions(table, decisions)
Spark (`build_corpus`; the glue lives with the rest of the Spark engine's, pipeline/spark/dedup.py):
    decisions = pipeline.spark.dedup.dedup_frame(spark, frame, DedupConfig(), checkpoint_dir, index_dir=...)
    frame = pipeline.spark.dedup.apply_decisions_frame(frame, decisions)
Both take the rows whose `drop_reason` is null (`id` unique, `text`, optional `quality_score`) and return
the same decisions keyed by id (`dedup.decisions`: columns, reasons, the representative rule). A later
crawl is de-duplicated against earlier ones with `DedupConfig(index_paths=("OLD_OUT/dedup",))`.

Modules: `config` (DedupConfig), `normalize` (the one normalization, shingles), `minhash` (numpy
signatures identical to datasketch's), `lsh` (bands, star edges, connected components), `lines` (exact
and line hashes, line removal), `features` (Arrow batch functions Spark runs), `index` (the persisted
index), `local`, `decisions` (output contract, summary, the declared rules). None imports pyspark.
"""
