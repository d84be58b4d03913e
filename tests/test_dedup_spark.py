"""De-duplication, Spark path: the same decisions and index as the single-machine path.

One Spark run with the default config (verification on) over a corpus that exercises every branch
(exact and near groups with quality scores, a missing score against 0.0, a chain, documents without
letters, earlier drops, boilerplate lines, a previous run's index), with the input split into shuffled
partitions; its decisions and written index must equal the local ones. A second, smaller run covers the switches off.
"""
from __future__ import annotations

import math
import random
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from dedup.config import DedupConfig
from dedup.decisions import REASON_EXACT, REASON_LINES, REASON_NEAR
from dedup.decisions import decision_summary
from dedup.local import apply_decisions, dedup_table
from dedup.lsh import connected_components
from tests.dedup_cases import (BOILERPLATE, NULL_SCORE_FATES, SCHEMA, chain_texts, null_score_clusters, table, variant,
                                words)

SPARK_SCHEMA = "id string, text string, drop_reason string, quality_score double"


def corpus() -> tuple[list[dict], list[dict]]:
    """(previous run's rows, this run's rows)."""
    rng = random.Random(31)
    old = [{"id": f"old{k}", "text": " ".join(words(rng, 120))} for k in range(4)]
    rows = []
    for group in range(5):
        base = words(rng, 150)
        for k in range(3):
            rows.append({"id": f"g{group}-{rng.randrange(1000):03d}", "text": " ".join(variant(base, rng, k)),
                         "quality_score": rng.choice([None, float("nan"), 0.2, 0.7, 0.7])})
        rows.append({"id": f"g{group}-exact", "text": " ".join(base).upper() + " !"})
    rows += [{"id": k, "text": v} for k, v in list(chain_texts(length=6).items())]
    rows += [{"id": f"b{k}", "text": "\n".join([BOILERPLATE[k % 2], " ".join(words(rng, 40)), BOILERPLATE[0]])}
             for k in range(4)]
    rows += [{"id": "boiler-only", "text": "\n".join(BOILERPLATE + ["tiny"])}]
    rows += [{"id": "no-letters", "text": "123 456"}, {"id": "no-letters-2", "text": "!!!"},
             {"id": "empty", "text": ""}, {"id": "dropped", "text": rows[0]["text"], "drop_reason": "url:blocked"}]
    rows += [{"id": "old-exact", "text": old[1]["text"].lower()},
             {"id": "old-near", "text": " ".join(variant(old[2]["text"].split(), rng, 1))},
             {"id": "old0", "text": old[0]["text"]}]
    rows += null_score_clusters(rng)  # a missing score below 0.0
    return old, rows


@pytest.fixture(scope="module", autouse=True)
def no_adaptive_execution(spark):
    """AQE re-plans after every shuffle: on these tiny inputs that costs more than the work (a dedup run
    has ~20 shuffles). Results do not depend on it; benchmarks/dedup_scaling.py compares the Spark path
    with AQE on against the local path at 100k and 1M documents. Restored for the other test modules."""
    previous = spark.conf.get("spark.sql.adaptive.enabled")
    spark.conf.set("spark.sql.adaptive.enabled", "false")
    yield
    spark.conf.set("spark.sql.adaptive.enabled", previous)


@pytest.fixture(scope="module")
def runs(spark, tmp_path_factory):
    work: Path = tmp_path_factory.mktemp("dedup_spark")
    old, rows = corpus()
    dedup_table(table(old), DedupConfig(), index_dir=str(work / "previous/dedup/index"))
    config = DedupConfig(index_paths=(str(work / "previous/dedup"),))
    local = dedup_table(table(rows), config, index_dir=str(work / "local_index"))
    shuffled = list(rows)
    random.Random(1).shuffle(shuffled)
    frame = spark.createDataFrame([tuple((row | {}).get(name) for name in SCHEMA.names) for row in shuffled],
                                  SPARK_SCHEMA).repartition(3)
    from pipeline.spark.dedup import apply_decisions_frame, decision_summary_frame, dedup_frame

    decisions = dedup_frame(spark, frame, config, str(work / "checkpoints"), index_dir=str(work / "spark_index"))
    applied = apply_decisions_frame(frame, decisions).collect()
    return {"work": work, "local": local, "spark": pa.Table.from_pylist([row.asDict() for row in decisions.collect()]),
            "applied_local": apply_decisions(table(rows), local), "applied_spark": [row.asDict() for row in applied],
            "summary": decision_summary_frame(decisions)}


