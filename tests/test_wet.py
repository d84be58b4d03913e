"""WET input (issue 21): Common Crawl conversion records become documents keyed by the response they came from.

The WET files are written here, record by record, so every id, text, reason and count below is known by
construction. Both engines (`run_stages` in-process, `build_corpus` on Spark) run once per module and must
write the same rows.
"""
from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from jobs import run_stages
from pipeline.config import load_config
from pipeline.spark.job import build_corpus
from pipeline.stats.rules import all_rules, is_declared
from testkit.records import ARTICLE, DATE, info, response
from testkit.warc_writer import conversion_record, gzip_member, record_id_for, warc_record, write_warc
from tests.conftest import read_corpus

EXTRACT_ONLY = load_config(None, ["pipeline.stages=['extract']"])
TEXT = "Beans are a staple.\nCook them slowly in salted water.\n"
NO_TYPE = b"WARC/1.1\r\nWARC-Record-ID: <urn:uuid:no-type>\r\nContent-Length: 3\r\n\r\nabc\r\n\r\n"


def conversion(name: str, text: bytes | str, refers_to: str | None, content_type: str = "text/plain") -> bytes:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return conversion_record(data, record_id=record_id_for("conv-" + name), date=DATE,
                             target_uri=f"https://site.example/{name}", refers_to=refers_to, content_type=content_type)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("wet")
    wet = write_warc(root / "CC-MAIN-2026-08-w.warc.wet.gz", [
        info(),
        conversion("a1", TEXT, record_id_for("a1"), "text/plain; charset=utf-8"),
        conversion("nref", TEXT, None),
        conversion("latin", b"caf\xe9 au lait", record_id_for("latin")),
        conversion("empty", " \r\n\t\n", record_id_for("empty")),
        conversion("again", "another text", record_id_for("a1")),  # the same response twice in one file
        response("resp", ARTICLE),  # a response in a WET file is only counted
        NO_TYPE,
    ])
    plain = root / "plain.wet"  # uncompressed, no warcinfo: the crawl is unknown
    plain.write_bytes(conversion("p1", "plain text here", record_id_for("p1")))
    cut = write_warc(root / "CC-MAIN-2026-08-cut.warc.wet.gz", [conversion("c1", "kept before the cut", record_id_for("c1"))])
    record = conversion("c2", "the file ends inside this text", record_id_for("c2"))
    with open(cut, "ab") as handle:  # a whole gzip member holding the header and part of the block
        handle.write(gzip_member(record[: record.index(b"\r\n\r\n") + 4 + 8]))
    warc = write_warc(root / "CC-MAIN-2026-08-r.warc.gz", [  # a conversion inside a WARC is only counted
        info(), response("a1", ARTICLE), conversion("a1", TEXT, record_id_for("a1"))])
    return {"wet": str(wet), "plain": str(plain), "cut": str(cut), "warc": str(warc)}


@pytest.fixture(scope="module")
def in_process(inputs, tmp_path_factory) -> tuple[dict, list[dict]]:
    out = tmp_path_factory.mktemp("wet-run-stages")
    assert run_stages.main(["--stages", "extract", "--input", *inputs.values(), "--output", str(out)]) == 0
    return json.loads((out / "stats" / "summary.json").read_text()), pq.read_table(out / "documents.parquet").to_pylist()


@pytest.fixture(scope="module")
def on_spark(spark, inputs, tmp_path_factory) -> tuple[dict, list[dict]]:
    out = tmp_path_factory.mktemp("wet-spark")
    summary = build_corpus(spark, sorted(inputs.values()), str(out), EXTRACT_ONLY)
    return summary, read_corpus(out).to_pylist() + pq.read_table(out / "rejected").to_pylist()


@pytest.fixture(params=["in_process", "on_spark"])
def run(request) -> tuple[dict, list[dict]]:
    return request.getfixturevalue(request.param)


def rows_of(rows: list[dict], path: str) -> list[dict]:
    return sorted((row for row in rows if row["warc_path"] == path), key=lambda row: row["warc_offset"])


def test_wet_rows_have_the_response_id_the_text_and_a_named_reason(run, inputs):
    rows = rows_of(run[1], inputs["wet"])
    assert [(row["id"], row["url"], row["drop_reason"]) for row in rows] == [
        (record_id_for("a1"), "https://site.example/a1", None),
        (record_id_for("conv-nref"), "https://site.example/nref", "warc:no_refers_to"),
        (record_id_for("latin"), "https://site.example/latin", "warc:not_utf8"),
        (record_id_for("empty"), "https://site.example/empty", "extract:no_text"),
        (record_id_for("a1"), "https://site.example/again", "warc:duplicate_record_id"),
        ("<urn:uuid:no-type>", None, "warc:corrupt_record"),
    ]
    first = rows[0]
    assert first["text"] == TEXT
    assert (first["crawl"], first["fetch_time"], first["content_type"], first["payload_bytes"], first["charset"]) == (
        "CC-MAIN-2026-08", DATE, "text/plain", len(TEXT.encode("utf-8")), "utf-8")
    assert first["http_status"] is None  # no HTTP response behind a WET record
    assert [row["text"] for row in rows[1:]] == [None, None, None, "another text", None]  # a repeat keeps its text


