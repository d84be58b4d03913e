"""The committed sample WARC set against the generator's own record of what each record is."""
from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from pipeline.config import load_config
from pipeline.corpus import InputTally, process_input
from pipeline.inputs import expand_inputs
from tests.conftest import ROOT, SAMPLE_WARCS


@pytest.fixture(scope="module")
def results():
    config = load_config(ROOT / "configs" / "demo.toml")
    rows, tallies = {}, []
    for path in expand_inputs([str(SAMPLE_WARCS)]):
        tally = InputTally(path)
        rows.update({row["id"]: row for batch in process_input(path, config, tally) for row in batch.to_pylist()})
        tallies.append(tally)
    expected = [json.loads(line) for line in (ROOT / "sample_data" / "expected.jsonl").read_text().splitlines()]
    return rows, tallies, expected


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def test_every_record_is_counted_and_every_response_is_a_row(results):
    rows, tallies, expected = results
    counted = sum((t.records_by_type for t in tallies), Counter())
    assert counted == Counter(e["record_type"] for e in expected)
    assert set(rows) == {e["record_id"] for e in expected if e["record_type"] == "response"}


def test_drop_reasons_match_what_the_generator_wrote(results):
    rows, _, expected = results
    responses = [e for e in expected if e["record_type"] == "response"]
    assert {e["record_id"]: rows[e["record_id"]]["drop_reason"] for e in responses} == {
        e["record_id"]: e["expected_reason"] for e in responses}


def test_every_charset_page_decodes_to_its_main_text(results):
    rows, _, expected = results
    charset_pages = [e for e in expected if e["kind"].startswith("charset")]
    assert len(charset_pages) >= 4
    for page in charset_pages:
        extracted = " ".join(words(rows[page["record_id"]]["text"]))
        assert " ".join(words(page["main_text"])) in extracted, (page["kind"], page["charset"])


def test_truncated_file_is_ledgered_with_its_readable_records(results):
    _, tallies, _ = results
    failed = [t for t in tallies if t.error]
    assert [t.warc_path.rsplit("/", 1)[1] for t in failed] == ["CC-MAIN-2026-08-sample-truncated.warc.gz"]
    assert failed[0].error.startswith("WarcFileError: truncated gzip member")
