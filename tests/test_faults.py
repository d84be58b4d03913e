"""The whole fault corpus (testkit/faults.py) through both corpus jobs: each fault lands exactly as declared.

Both runs happen once per module: `run_stages.main` in-process and `pipeline.spark.build_corpus` on the
session's Spark. Every expectation comes from the generator's declarations, never from the job's output.
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from jobs import run_stages
from pipeline.config import load_config
from pipeline.spark.job import build_corpus
from pipeline.stats.rules import all_rules, is_declared
from testkit.faults import FAULTS, Fault, write_fault
from tests.conftest import read_corpus

EXTRACT_ONLY = load_config(None, ["pipeline.stages=['extract']"])
DOCUMENT_TYPES = ("response", "unreadable")  # the record kinds that become rows; every other kind is only counted


@pytest.fixture(scope="module")
def fault_paths(tmp_path_factory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("faults")
    return {fault.name: str(write_fault(fault, folder)) for fault in FAULTS}


@pytest.fixture(scope="module")
def in_process(fault_paths, tmp_path_factory) -> tuple[dict, list[dict], dict | None]:
    out = tmp_path_factory.mktemp("faults-run-stages")
    assert run_stages.main(["--stages", "extract", "--input", *fault_paths.values(), "--output", str(out)]) == 0
    summary = json.loads((out / "stats" / "summary.json").read_text())
    return summary, pq.read_table(out / "documents.parquet").to_pylist(), None


@pytest.fixture(scope="module")
def on_spark(spark, fault_paths, tmp_path_factory) -> tuple[dict, list[dict], dict | None]:
    out = tmp_path_factory.mktemp("faults-spark")
    summary = build_corpus(spark, sorted(fault_paths.values()), str(out), EXTRACT_ONLY)
    rows = read_corpus(out).to_pylist() + pq.read_table(out / "rejected").to_pylist()
    manifests = [json.loads(line) for line in (out / "stats" / "inputs.jsonl").read_text().splitlines()]
    return summary, rows, {m["warc_path"]: m for m in manifests}


@pytest.fixture(params=["in_process", "on_spark"])
def run(request) -> tuple[dict, list[dict], dict | None]:
    return request.getfixturevalue(request.param)


def rows_of(rows: list[dict], path: str) -> list[dict]:
    return [row for row in rows if row["warc_path"] == path]


def by_url(rows: list[dict]) -> dict[str, dict]:
    return {row["url"]: row for row in rows if row["url"] is not None}


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.name)
def test_each_fault_gives_exactly_its_declared_rows(run, fault_paths, fault: Fault):
    _, rows, _ = run
    actual = Counter((row["url"], row["drop_reason"]) for row in rows_of(rows, fault_paths[fault.name]))
    assert actual == Counter(fault.rows)


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.name)
def test_each_fault_has_its_declared_columns_and_text(run, fault_paths, fault: Fault):
    _, rows, _ = run
    path = fault_paths[fault.name]
    found = by_url(rows_of(rows, path))
    for url, columns in fault.columns.items():
        expected = {k: v.format(warc_path=path) if isinstance(v, str) else v for k, v in columns.items()}
        assert {k: found[url][k] for k in expected} == expected, url
    for url, phrase in fault.kept_text.items():
        assert found[url]["drop_reason"] is None and phrase in found[url]["text"], url


def test_every_reason_given_is_a_declared_rule(run):
    _, rows, _ = run
    reasons = {row["drop_reason"] for row in rows} - {None}
    assert {"warc:corrupt_record", "warc:payload_too_large", "warc:truncated_record"} <= reasons
    assert [reason for reason in reasons if not is_declared(reason, all_rules(EXTRACT_ONLY))] == []


def test_failed_inputs_are_exactly_the_declared_file_errors(run, fault_paths):
    summary, _, _ = run
    failed = {f["warc_path"]: f for f in summary["failed_inputs"]}
    expected = {fault_paths[f.name]: f for f in FAULTS if f.file_error is not None}
    assert sorted(failed) == sorted(expected)
    for path, fault in expected.items():
        assert failed[path]["error"].startswith(fault.file_error), (fault.name, failed[path]["error"])
        assert failed[path]["records_recovered"] == sum(fault.records_by_type.values())


def test_summary_totals_are_the_sums_of_the_declarations(run):
    summary, _, _ = run
    records_by_type = sum((Counter(f.records_by_type) for f in FAULTS), Counter())
    reasons = Counter(reason for f in FAULTS for _, reason in f.rows)
    kept = reasons.pop(None)
    assert summary["inputs"] == len(FAULTS)
    assert summary["records_read"] == sum(records_by_type.values())
    assert summary["records_by_type"] == dict(sorted(records_by_type.items()))
    assert (summary["documents"], summary["kept"], summary["dropped"]) == (
        kept + sum(reasons.values()), kept, sum(reasons.values()))
    assert summary["dropped_by_reason"] == dict(sorted(reasons.items()))


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f.name)
def test_spark_counts_each_files_records_by_type(on_spark, fault_paths, fault: Fault):
    """Per file: the manifest's records by type are the declared ones, and records read = non-document
    records + that file's rows (kept + dropped), counted from the written parts."""
    _, rows, manifests = on_spark
    manifest = manifests[fault_paths[fault.name]]
    assert manifest["records_by_type"] == dict(sorted(fault.records_by_type.items()))
    non_document = sum(n for kind, n in fault.records_by_type.items() if kind not in DOCUMENT_TYPES)
    assert manifest["records_read"] == non_document + len(rows_of(rows, fault_paths[fault.name]))


def test_both_jobs_write_the_same_rows(in_process, on_spark):
    def key(row: dict) -> tuple:
        return row["warc_path"], row["warc_offset"], row["id"], row["url"] or ""

    assert sorted(in_process[1], key=key) == sorted(on_spark[1], key=key)


def test_the_big_payload_is_not_held_in_memory_by_the_generator():
    """The 50 MB fault is written in pieces of at most 1 MiB (plus a small header and the other records)."""
    fault = next(f for f in FAULTS if f.name == "payload_50mb")
    sizes = [len(chunk) for chunk in fault.chunks()]
    assert max(sizes) <= 1 << 20 and len(sizes) > 10


def test_declarations_are_self_consistent():
    """Each response or unreadable record is one row; names and file names are unique (a typo in a
    declaration would otherwise pass as a job bug or hide one)."""
    for fault in FAULTS:
        counts = fault.records_by_type
        assert counts.get("response", 0) + counts.get("unreadable", 0) == len(fault.rows), fault.name
        assert all(url is None or url in {u for u, _ in fault.rows} for url in fault.columns), fault.name
    assert len({f.name for f in FAULTS}) == len({f.file_name for f in FAULTS}) == len(FAULTS) >= 15


def test_the_generator_writes_every_file_and_the_expectations(tmp_path):
    from testkit.faults import main

    assert main([str(tmp_path)]) == 0
    expected = json.loads((tmp_path / "expected.json").read_text())
    assert sorted(expected) == sorted(f.name for f in FAULTS)
    assert all((tmp_path / f.file_name).is_file() for f in FAULTS)
    assert Path(tmp_path / "payload_50mb.warc.gz").stat().st_size < 1 << 20  # 50 MB of text, compressed
