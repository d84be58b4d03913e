"""The table fault corpus (testkit/table_faults.py) through both corpus jobs: each fault lands exactly as declared.

Both runs happen once per module: `run_stages.main` in-process and `pipeline.spark.build_corpus` on the
session's Spark, with the corpus's config (extract only, a 64 KiB text cap). Every expectation comes from
the generator's declarations, never from the job's output. A last pair of tests feeds the
`documents.parquet` of the in-process run back in as an input to both jobs.
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jobs import run_stages
from pipeline.config import load_config
from pipeline.spark.job import build_corpus
from pipeline.stats.rules import all_rules, is_declared
from testkit.table_faults import CONFIG_OVERRIDES, TABLE_FAULTS, TableFault, write_table_fault
from tests.conftest import read_corpus

CONFIG = load_config(None, CONFIG_OVERRIDES)


def set_args() -> list[str]:
    return [arg for override in CONFIG_OVERRIDES for arg in ("--set", override)]


@pytest.fixture(scope="module")
def fault_paths(tmp_path_factory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("table-faults")
    return {fault.name: str(write_table_fault(fault, folder)) for fault in TABLE_FAULTS}


@pytest.fixture(scope="module")
def in_process(fault_paths, tmp_path_factory) -> tuple[dict, list[dict], Path]:
    out = tmp_path_factory.mktemp("table-faults-run-stages")
    assert run_stages.main(["--input", *fault_paths.values(), "--output", str(out), *set_args()]) == 0
    summary = json.loads((out / "stats" / "summary.json").read_text())
    return summary, pq.read_table(out / "documents.parquet").to_pylist(), out


@pytest.fixture(scope="module")
def on_spark(spark, fault_paths, tmp_path_factory) -> tuple[dict, list[dict], Path]:
    out = tmp_path_factory.mktemp("table-faults-spark")
    summary = build_corpus(spark, sorted(fault_paths.values()), str(out), CONFIG)
    rows = read_corpus(out).to_pylist() + pq.read_table(out / "rejected").to_pylist()
    return summary, rows, out


@pytest.fixture(params=["in_process", "on_spark"])
def run(request) -> tuple[dict, list[dict], Path]:
    return request.getfixturevalue(request.param)


def rows_of(rows: list[dict], path: str) -> list[dict]:
    return [row for row in rows if row["warc_path"] == path]


def expected_rows(fault: TableFault, path: str) -> list[tuple[str, str | None]]:
    return [(id_.format(path=path), reason) for id_, reason in fault.rows]


@pytest.mark.parametrize("fault", TABLE_FAULTS, ids=lambda f: f.name)
def test_each_fault_gives_exactly_its_declared_rows_in_order(run, fault_paths, fault: TableFault):
    _, rows, _ = run
    path = fault_paths[fault.name]
    found = sorted(rows_of(rows, path), key=lambda row: row["warc_offset"])  # Spark's parts are unordered
    assert [(row["id"], row["drop_reason"]) for row in found] == expected_rows(fault, path)


@pytest.mark.parametrize("fault", [f for f in TABLE_FAULTS if f.columns], ids=lambda f: f.name)
def test_each_fault_has_its_declared_columns(run, fault_paths, fault: TableFault):
    _, rows, _ = run
    path = fault_paths[fault.name]
    found = {row["id"]: row for row in rows_of(rows, path)}
    for id_, columns in fault.columns.items():
        expected = {k: v.format(path=path) if isinstance(v, str) else v for k, v in columns.items()}
        assert {k: found[id_.format(path=path)][k] for k in expected} == expected, id_


def test_dropped_input_rows_carry_no_text_and_every_row_its_line(run, fault_paths):
    """Input drops null the text; warc_offset is the record's 1-based line or row number, unique per file."""
    _, rows, _ = run
    for fault in TABLE_FAULTS:
        found = rows_of(rows, fault_paths[fault.name])
        assert all(row["text"] is None for row in found if (row["drop_reason"] or "").startswith("input:")
                   and row["drop_reason"] != "input:duplicate_id"), fault.name
        offsets = [row["warc_offset"] for row in found]
        assert len(set(offsets)) == len(offsets) and all(offset >= 1 for offset in offsets), fault.name


def test_failed_inputs_are_exactly_the_declared_file_errors(run, fault_paths):
    summary, _, _ = run
    failed = {f["warc_path"]: f for f in summary["failed_inputs"]}
    expected = {fault_paths[f.name]: f for f in TABLE_FAULTS if f.file_error is not None}
    assert sorted(failed) == sorted(expected)
    for path, fault in expected.items():
        assert failed[path]["error"].startswith(fault.file_error), (fault.name, failed[path]["error"])
        assert "\n" not in failed[path]["error"]
        assert failed[path]["records_recovered"] == len(fault.rows)


def test_summary_totals_are_the_sums_of_the_declarations(run):
    summary, _, _ = run
    reasons = Counter(reason for f in TABLE_FAULTS for _, reason in f.rows)
    kept = reasons.pop(None)
    records = sum(len(f.rows) for f in TABLE_FAULTS)
    assert summary["inputs"] == len(TABLE_FAULTS)
    assert summary["records_read"] == records
    assert summary["records_by_type"] == {"document": records}
    assert (summary["documents"], summary["kept"], summary["dropped"]) == (records, kept, sum(reasons.values()))
    assert summary["dropped_by_reason"] == dict(sorted(reasons.items()))


