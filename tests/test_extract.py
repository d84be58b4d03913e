"""Every drop reason of the extract stage, from a minimal WARC, through the same code the jobs run."""
from __future__ import annotations

import dataclasses
import gzip

import pytest

from pipeline.config import load_config
from pipeline.corpus import InputTally, process_input
from pipeline.extract import ExtractConfig, ExtractorSandbox
from pipeline.extract_strategy import PageExtractor, length_check_preset
from testkit.records import ARTICLE, heavy_page, info, request, response
from testkit.warc_writer import gzip_member


def run(path: str, *overrides: str) -> tuple[list[dict], InputTally]:
    config = load_config(None, ["pipeline.stages=['extract']", *overrides])
    tally = InputTally(path)
    rows = [row for batch in process_input(path, config, tally) for row in batch.to_pylist()]
    return rows, tally


def reasons(rows: list[dict]) -> dict[str, str | None]:
    return {row["url"]: row["drop_reason"] for row in rows}


def test_kept_article_has_core_columns_and_main_text(make_warc):
    path = make_warc([info("CC-MAIN-2026-13"), request("a"), response("a", ARTICLE)])
    rows, tally = run(path)
    assert len(rows) == 1
    row = rows[0]
    assert row["drop_reason"] is None
    assert row["id"].startswith("<urn:uuid:") and row["url"] == "https://site.example/a"
    assert (row["crawl"], row["http_status"], row["content_type"]) == ("CC-MAIN-2026-13", 200, "text/html")
    assert row["fetch_time"] == "2026-02-10T12:00:00Z" and row["warc_path"] == path
    assert "we planted beans along the south fence" in row["text"]
    assert "Contact the garden club" not in row["text"]  # footer boilerplate is not main text
    assert dict(tally.records_by_type) == {"warcinfo": 1, "request": 1, "response": 1}


def test_each_drop_reason_from_a_minimal_record(make_warc):
    records = [
        response("pdf", b"%PDF-1.4 binary", content_type="application/pdf"),
        response("png-typed-by-cc", ARTICLE, payload_type="image/png"),
        response("missing", "<html><body>gone</body></html>", status=404),
        response("moved", b"", status=301, headers=[("Location", "https://site.example/a")]),
        response("big", "<html><body>" + "word " * 400 + "</body></html>"),
        response("empty", "<html><head><script>var a = 1;</script></head><body><div></div></body></html>"),
        response("bad-http", b"", content_type=None).replace(b"HTTP/1.1 200 OK", b"XXXX/1.1 200 OK"),
        response("ok", ARTICLE),
    ]
    rows, _ = run(make_warc(records), "extract.max_payload_bytes=1500")
    assert reasons(rows) == {
        "https://site.example/pdf": "extract:not_html",
        "https://site.example/png-typed-by-cc": "extract:not_html",
        "https://site.example/missing": "warc:non_200_status",
        "https://site.example/moved": "warc:non_200_status",
        "https://site.example/big": "warc:payload_too_large",
        "https://site.example/empty": "extract:no_text",
        "https://site.example/bad-http": "warc:corrupt_record",
        "https://site.example/ok": None,
    }


def test_untyped_html_is_sniffed(make_warc):
    rows, _ = run(make_warc([response("untyped", "<!DOCTYPE html>" + ARTICLE, content_type=None)]))
    assert rows[0]["content_type"] == "text/html" and rows[0]["drop_reason"] is None


