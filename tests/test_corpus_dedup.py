"""The dedup stage inside the corpus job: Spark (`build_corpus`) and in-process (`run_stages`) give the same
rows; duplicates found across inputs, a record id seen twice, repeated lines, resume, a later run
de-duplicated against the index of an earlier one, and the accounting check firing inside both jobs."""
from __future__ import annotations

import json
import random
import re
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import jobs.build_corpus
from jobs import run_stages
from pipeline.config import load_config
from pipeline.corpus import AccountingError, part_name
from pipeline.spark.job import build_corpus
from tests.conftest import file_digests, read_corpus

STAGES = "pipeline.stages=['extract', 'dedup']"
CONFIG = load_config(None, [STAGES])
BOILERPLATE = "Subscribe to the parish newsletter for weekly news from the village hall"


def article(topic: str, words: int = 120) -> str:
    """A text of pseudo-words seeded by `topic`: two topics share next to no word 5-gram."""
    rng = random.Random(topic)
    syllables = ["ka", "lo", "mi", "ter", "sun", "dra", "vel", "op", "rin", "zu", "heb", "ast"]
    return " ".join("".join(rng.choices(syllables, k=rng.randint(1, 3))) for _ in range(words)) + "."


def edited(text: str, every: int) -> str:
    """`text` with every `every`-th word replaced: a lightly edited copy."""
    return " ".join("changed" if i % every == 0 else word for i, word in enumerate(text.split()))


def jaccard_5gram(a: str, b: str) -> float:
    """Word 5-gram Jaccard on lowercased alphabetic words (dedup.normalize's form for these ASCII texts)."""
    def grams(text: str) -> set[tuple[str, ...]]:
        words = re.findall(r"[a-z]+", text.lower())
        return {tuple(words[i:i + 5]) for i in range(len(words) - 4)}
    return len(grams(a) & grams(b)) / len(grams(a) | grams(b))


ORIGINAL = article("village pond")
NEAR = edited(ORIGINAL, every=40)
DOCS = {
    "a.jsonl": [
        {"id": "pond", "text": ORIGINAL},
        {"id": "pond-shouting", "text": ORIGINAL.upper() + "!!"},  # exact after normalization
        {"id": "bakery", "text": article("bakery") + "\n" + BOILERPLATE},
        {"id": "bakery", "text": article("bakery")},  # the id again in the same input
    ],
    "b.jsonl": [
        {"id": "pond-edited", "text": NEAR},
        {"id": "bakery", "text": article("bakery") + "\n" + BOILERPLATE},  # the same record in a second input
        {"id": "church", "text": article("church tower") + "\n" + BOILERPLATE},
    ],
    "c.jsonl": [
        {"id": "school", "text": article("old school") + "\n" + BOILERPLATE},
        {"id": "mill", "text": article("water mill")},
    ],
}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> list[str]:
    root = tmp_path_factory.mktemp("tables")
    for name, rows in DOCS.items():
        (root / name).write_text("".join(json.dumps(row) + "\n" for row in rows))
    return [str(root / name) for name in DOCS]


