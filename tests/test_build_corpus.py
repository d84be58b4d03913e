"""The Spark corpus job end to end: accounting, failed inputs, determinism and resume after a crash."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from jobs import run_stages
from pipeline.config import load_config
from pipeline.corpus import AccountingError, extract_unit, summarize
from pipeline.outputs import ConfigMismatchError, OutputDir
from pipeline.spark import build_corpus
from pipeline.warc_writer import gzip_member
from tests.conftest import ARTICLE, info, request, response


EXTRACT_ONLY = load_config(None, ["pipeline.stages=['extract']"])


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> list[str]:
    """Three WARC files whose records and expected fates are known by construction."""
    from pipeline.warc_writer import write_warc

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


def file_digests(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*")) if path.is_file()
    }


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


def test_outputs_split_kept_and_rejected_rows(first_run):
    import pyarrow.parquet as pq

    out, summary = first_run
    corpus = pq.read_table(out / "corpus").to_pylist()
    rejected = pq.read_table(out / "rejected").to_pylist()
    assert sorted(r["url"] for r in corpus) == ["https://site.example/a1", "https://site.example/b1"]
    assert all(r["drop_reason"] is None and "planted" in r["text"] for r in corpus)
    assert {r["crawl"] for r in corpus} == {"CC-MAIN-2026-08"}
    assert sorted(r["drop_reason"] for r in rejected) == sorted(
        ["extract:not_html", "warc:non_200_status", "warc:truncated_record"])
    assert json.loads((out / "stats" / "summary.json").read_text()) == summary
    for folder in ("", "corpus", "rejected", "extracted", "stats"):
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
