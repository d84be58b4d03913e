"""The Spark corpus job end to end: accounting, failed inputs, determinism and resume after a crash."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from jobs import run_stages
from pipeline.config import load_config
from pipeline.corpus import AccountingError, extract_unit, part_name, summarize
from pipeline.outputs import ConfigMismatchError, OutputDir
from pipeline.spark.job import build_corpus
from testkit.records import ARTICLE, info, request, response
from testkit.warc_writer import gzip_member
from tests.conftest import file_digests, read_corpus


EXTRACT_ONLY = load_config(None, ["pipeline.stages=['extract']"])


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> list[str]:
    """Three WARC files whose records and expected fates are known by construction."""
    from testkit.warc_writer import write_warc

    root = tmp_path_factory.mktemp("warcs")
    good = write_warc(root / "CC-MAIN-2026-08-a.warc.gz", [
        info(), request("a1"), response("a1", ARTICLE), request("a2"),
        response("a2", "<html><body>not found</body></html>", status=404),
        response("a3", b"\x89PNG....", content_type="image/png"),
    ])
    cut_member = gzip_member(response("b2", ARTICLE))
    cut = write_warc(root / "CC-MAIN-2026-08-b.warc.gz", [info(), response("b1", ARTICLE.replace("beans", "peas"))])
    with open(cut, "ab") as handle:
        handle.write(cut_member[: len(cut_member) // 2])
    broken = root / "CC-MAIN-2026-08-c.warc.gz"
    broken.write_bytes(b"\x1f\x8b\x08\x00" + b"\x00" * 64)
    return [str(good), str(cut), str(broken)]


@pytest.fixture(scope="module")
def first_run(spark, inputs, tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("run1")
    return out, build_corpus(spark, inputs, str(out), EXTRACT_ONLY)


def test_summary_counts_every_record(first_run, inputs):
    _, summary = first_run
    assert summary["records_read"] == 6 + 3 + 0  # a: 6 records; b: warcinfo, a good and a cut response; c: none
    assert summary["records_by_type"] == {"request": 2, "response": 5, "warcinfo": 2}
    assert (summary["documents"], summary["kept"], summary["dropped"]) == (5, 2, 3)
    assert summary["dropped_by_reason"] == {
        "extract:not_html": 1, "warc:non_200_status": 1, "warc:truncated_record": 1}
    assert [(f["warc_path"], f["records_recovered"]) for f in summary["failed_inputs"]] == [
        (inputs[1], 3), (inputs[2], 0)]
    assert summary["failed_inputs"][0]["error"].startswith("WarcFileError: truncated gzip member")
    assert summary["failed_inputs"][1]["error"].startswith("WarcFileError: corrupt gzip data")


def test_outputs_split_kept_and_rejected_rows(first_run, inputs):
    import pyarrow.parquet as pq

    out, summary = first_run
    corpus = read_corpus(out).to_pylist()
    rejected = pq.read_table(out / "rejected").to_pylist()
    assert sorted(r["url"] for r in corpus) == ["https://site.example/a1", "https://site.example/b1"]
    assert all(r["drop_reason"] is None and "planted" in r["text"] for r in corpus)
    assert {r["crawl"] for r in corpus} == {"CC-MAIN-2026-08"}
    assert sorted(r["drop_reason"] for r in rejected) == sorted(
        ["extract:not_html", "warc:non_200_status", "warc:truncated_record"])
    assert json.loads((out / "stats" / "summary.json").read_text()) == summary
    assert sorted(path.name for path in (out / "corpus").iterdir()) == sorted(
        [f"{part_name(path)}.parquet" for path in inputs] + ["README.md"])  # the data and its card: `datasets`
    # takes every other file there for data
    for folder in ("", "rejected", "extracted", "stats"):
        assert (out / folder / "_config.toml").read_text().startswith("# config_hash = ")


def test_second_identical_run_is_byte_identical(spark, inputs, first_run, tmp_path):
    out, _ = first_run
    build_corpus(spark, inputs, str(tmp_path), EXTRACT_ONLY)
    assert file_digests(tmp_path) == file_digests(out)


def test_interrupted_run_resumes_to_identical_output(spark, inputs, first_run, tmp_path):
    out, _ = first_run
    config = EXTRACT_ONLY
    crashed = OutputDir(str(tmp_path))
    crashed.claim(config, ())
    extract_unit(crashed, inputs[0], config)  # finished before the crash
    marker = next((tmp_path / "extracted" / "_done").iterdir())
    finished_at = marker.stat().st_mtime_ns
    (tmp_path / "extracted" / "part-0123.parquet.tmp-dead").write_bytes(b"half a file")  # killed mid-write
    (tmp_path / "stats").mkdir()
    (tmp_path / "stats" / "tokens.parquet.tmp-dead").write_bytes(b"half a table")  # killed writing the stats
    build_corpus(spark, inputs, str(tmp_path), config)
    assert marker.stat().st_mtime_ns == finished_at  # the finished unit was not redone
    assert file_digests(tmp_path) == file_digests(out)


def test_rerun_with_another_config_is_refused(spark, inputs, first_run):
    out, _ = first_run
    with pytest.raises(ConfigMismatchError, match="holds output of another config"):
        build_corpus(spark, inputs, str(out), load_config(None, ["pipeline.stages=['extract']", "extract.timeout_seconds=3"]))


def test_run_stages_gives_the_same_summary_and_rows(first_run, inputs, tmp_path):
    import pyarrow.parquet as pq

    out, summary = first_run
    assert run_stages.main(["--stages", "extract", "--input", *inputs, "--output", str(tmp_path)]) == 0
    assert json.loads((tmp_path / "stats" / "summary.json").read_text()) == summary
    in_process = pq.read_table(tmp_path / "documents.parquet").sort_by("id")
    spark_rows = pq.read_table(out / "extracted").sort_by("id")
    assert in_process.equals(spark_rows)


def test_accounting_invariant_names_the_file_that_breaks_it():
    manifest = {"warc_path": "x.warc.gz", "records_read": 5, "records_by_type": {"request": 2, "response": 3},
                "error": None}
    assert summarize([manifest], [("x.warc.gz", None, 2), ("x.warc.gz", "extract:not_html", 1)], "h")["kept"] == 2
    with pytest.raises(AccountingError, match=r"x.warc.gz: records_read=5 != non_document=2 \+ kept=2 \+ dropped=0"):
        summarize([manifest], [("x.warc.gz", None, 2)], "h")


def test_commit_in_slices_writes_the_rows_of_a_whole_part_commit(tmp_path, monkeypatch):
    # commit_unit finishes a part a slice of row groups at a time (dedup's decisions, then the pii stage);
    # with slices of 3 rows over a 10-row JSONL part (row groups of 3 rows), the kept and rejected files hold
    # exactly the rows, in order, of a commit that reads the part in one piece
    import pyarrow.parquet as pq

    import pipeline.corpus as corpus

    source = tmp_path / "docs.jsonl"
    one, two = "Write to ann@gmail.com today.", "Write to ann@gmail.com or bob@yahoo.com today."
    lines = [json.dumps({"id": f"d{i}", "text": two if i % 3 == 0 else one}) for i in range(10)]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = load_config(None, ["pipeline.stages=['extract','dedup','pii']", "pipeline.batch_rows=3",
                                "pii.max_entities_per_doc=1", "dedup.exact=false", "dedup.near=false",
                                "dedup.repeated_lines=false"])

    def commit(folder: Path) -> dict[str, list[dict]]:
        out = OutputDir(str(folder))
        extract_unit(out, str(source), config)
        corpus.commit_unit(out, str(source), config)
        return {name: pq.read_table(folder / name / f"{corpus.part_name(str(source))}.parquet").to_pylist()
                for name in ("corpus", "rejected")}

    whole = commit(tmp_path / "whole")
    monkeypatch.setattr(corpus, "COMMIT_BATCH_ROWS", 3)
    sliced = commit(tmp_path / "sliced")
    assert sliced == whole
    assert [row["id"] for row in whole["rejected"]] == ["d0", "d3", "d6", "d9"]  # two emails each, in order
    assert [row["drop_reason"] for row in whole["rejected"]] == ["pii:too_many_entities"] * 4
    assert [row["text"] for row in whole["corpus"]] == ["Write to <EMAIL_ADDRESS> today."] * 6


def test_slices_close_at_the_row_or_byte_bound_on_row_group_boundaries(tmp_path, monkeypatch):
    import pyarrow as pa
    import pyarrow.parquet as pq

    import pipeline.corpus as corpus

    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"n": list(range(10))}), path, row_group_size=3)  # groups of 3, 3, 3, 1
    file = pq.ParquetFile(path)
    monkeypatch.setattr(corpus, "COMMIT_BATCH_ROWS", 4)
    assert [piece["n"].to_pylist() for piece in corpus.slices(file, file.schema_arrow)] == [
        [0, 1, 2, 3, 4, 5], [6, 7, 8, 9]]
    monkeypatch.setattr(corpus, "COMMIT_BATCH_ROWS", 100)
    monkeypatch.setattr(corpus, "COMMIT_BATCH_BYTES", 1)  # every row group is over the byte bound
    assert [piece["n"].to_pylist() for piece in corpus.slices(file, file.schema_arrow)] == [
        [0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    monkeypatch.setattr(corpus, "COMMIT_BATCH_BYTES", 1 << 30)
    assert [piece["n"].to_pylist() for piece in corpus.slices(file, file.schema_arrow)] == [list(range(10))]
    empty = tmp_path / "e.parquet"
    pq.write_table(pa.table({"n": pa.array([], pa.int64())}), empty)
    assert list(corpus.slices(pq.ParquetFile(empty), pa.schema([("n", pa.int64())]))) == []