@pytest.fixture(scope="module")
def spark_run(spark, inputs, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("spark")
    build_corpus(spark, inputs, str(out), CONFIG)
    return out


def rows_of(out: Path) -> dict[tuple[str, str], dict]:
    """Rows by (input file name, id), without the repeats marked while reading (they share a key)."""
    table = read_corpus(out).to_pylist() + pq.read_table(out / "rejected").to_pylist()
    return {(Path(row["warc_path"]).name, row["id"]): row for row in table if row["drop_reason"] != "input:duplicate_id"}


def test_the_near_copy_is_a_near_duplicate_by_construction():
    assert 0.5 <= jaccard_5gram(ORIGINAL, NEAR) < 0.9


def test_each_document_gets_its_expected_fate(spark_run):
    rows = rows_of(spark_run)
    fate = {key: (row["drop_reason"], row["dup_cluster"], row["dup_cluster_size"]) for key, row in rows.items()}
    assert fate == {
        # "pond" < "pond-edited" < "pond-shouting": the lowest id represents the cluster (no quality score)
        ("a.jsonl", "pond"): (None, "pond", 3),
        ("a.jsonl", "pond-shouting"): ("dedup:exact_duplicate", "pond", 3),
        ("b.jsonl", "pond-edited"): ("dedup:near_duplicate", "pond", 3),
        ("a.jsonl", "bakery"): (None, None, 1),
        ("b.jsonl", "bakery"): ("dedup:duplicate_id", None, None),
        ("b.jsonl", "church"): (None, None, 1),
        ("c.jsonl", "school"): (None, None, 1),
        ("c.jsonl", "mill"): (None, None, 1),
    }
    # the second row of "bakery" in a.jsonl was marked while reading; it has the same key as the first
    rejected = pq.read_table(spark_run / "rejected").to_pylist()
    assert sorted(r["drop_reason"] for r in rejected if Path(r["warc_path"]).name == "a.jsonl") == [
        "dedup:exact_duplicate", "input:duplicate_id"]


def test_a_line_in_three_surviving_documents_is_removed(spark_run):
    rows = rows_of(spark_run)
    for key in (("a.jsonl", "bakery"), ("b.jsonl", "church"), ("c.jsonl", "school")):
        original = next(r["text"] for r in DOCS[key[0]] if r["id"] == key[1])
        row = rows[key]
        assert BOILERPLATE not in row["text"] and row["text"] == original.removesuffix("\n" + BOILERPLATE)
        assert (row["repeated_lines_removed"], row["repeated_chars_removed"]) == (1, len(BOILERPLATE) + 1)
    assert rows[("c.jsonl", "mill")]["repeated_lines_removed"] == 0
    assert rows[("b.jsonl", "bakery")]["text"] == DOCS["b.jsonl"][1]["text"]  # a dropped repeat is untouched


def test_summary_accounts_for_every_row(spark_run):
    summary = json.loads((spark_run / "stats" / "summary.json").read_text())
    assert (summary["documents"], summary["kept"]) == (9, 5)
    assert summary["dropped_by_reason"] == {"dedup:duplicate_id": 1, "dedup:exact_duplicate": 1,
                                            "dedup:near_duplicate": 1, "input:duplicate_id": 1}
    done = json.loads((spark_run / "dedup" / "_done.json").read_text())
    assert (done["clusters"], done["largest_cluster"]) == (1, {"representative": "pond", "size": 3})
    assert not (spark_run / "dedup" / "_checkpoints").exists()


def test_run_stages_gives_the_same_rows(spark_run, inputs, tmp_path):
    assert run_stages.main(["--stages", "extract,dedup", "--input", *inputs, "--output", str(tmp_path)]) == 0
    in_process = pq.read_table(tmp_path / "documents.parquet").sort_by([("warc_path", "ascending"), ("id", "ascending")])
    both = read_corpus(spark_run).to_pylist() + pq.read_table(spark_run / "rejected").to_pylist()
    key = lambda row: (row["warc_path"], row["id"], row["drop_reason"] or "")  # noqa: E731
    assert sorted(in_process.to_pylist(), key=key) == sorted(both, key=key)
    assert file_digests(tmp_path / "dedup" / "index") == file_digests(spark_run / "dedup" / "index")


def test_resumed_and_repeated_runs_are_byte_identical(spark, spark_run, inputs, tmp_path):
    build_corpus(spark, inputs, str(tmp_path), CONFIG)
    for marker in (tmp_path / "stats" / "parts").glob("*.json"):  # killed after dedup, before any commit
        marker.unlink()
    (tmp_path / "corpus" / "part-0123.parquet.tmp-dead").write_bytes(b"half a file")
    build_corpus(spark, inputs, str(tmp_path), CONFIG)
    assert file_digests(tmp_path) == file_digests(spark_run)  # dedup's decision files included


def test_a_later_run_is_deduplicated_against_the_earlier_index(spark, spark_run, inputs, tmp_path):
    config = load_config(None, [STAGES, f"dedup.index_paths=['{spark_run / 'dedup'}']"])
    build_corpus(spark, inputs[2:], str(tmp_path), config)
    rows = rows_of(tmp_path)
    assert {key: (row["drop_reason"], row["dup_cluster"]) for key, row in rows.items()} == {
        ("c.jsonl", "school"): ("dedup:exact_duplicate", "school"),
        ("c.jsonl", "mill"): ("dedup:exact_duplicate", "mill"),
    }


# ---- the accounting check inside the jobs ---------------------------------------------------------------
# a.jsonl: 4 records read, all documents; kept "pond" and "bakery"; dropped "pond-shouting" (exact duplicate)
# and the second "bakery" (input:duplicate_id), by construction (test_each_document_gets_its_expected_fate).
A_RECORDS, A_KEPT, A_DROPPED = 4, 2, 2


def accounting_line(job: str, path: str, kept: int, dropped: int) -> str:
    return (f"{job} failed: accounting invariant broken: {path}: records_read={A_RECORDS} != non_document=0 "
            f"+ kept={kept} + dropped={dropped}")


def test_build_corpus_rerun_over_a_part_that_lost_a_row_fails_naming_the_file(spark, spark_run, inputs, tmp_path,
                                                                               monkeypatch, capsys):
    """A committed part lost a row after its run (a disk fault, an interrupted copy or sync of the output):
    its completion marker still says done, so the rerun redoes nothing, and the summary, counted from the
    written files, is what must notice."""
    out = tmp_path / "out"
    shutil.copytree(spark_run, out)
    assert (out / "stats" / "summary.json").exists()  # the good run's, which the failing rerun must remove
    part = out / "rejected" / f"{part_name(inputs[0])}.parquet"
    rows = pq.read_table(part)
    assert rows.num_rows == A_DROPPED
    pq.write_table(rows.slice(1), part)
    monkeypatch.setattr(spark, "stop", lambda: None)  # main() stops its session; this one serves the module
    monkeypatch.setattr(jobs.build_corpus, "spark_session", lambda name: spark)
    capsys.readouterr()
    assert jobs.build_corpus.main(["--input", *inputs, "--output", str(out), "--set", STAGES]) == 1
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [accounting_line("build_corpus", inputs[0], A_KEPT, A_DROPPED - 1)]
    assert captured.out == ""
    assert not (out / "stats" / "summary.json").exists()
    # the same through the function, with the whole part gone: kept rows of b.jsonl are not counted at all
    (out / "corpus" / f"{part_name(inputs[1])}.parquet").unlink()
    with pytest.raises(AccountingError, match=re.escape(f"{inputs[1]}: records_read=3 != non_document=0 + kept=0 "
                                                  f"+ dropped=2")):
        build_corpus(spark, inputs, str(out), CONFIG)


def test_run_stages_whose_global_stage_loses_a_row_fails_naming_the_file(inputs, tmp_path, monkeypatch, capsys):
    """run_stages holds everything in one process, so nothing outside can damage its parts; the fault it can
    meet is a global stage that loses a row between the written documents and the summary (e.g. a join by id
    that drops rows): dedup_run here returns its rows less one of a.jsonl's."""
    real_dedup_run = run_stages.dedup_run

    def losing_dedup_run(*args, **kwargs):
        table = real_dedup_run(*args, **kwargs)
        lost = table.column("id").to_pylist().index("pond-shouting")
        return table.take([i for i in range(table.num_rows) if i != lost])

    monkeypatch.setattr(run_stages, "dedup_run", losing_dedup_run)
    (tmp_path / "stats").mkdir()
    (tmp_path / "stats" / "summary.json").write_text("{}")  # an earlier run's, which must not outlive this one
    capsys.readouterr()
    assert run_stages.main(["--stages", "extract,dedup", "--input", *inputs, "--output", str(tmp_path)]) == 1
    assert capsys.readouterr().err.splitlines() == [accounting_line("run_stages", inputs[0], A_KEPT, A_DROPPED - 1)]
    assert not (tmp_path / "stats" / "summary.json").exists()