def test_plain_wet_and_the_rows_read_before_a_cut(run, inputs):
    (plain,) = rows_of(run[1], inputs["plain"])
    assert (plain["id"], plain["text"], plain["crawl"], plain["drop_reason"]) == (
        record_id_for("p1"), "plain text here", None, None)
    kept, cut = rows_of(run[1], inputs["cut"])  # the record the file ends inside is a named drop, not lost
    assert (kept["id"], kept["text"], kept["crawl"], kept["drop_reason"]) == (
        record_id_for("c1"), "kept before the cut", "CC-MAIN-2026-08", None)
    assert (cut["id"], cut["text"], cut["drop_reason"]) == (record_id_for("c2"), None, "warc:truncated_record")


def test_wet_and_warc_rows_join_on_the_same_id(run, inputs):
    (warc_row,) = rows_of(run[1], inputs["warc"])  # its conversion record is counted, not a row
    wet_row = rows_of(run[1], inputs["wet"])[0]
    assert warc_row["id"] == wet_row["id"] == record_id_for("a1")
    assert warc_row["drop_reason"] is None and "beans" in warc_row["text"].lower()


def test_summary_counts_every_record_by_type(run, inputs):
    summary = run[0]
    # wet: warcinfo, 5 conversions, a response, an untyped record; plain: 1; cut: 2; warc: warcinfo, response, conversion
    assert summary["records_by_type"] == {"conversion": 5 + 1 + 2 + 1, "response": 1 + 1, "unreadable": 1,
                                          "warcinfo": 2}
    assert summary["records_read"] == 8 + 1 + 2 + 3
    # rows: wet 5 conversions + the unreadable one, plain 1, cut 2, warc its response
    assert (summary["documents"], summary["kept"], summary["dropped"]) == (6 + 1 + 2 + 1, 4, 6)
    assert summary["dropped_by_reason"] == {"extract:no_text": 1, "warc:corrupt_record": 1,
                                            "warc:duplicate_record_id": 1, "warc:no_refers_to": 1,
                                            "warc:not_utf8": 1, "warc:truncated_record": 1}
    assert [(f["warc_path"], f["records_recovered"]) for f in summary["failed_inputs"]] == [(inputs["cut"], 2)]
    assert summary["failed_inputs"][0]["error"].startswith("WarcFileError: truncated WARC record at byte")


def test_every_reason_given_is_declared(run):
    reasons = {row["drop_reason"] for row in run[1]} - {None}
    assert reasons and [reason for reason in reasons if not is_declared(reason, all_rules(EXTRACT_ONLY))] == []


def test_both_engines_write_the_same_rows(in_process, on_spark):
    def key(row: dict) -> tuple:
        return row["warc_path"], row["warc_offset"], row["id"]

    assert sorted(in_process[1], key=key) == sorted(on_spark[1], key=key)


def test_stages_after_extraction_see_the_wet_text(tmp_path):
    """A later stage measures the WET text exactly as it measures the same text from a JSONL input."""
    text = " ".join(["The committee met on Tuesday to discuss the harvest and the price of beans."] * 12)
    wet = write_warc(tmp_path / "a.warc.wet.gz", [conversion("h1", text, record_id_for("h1"))])
    jsonl = tmp_path / "b.jsonl"
    jsonl.write_text(json.dumps({"id": "j1", "text": text}) + "\n")
    out = tmp_path / "out"
    assert run_stages.main(["--stages", "extract,heuristics", "--input", str(wet), str(jsonl),
                            "--output", str(out)]) == 0
    rows = {row["id"]: row for row in pq.read_table(out / "documents.parquet").to_pylist()}
    signals = [name for name in rows["j1"] if name not in {"id", "url", "warc_path", "warc_offset", "crawl",
                                                          "fetch_time", "content_type", "payload_bytes", "charset"}]
    assert rows[record_id_for("h1")]["text"] == rows["j1"]["text"] == text
    assert {name: rows[record_id_for("h1")][name] for name in signals if name != "text"} == {
        name: rows["j1"][name] for name in signals if name != "text"}


def test_a_wet_record_block_warc_record_writer_roundtrip():
    """The fixture writer's conversion record carries WARC-Refers-To only when given one."""
    assert b"WARC-Refers-To: <x>\r\n" in conversion("n", "t", "<x>")
    assert b"WARC-Refers-To" not in conversion("n", "t", None)
    assert warc_record("conversion", b"t", record_id="<y>", date=DATE).startswith(b"WARC/1.1\r\nWARC-Type: conversion")