def rows_by_id(decisions: pa.Table) -> dict[str, dict]:
    def comparable(value):  # NaN != NaN: compare a NaN score as a marker
        return "NaN" if isinstance(value, float) and math.isnan(value) else value

    return {row["id"]: {key: comparable(value) for key, value in row.items()} for row in decisions.to_pylist()}


def test_spark_decisions_equal_local(runs):
    local = runs["local"]
    assert rows_by_id(runs["spark"]) == rows_by_id(local)
    assert runs["summary"] == decision_summary(local)
    assert rows_by_id(pa.Table.from_pylist(runs["applied_spark"]).select(runs["applied_local"].column_names)) == \
        rows_by_id(runs["applied_local"])
    got = rows_by_id(local)
    reasons = [row["dedup_drop_reason"] for row in got.values()]
    # the corpus exercises every outcome
    assert {REASON_EXACT, REASON_NEAR, REASON_LINES, None} == set(reasons)
    assert got["old-exact"]["dup_cluster"] == "old1" and got["old-near"]["dup_cluster"] == "old2"
    assert got["c05"]["dup_cluster"] == "c00" and got["c00"]["dup_cluster_size"] == 6
    assert got["boiler-only"]["dedup_drop_reason"] == REASON_LINES
    assert got["b0"]["repeated_lines_removed"] == 2 and got["b1"]["repeated_lines_removed"] == 2
    assert "dropped" not in got and got["empty"]["dup_cluster_size"] == 1
    spark_fates = {k: (v["dup_cluster"], v["dedup_drop_reason"]) for k, v in rows_by_id(runs["spark"]).items()}
    assert {k: v for k, v in spark_fates.items() if k in NULL_SCORE_FATES} == NULL_SCORE_FATES


def test_spark_index_equals_local_index(runs):
    work = runs["work"]
    for name in ["part-00000.parquet", "_index.json"]:
        assert (work / "spark_index" / name).read_bytes() == (work / "local_index" / name).read_bytes()


def test_spark_unverified_chain_matches_local(spark, tmp_path):
    """The other branches: no verification, no exact step, no repeated lines (the main run has them on)."""
    from pipeline.spark.dedup import dedup_frame

    texts = chain_texts(length=8)
    rows = [{"id": k, "text": v} for k, v in texts.items()]
    config = DedupConfig(verify_jaccard=False, repeated_lines=False, exact=False)
    frame = spark.createDataFrame([(r["id"], r["text"], None, None) for r in rows], SPARK_SCHEMA)
    got = rows_by_id(pa.Table.from_pylist([r.asDict() for r in dedup_frame(spark, frame, config, str(tmp_path)).collect()]))
    assert got == rows_by_id(dedup_table(table(rows), config))
    assert {row["dup_cluster"] for row in got.values()} == {"c00"}


def test_spark_connected_components_equal_numpy(spark, tmp_path):
    from pipeline.spark.dedup import connected_components_frame

    spark.sparkContext.setCheckpointDir(str(tmp_path))
    rng = np.random.default_rng(3)
    n = 30
    order = rng.permutation(n)
    edges = list(zip(order[:8], order[1:9]))  # a 9-node path in scrambled order
    edges += [(order[20], order[21]), (order[22], order[21]), (order[23], order[20])]  # a small tree
    names = [f"v{i:02d}" for i in range(n)]
    frame = spark.createDataFrame([(names[a], names[b]) for a, b in edges], "src string, dst string")
    got = {row.node: row.label for row in connected_components_frame(frame, DedupConfig(cc_checkpoint_interval=2)).collect()}
    sources, targets = np.array([e[0] for e in edges]), np.array([e[1] for e in edges])
    labels = connected_components(n, sources, targets)
    in_edges = {int(x) for e in edges for x in e}
    assert got == {names[i]: names[int(labels[i])] for i in sorted(in_edges)}
