"""The committed sample WARC set against the generator's own record of what each record is."""
from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from pipeline.config import load_config
from pipeline.corpus import InputTally, process_input
from pipeline.inputs import expand_inputs
from pipeline.stats.rules import all_rules, is_declared
from tests.conftest import ROOT, SAMPLE_WARCS


@pytest.fixture(scope="module")
def results():
    # extract and optout: every reason expected.jsonl names is decided while a record is read
    config = load_config(ROOT / "configs" / "demo.toml", ["pipeline.stages=['extract', 'optout']"])
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


def test_each_opted_out_page_is_dropped_unread_by_its_own_source(results):
    rows, _, expected = results
    pages = {e["expected_reason"]: rows[e["record_id"]] for e in expected if e["kind"] == "optout"}
    assert {reason: (row["optout_x_robots_tag"], row["optout_tdm_reservation"], row["optout_tdm_policy"],
                     row["optout_meta_robots"], row["text"]) for reason, row in pages.items()} == {
        "optout:x_robots_tag": ("noai", None, None, None, None),
        "optout:tdm_reservation": (None, "header", "https://www.kraeuter-am-hang.example/tdm/policy.json", None, None),
        "optout:meta_robots": (None, None, None, "noai", None),
    }


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


KEPT_KINDS = {"article", "charset_header", "charset_meta", "charset_detect", "charset_conflict", "chunked",
              "gzip_encoded", "exact_dup", "near_dup", "pii"}


def test_demo_chain_keeps_articles_in_twelve_languages_and_drops_junk(tmp_path):
    from jobs import run_stages
    import pyarrow.parquet as pq

    # The demo's chain without its quality stage, whose model `make demo` trains first.
    stages = "extract,optout,langid,url,heuristics,pii"
    assert run_stages.main(["--input", str(SAMPLE_WARCS), "--output", str(tmp_path), "--stages", stages,
                            "--config", str(ROOT / "configs" / "demo.toml")]) == 0
    rows = {r["id"]: r for r in pq.read_table(tmp_path / "documents.parquet").to_pylist()}
    config = load_config(ROOT / "configs" / "demo.toml", [f"pipeline.stages={stages.split(',')}"])
    reasons = {row["drop_reason"] for row in rows.values()} - {None}
    assert [reason for reason in reasons if not is_declared(reason, all_rules(config))] == []
    expected = [json.loads(line) for line in (ROOT / "sample_data" / "expected.jsonl").read_text().splitlines()]
    by_kind: dict[str, Counter] = {}
    for record in expected:
        if record["record_type"] == "response":
            by_kind.setdefault(record["kind"], Counter())[rows[record["record_id"]]["drop_reason"]] += 1
    articles = [e for e in expected if e["kind"] == "article"]
    assert {e["lang"] for e in articles if rows[e["record_id"]]["drop_reason"] is None} == {
        "en", "de", "fr", "es", "it", "pt", "nl", "ru", "zh", "ja", "pl", "tr"}
    # One English article about garden birds names the blue tit: C4's bad-words rule drops it, as C4 did.
    assert by_kind["article"] == Counter({None: 49, "heuristics:badwords_count_too_high": 1})
    for kind in KEPT_KINDS - {"article", "pii"}:
        assert set(by_kind[kind]) == {None}, kind
    assert by_kind["pii"] == Counter({None: 3, "pii:too_many_entities": 1})
    assert by_kind["optout"] == Counter({"optout:x_robots_tag": 1, "optout:tdm_reservation": 1,
                                         "optout:meta_robots": 1})
    for kind in ("boilerplate", "spam", "lorem"):
        assert None not in by_kind[kind], kind
        assert all(reason.startswith(("langid:", "heuristics:")) for reason in by_kind[kind]), kind


def test_the_sample_duplicates_are_found_and_nothing_else(results):
    import pyarrow as pa

    from pipeline.corpus import dedup_run, output_schema

    rows, _, expected = results
    config = load_config(ROOT / "configs" / "demo.toml", ["pipeline.stages=['extract', 'dedup']"])
    table = pa.Table.from_pylist(list(rows.values()), schema=output_schema(config))
    deduped = {row["id"]: row for row in dedup_run(table, config, index_dir=None).to_pylist()}
    pairs = [(e["record_id"], e["duplicate_of"], e["kind"]) for e in expected if e.get("duplicate_of")]
    assert len(pairs) == 4
    reason_of = {"exact_dup": "dedup:exact_duplicate", "near_dup": "dedup:near_duplicate"}
    for record, original, kind in pairs:
        members = (deduped[record], deduped[original])
        assert members[0]["dup_cluster"] == members[1]["dup_cluster"] is not None
        assert sorted(str(m["drop_reason"]) for m in members) == sorted([reason_of[kind], "None"])
    dropped_by_dedup = {i for i, row in deduped.items() if (row["drop_reason"] or "").startswith("dedup:")}
    assert len(dropped_by_dedup) == len(pairs)