def test_truncated_file_keeps_readable_records_and_drops_the_cut_one(make_warc):
    cut = gzip_member(response("cut", ARTICLE))
    path = make_warc([info(), response("a", ARTICLE)])
    with open(path, "ab") as handle:
        handle.write(cut[: len(cut) // 2])
    rows, tally = run(path)
    assert reasons(rows) == {"https://site.example/a": None, "https://site.example/cut": "warc:truncated_record"}
    assert tally.error.startswith("WarcFileError: truncated gzip member at byte")


def test_unreadable_record_becomes_a_row(make_warc):
    garbage = b"WARC/1.1\r\nWARC-Type: response\r\nContent-Length: many\r\n\r\n"
    rows, tally = run(make_warc([garbage, response("a", ARTICLE)], compress=False))
    assert [row["drop_reason"] for row in rows] == ["warc:corrupt_record", None]
    assert tally.records_by_type["unreadable"] == 1


@pytest.mark.parametrize("content, error", [
    (b"", "empty input: no WARC records"),
    (b"plain text, not a WARC", "WarcFileError: neither gzip nor WARC"),
])
def test_files_that_cannot_be_read_are_ledgered(tmp_path, content, error):
    path = tmp_path / "bad.warc.gz"
    path.write_bytes(content)
    rows, tally = run(str(path))
    assert rows == [] and tally.error.startswith(error)


def test_gzip_of_something_else_is_one_unreadable_record(tmp_path):
    path = tmp_path / "not-warc-inside.warc.gz"
    path.write_bytes(gzip.compress(b"name,value\n" * 100, mtime=0))
    rows, tally = run(str(path))
    assert [(r["warc_offset"], r["drop_reason"]) for r in rows] == [(0, "warc:corrupt_record")]
    assert dict(tally.records_by_type) == {"unreadable": 1} and tally.error is None


def test_timeout_and_failure_are_named_and_the_next_document_still_extracts(make_warc):
    path = make_warc([response("a", ARTICLE), response("b", ARTICLE)])
    # The limit counts the child's CPU seconds per page: no page extracts in a microsecond.
    rows, _ = run(path, "extract.timeout_seconds=0.000001")
    assert [row["drop_reason"] for row in rows] == ["extract:timeout", "extract:timeout"]
    # 8 MB of address space is too little to start Python with lxml: the child dies, the document is named.
    # (the config refuses less than 256 MB for that reason, so the dataclass is built directly here)
    base = load_config(None, ["pipeline.stages=['extract']"])
    starved = dataclasses.replace(base, extract=dataclasses.replace(base.extract, memory_limit_mb=8))
    rows = [row for batch in process_input(path, starved, InputTally(path)) for row in batch.to_pylist()]
    assert {row["drop_reason"] for row in rows} == {"extract:failed"}
    rows, _ = run(path)
    assert [row["drop_reason"] for row in rows] == [None, None]


def test_a_page_over_the_cpu_limit_is_stopped_by_the_kernel_and_the_next_one_extracts():
    """RLIMIT_CPU ends a page that runs on: the child dies by SIGXCPU within a second of CPU after the limit
    (trafilatura alone would take ~10 s here), the page is extract:timeout and a fresh child takes the next."""
    base = load_config(None, ["pipeline.stages=['extract']", "extract.timeout_seconds=0.1"]).extract
    sandbox = ExtractorSandbox(base)
    try:
        assert sandbox.extract(heavy_page(12_000)) == (None, "timeout")
        assert sandbox.process is None  # the child was killed (a reply over the limit would have kept it)
        text, rule = sandbox.extract(ARTICLE)
        assert rule is None and "we planted beans along the south fence" in text
    finally:
        sandbox.close()


def test_the_wall_clock_backstop_has_its_own_reason(make_warc):
    # The child imports trafilatura before it can answer: a millisecond of wall clock cannot be met.
    rows, _ = run(make_warc([response("a", ARTICLE)]), "extract.wall_timeout_seconds=0.001")
    assert [row["drop_reason"] for row in rows] == ["extract:wall_timeout"]
    assert ExtractConfig(timeout_seconds=2.0).wall_limit_seconds() == 60.0  # max(60 s, 10 x the CPU limit)
    assert ExtractConfig(timeout_seconds=30.0).wall_limit_seconds() == 300.0
    assert ExtractConfig(wall_timeout_seconds=7.0).wall_limit_seconds() == 7.0


@pytest.mark.parametrize("first_words, reference_words, preset", [
    (19, 100, "favor_recall"),  # under 0.2 x the reference
    (20, 100, None),  # on the bounds: the default's text stands
    (105, 100, None),
    (106, 100, "favor_precision"),  # over 1.05 x the reference
    (0, 100, "favor_recall"),  # the default found nothing
    (500, 0, None),  # resiliparse found nothing: no reference, no rerun
])
def test_length_check_preset(first_words, reference_words, preset):
    assert length_check_preset(first_words, reference_words, min_ratio=0.2, max_ratio=1.05) == preset


class FakeTrafilatura:
    """Stands in for trafilatura.extract: a text per preset, and the presets it was called with."""

    def __init__(self, texts: dict[str | None, str]) -> None:
        self.texts, self.presets = texts, []

    def __call__(self, html: str, **settings) -> str:
        preset = "favor_precision" if settings["favor_precision"] else "favor_recall" if settings["favor_recall"] else None
        self.presets.append(preset)
        return self.texts[preset]


@pytest.mark.parametrize("default_words, expected_presets", [
    (5, [None, "favor_recall"]), (50, [None]), (200, [None, "favor_precision"]),
])
def test_page_extractor_reruns_with_the_preset_the_length_check_names(default_words, expected_presets):
    extractor = PageExtractor(ExtractConfig().worker_settings())
    fake = FakeTrafilatura({None: "w " * default_words, "favor_recall": "recall", "favor_precision": "precision"})
    extractor._extract, extractor._fast_texts = fake, lambda html, visible, main: ("", "r " * 100)
    text = extractor.extract("<html></html>")
    assert fake.presets == expected_presets and extractor.calls == len(expected_presets)
    assert text == {None: "w " * default_words, "favor_recall": "recall", "favor_precision": "precision"}[expected_presets[-1]]


@pytest.mark.parametrize("overrides, length_check", [
    ([], {"min_ratio": 0.1, "max_ratio": 1.05}),
    (["extract.length_check=false"], None),
    (["extract.favor_recall=true"], None),  # a preset flag runs that preset alone
    (["extract.favor_precision=true"], None),
])
def test_worker_settings_run_the_length_check_only_on_the_default_preset(overrides, length_check):
    settings = load_config(None, overrides).extract.worker_settings()
    assert settings["length_check"] == length_check
    assert "deduplicate" not in settings["trafilatura"]


def test_charset_columns_record_how_the_page_was_decoded(make_warc):
    page = ARTICLE.replace("beans", "haricots à la française").encode("cp1252")
    rows, _ = run(make_warc([response("fr", page, content_type="text/html; charset=windows-1252")]))
    assert (rows[0]["charset"], rows[0]["charset_source"]) == ("cp1252", "header")
    assert "haricots à la française" in rows[0]["text"]


def test_jsonl_input_rows_pass_through_with_missing_fields_named(tmp_path):
    path = tmp_path / "docs.jsonl"
    path.write_text('{"id": "a", "text": "hello"}\n{"text": "no id"}\n')
    rows, tally = run(str(path))
    # a synthetic id names the 1-based line (pipeline/tables.py)
    assert [(r["id"], r["drop_reason"]) for r in rows] == [("a", None), (f"<{path}#2>", "input:missing_id_or_text")]
    assert tally.records_by_type["document"] == 2