@pytest.mark.parametrize("fault", TABLE_FAULTS, ids=lambda f: f.name)
def test_spark_manifest_counts_each_files_records(on_spark, fault_paths, fault: TableFault):
    _, rows, out = on_spark
    manifests = {m["warc_path"]: m for m in map(json.loads, (out / "stats" / "inputs.jsonl").read_text().splitlines())}
    manifest = manifests[fault_paths[fault.name]]
    assert manifest["records_by_type"] == ({"document": len(fault.rows)} if fault.rows else {})
    assert manifest["records_read"] == len(rows_of(rows, fault_paths[fault.name])) == len(fault.rows)


def test_both_jobs_write_the_same_rows(in_process, on_spark):
    def key(row: dict) -> tuple:
        return row["warc_path"], row["warc_offset"]

    assert sorted(in_process[1], key=key) == sorted(on_spark[1], key=key)


@pytest.fixture(scope="module")
def fed_back(in_process, tmp_path_factory) -> tuple[str, list[dict]]:
    """The in-process run's documents.parquet, copied under a new name: its rows carry other warc_paths."""
    _, rows, out = in_process
    path = tmp_path_factory.mktemp("fed-back") / "previous_run.parquet"
    path.write_bytes((out / "documents.parquet").read_bytes())
    return str(path), rows


@pytest.mark.parametrize("engine", ["in_process", "on_spark"])
def test_a_runs_own_documents_parquet_fed_back_is_counted_by_the_new_path(fed_back, engine, spark, tmp_path):
    """Every row is counted under the file that held it (the accounting holds), keeps its id and its earlier
    drop reason, and gets its row number in the new file as warc_offset."""
    path, previous = fed_back
    out = tmp_path / "out"
    if engine == "in_process":
        assert run_stages.main(["--input", path, "--output", str(out), *set_args()]) == 0
        rows = pq.read_table(out / "documents.parquet").to_pylist()
        summary = json.loads((out / "stats" / "summary.json").read_text())
    else:
        summary = build_corpus(spark, [path], str(out), CONFIG)
        rows = read_corpus(out).to_pylist() + pq.read_table(out / "rejected").to_pylist()
    rows.sort(key=lambda row: row["warc_offset"])
    assert summary["records_read"] == summary["documents"] == len(previous) and summary["failed_inputs"] == []
    assert {row["warc_path"] for row in rows} == {path}
    assert [row["warc_offset"] for row in rows] == list(range(1, len(previous) + 1))
    # ids met twice in the earlier run (the duplicate-id fault, and none else) are duplicates here too
    assert [(row["id"], row["drop_reason"]) for row in rows] == [
        (row["id"], row["drop_reason"]) for row in previous]
    assert summary["dropped_by_reason"] == dict(sorted(Counter(
        row["drop_reason"] for row in previous if row["drop_reason"] is not None).items()))


def test_declarations_are_self_consistent():
    assert len({f.name for f in TABLE_FAULTS}) == len({f.file_name for f in TABLE_FAULTS}) == len(TABLE_FAULTS) >= 30
    for fault in TABLE_FAULTS:
        ids = {id_ for id_, _ in fault.rows}
        assert all(id_ in ids for id_ in fault.columns), fault.name
        assert fault.rows or fault.file_error, fault.name  # a file with no row must be in failed_inputs


def test_the_generator_writes_every_file_and_the_expectations(tmp_path):
    from testkit.table_faults import main

    assert main([str(tmp_path)]) == 0
    expected = json.loads((tmp_path / "expected.json").read_text())
    assert sorted(expected) == sorted(f.name for f in TABLE_FAULTS)
    assert all((tmp_path / f.file_name).is_file() for f in TABLE_FAULTS)


def test_spark_dedup_decisions_reach_rows_whose_own_warc_path_names_another_file(spark, tmp_path):
    """A row's own `warc_path` once filed its dedup decision under another part, where it was never
    applied: two copies of one text in a file whose rows name another file must end one kept, one dropped."""
    path = tmp_path / "foreign_lineage.parquet"
    text = "The same long paragraph about the harbour, the boats and the weather, written down twice over."
    pq.write_table(pa.table({"id": ["copy-a", "copy-b"], "text": [text, text],
                             "warc_path": ["s3://elsewhere/one.warc.gz", "s3://elsewhere/two.warc.gz"]}), path)
    config = load_config(None, ["pipeline.stages=['extract', 'dedup']"])
    summary = build_corpus(spark, [str(path)], str(tmp_path / "out"), config)
    rows = read_corpus(tmp_path / "out").to_pylist() + pq.read_table(tmp_path / "out" / "rejected").to_pylist()
    assert sorted((row["id"], row["warc_path"], row["drop_reason"]) for row in rows) == [
        ("copy-a", str(path), None), ("copy-b", str(path), "dedup:exact_duplicate")]
    assert (summary["kept"], summary["dropped_by_reason"]) == (1, {"dedup:exact_duplicate": 1})


def test_every_reason_given_is_a_declared_rule(run):
    _, rows, _ = run
    reasons = {row["drop_reason"] for row in rows} - {None}
    assert {"input:malformed_json", "input:wrong_type:text", "input:duplicate_id"} <= reasons
    assert [reason for reason in reasons if not is_declared(reason, all_rules(CONFIG))] == []
