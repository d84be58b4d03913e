"""The opt-out stage (filters/optout.py): every directive form in a minimal WARC, what it must not honour, its
exact reasons and counts through run_stages and Spark, and the same decision with the cascade on and off."""
from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from filters.optout import OptoutConfig, html_head, optout_signals
from pipeline.config import load_config
from pipeline.corpus import InputTally, process_input
from pipeline.http import parse_response
from pipeline.stats.rules import all_rules, is_declared
from pipeline.spark.job import build_corpus
from testkit.records import info, request, response
from testkit.warc_writer import write_warc
from tests.conftest import read_corpus


PARAGRAPHS = (
    "The lighthouse on the northern cape was switched to solar power last autumn after ninety years of diesel.",
    "Volunteers from the harbour society carried the new panels up the spiral stairs on a calm October morning.",
    "The old generator now stands in the museum beside the keeper's logbooks and a brass fog horn from 1931.",
    "Visitors can climb the tower on Sundays in summer, when the view reaches the islands beyond the sound.",
    "A small exhibition explains how the lens was ground in Paris and shipped north in eleven wooden crates.",
    "The society hopes to restore the keeper's cottage next year and open it as a shelter for walkers.",
)
ARTICLE = ("<html><head><title>The lighthouse goes solar</title></head><body><nav><a href='/'>Home</a></nav>"
           "<article><h1>The lighthouse goes solar</h1>" + "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
           + "</article></body></html>")


def page(head: str = "", body_end: str = "") -> str:
    """An article every default stage keeps, with `head` in its <head> and `body_end` before </body>."""
    return ARTICLE.replace("<head>", "<head>" + head).replace("</body>", body_end + "</body>")


# name -> (HTTP headers, HTML, expected drop reason with stages extract+optout, expected signals where it drops)
X = "optout_x_robots_tag"
T, P = "optout_tdm_reservation", "optout_tdm_policy"
M = "optout_meta_robots"
CASES: dict[str, tuple[list[tuple[str, str]], str, str | None, dict]] = {
    # X-Robots-Tag
    "xrt-noai": ([("X-Robots-Tag", "noai")], page(), "optout:x_robots_tag", {X: "noai"}),
    "xrt-list-case": ([("x-robots-tag", "NoIndex, NOIMAGEAI")], page(), "optout:x_robots_tag", {X: "noimageai"}),
    "xrt-two-headers": ([("X-Robots-Tag", "nofollow"), ("X-ROBOTS-TAG", "noarchive,  noai ")], page(),
                        "optout:x_robots_tag", {X: "noai"}),
    "xrt-agent": ([("X-Robots-Tag", "GPTBot: noindex")], page(), "optout:x_robots_tag", {X: "gptbot: noindex"}),
    "xrt-agent-later": ([("X-Robots-Tag", "googlebot: noindex, nofollow, CCBot: none")], page(),
                        "optout:x_robots_tag", {X: "ccbot: none"}),
    "xrt-other-agent-noai": ([("X-Robots-Tag", "bingbot: noai")], page(), "optout:x_robots_tag", {X: "bingbot: noai"}),
    # TDM Reservation Protocol
    "tdm-header": ([("tdm-reservation", "1"), ("tdm-policy", "https://site.example/tdm-policy.json")], page(),
                   "optout:tdm_reservation", {T: "header", P: "https://site.example/tdm-policy.json"}),
    "tdm-header-alone": ([("TDM-Reservation", " 1 ")], page(), "optout:tdm_reservation", {T: "header", P: None}),
    "tdm-meta": ([], page('<meta name="tdm-reservation" content="1"><meta name="TDM-Policy" '
                          'content="https://site.example/policy">'),
                 "optout:tdm_reservation", {T: "meta", P: "https://site.example/policy"}),
    # <meta> robots and per-agent meta names
    "meta-noai": ([], page('<meta name="robots" content="noai, noimageai">'), "optout:meta_robots", {M: "noai"}),
    "meta-upper": ([], page("<META CONTENT='NOIMAGEAI' NAME=ROBOTS>"), "optout:meta_robots", {M: "noimageai"}),
    "meta-ccbot": ([], page('<meta name="CCBot" content="noindex">'), "optout:meta_robots", {M: "ccbot: noindex"}),
    "meta-gptbot": ([], page('<meta name="GPTBot" content="nofollow, noai">'), "optout:meta_robots",
                    {M: "gptbot: noai"}),
    "meta-http-equiv": ([], page('<meta http-equiv="X-Robots-Tag" content="noai">'), "optout:meta_robots",
                        {M: "noai"}),
    # several sources: the first rule decides, every source is recorded
    "all-three": ([("X-Robots-Tag", "noai"), ("tdm-reservation", "1")], page('<meta name="robots" content="noai">'),
                  "optout:x_robots_tag", {X: "noai", T: "header", M: "noai"}),
    # negatives: kept
    "neg-generic-noindex": ([("X-Robots-Tag", "noindex, nofollow, noarchive")],
                            page('<meta name="robots" content="noindex, noarchive, nosnippet">'), None, {}),
    "neg-other-agent-noindex": ([("X-Robots-Tag", "googlebot: noindex")],
                                page('<meta name="bingbot" content="noindex, none">'), None, {}),
    "neg-tdm-0": ([("tdm-reservation", "0"), ("tdm-policy", "https://site.example/p")],
                  page('<meta name="tdm-reservation" content="0">'), None, {}),
    "neg-malformed": ([("X-Robots-Tag", ",,, : ,noai-please, unavailable_after: 25 Jun 2030 15:00:00 PST"),
                       ("X-Robots-Tag", ""), ("tdm-reservation", "yes"), ("X-Junk", "1\r\nX-Robots-Tag noai"),
                       ("X-Robots-Tag", "caf\xe9: noindex")],
                      page('<meta name="robots"><meta content="noai"><meta name="robots" content=>'), None, {}),
    "neg-commented": ([], page('<!-- <meta name="robots" content="noai"> -->'), None, {}),
    "neg-after-head": ([], page(body_end='<meta name="robots" content="noai">'), None, {}),
    "neg-description": ([], page('<meta name="description" content="tags: noai, art">'), None, {}),
}
OPTED_OUT = sorted(name for name, case in CASES.items() if case[2])


def reason_counts(reasons) -> dict[str, int]:
    counts: dict[str, int] = {}
    for reason in reasons:
        counts[reason] = counts.get(reason, 0) + 1
    return counts


EXPECTED_COUNTS = reason_counts(case[2] for case in CASES.values() if case[2])


@pytest.fixture(scope="module")
def warc(tmp_path_factory) -> str:
    records = [info()]
    for name, (headers, html, _, _) in CASES.items():
        records += [request(name), response(name, html, headers=headers)]
    # the URL filter would drop this page too: the opt-out decides first, with the cascade on or off
    records += [request("porn-guide"), response("porn-guide", page('<meta name="robots" content="noai">'))]
    # not HTML: never extracted, so the opt-out never needs to look
    records += [request("pdf"), response("pdf", b"%PDF-1.4", content_type="application/pdf",
                                         headers=[("X-Robots-Tag", "noai")])]
    return str(write_warc(tmp_path_factory.mktemp("optout") / "CC-MAIN-2026-08-optout.warc.gz", records))


def rows_of(warc_path: str, *settings: str) -> dict[str, dict]:
    config = load_config(None, list(settings))
    rows = [row for batch in process_input(warc_path, config, InputTally(warc_path)) for row in batch.to_pylist()]
    return {row["url"].rsplit("/", 1)[1]: row for row in rows}


@pytest.fixture(scope="module")
def optout_rows(warc) -> dict[str, dict]:
    return rows_of(warc, "pipeline.stages=['extract','optout']")


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_directive_form_gets_its_reason_and_signals(optout_rows, name):
    _, _, reason, signals = CASES[name]
    row = optout_rows[name]
    assert row["drop_reason"] == reason
    expected = {X: None, T: None, P: None, M: None} | signals
    assert {column: row[column] for column in expected} == expected
    assert (row["text"] is None) == (reason is not None)  # an opted-out page is never extracted


def test_url_and_non_html_pages(optout_rows):
    assert optout_rows["porn-guide"]["drop_reason"] == "optout:meta_robots"
    assert optout_rows["pdf"]["drop_reason"] == "extract:not_html"


def modes() -> dict[str, list[str]]:
    stages = "pipeline.stages=['extract','optout','langid','url','heuristics']"
    return {"on": [stages], "off": [stages, "extract.cascade=false"],
            "all_signals": [stages, "pipeline.compute_all_signals=true"]}


@pytest.fixture(scope="module")
def chains(warc) -> dict[str, dict[str, dict]]:
    return {mode: rows_of(warc, *settings) for mode, settings in modes().items()}


def test_opted_out_pages_get_the_same_reason_with_the_cascade_on_and_off(chains):
    expected = {name: case[2] for name, case in CASES.items() if case[2]} | {"porn-guide": "optout:meta_robots"}
    for mode, rows in chains.items():
        assert {name: rows[name]["drop_reason"] for name in expected} == expected, mode
        for name in expected:
            if mode == "all_signals":  # the other stages measure dropped rows too (C4's cleanup writes "" text)
                assert all(rows[name][column] == chains["on"][name][column] for column in (X, T, P, M)), name
                assert not rows[name]["text"], name
            else:
                assert rows[name] == chains["on"][name], (mode, name)  # every column: signals, no text


def test_kept_pages_are_identical_with_the_cascade_on_and_off(chains):
    kept_on = {name: row for name, row in chains["on"].items() if row["drop_reason"] is None}
    assert sorted(kept_on) == sorted(name for name, case in CASES.items() if not case[2])
    assert kept_on == {name: row for name, row in chains["off"].items() if row["drop_reason"] is None}
    assert all(row[X] is None and row[M] is None for row in kept_on.values())


def test_disabled_stage_keeps_every_page(warc):
    rows = rows_of(warc, "pipeline.stages=['extract','langid','url','heuristics']")
    assert [name for name in OPTED_OUT if rows[name]["drop_reason"] is not None] == []
    assert "optout_x_robots_tag" not in rows["xrt-noai"]  # no columns either
    assert rows["porn-guide"]["drop_reason"] == "url:banned_word"


def test_run_stages_counts_each_reason(warc, tmp_path):
    from jobs import run_stages

    assert run_stages.main(["--stages", "extract,optout", "--input", warc, "--output", str(tmp_path)]) == 0
    summary = json.loads((tmp_path / "stats" / "summary.json").read_text())
    assert summary["dropped_by_reason"] == EXPECTED_COUNTS | {"optout:meta_robots": EXPECTED_COUNTS[
        "optout:meta_robots"] + 1, "extract:not_html": 1}
    assert (summary["kept"], summary["dropped"]) == (len(CASES) - len(OPTED_OUT), len(OPTED_OUT) + 2)
    reasons = {r["drop_reason"] for r in pq.read_table(tmp_path / "documents.parquet").to_pylist()} - {None}
    config = load_config(None, ["pipeline.stages=['extract','optout']"])
    assert [reason for reason in reasons if not is_declared(reason, all_rules(config))] == []


def test_spark_job_counts_each_reason(spark, warc, tmp_path):
    config = load_config(None, ["pipeline.stages=['extract','optout','url']", "extract.cascade=false"])
    summary = build_corpus(spark, [warc], str(tmp_path), config)
    assert summary["dropped_by_reason"] == EXPECTED_COUNTS | {"optout:meta_robots": EXPECTED_COUNTS[
        "optout:meta_robots"] + 1, "extract:not_html": 1}
    corpus = read_corpus(tmp_path).to_pylist()
    assert sorted(row["url"].rsplit("/", 1)[1] for row in corpus) == sorted(
        name for name, case in CASES.items() if not case[2])


def test_table_inputs_are_never_opted_out(tmp_path):
    path = tmp_path / "docs.jsonl"
    path.write_text(json.dumps({"id": "a", "text": '<meta name="robots" content="noai"> X-Robots-Tag: noai'}) + "\n")
    config = load_config(None, ["pipeline.stages=['optout']"])
    rows = [row for batch in process_input(str(path), config, InputTally(str(path))) for row in batch.to_pylist()]
    assert [(row["id"], row["drop_reason"], row["optout_x_robots_tag"]) for row in rows] == [("a", None, None)]


def test_default_pipeline_runs_the_stage():
    assert "optout" in load_config(None, []).pipeline.stages


# ------------------------------------------------------------------------------ pure parts


def test_every_header_line_is_kept_for_the_stage():
    response = parse_response(b"HTTP/1.1 200 OK\r\nX-Robots-Tag: noindex\r\nx-robots-tag:  noai \r\nbroken\r\n\r\n")
    assert response.headers["x-robots-tag"] == "noindex"  # the first, as before
    assert response.header_lines == (("x-robots-tag", "noindex"), ("x-robots-tag", "noai"))


def test_head_scan_stops_at_the_head_and_the_configured_size():
    html = '<head><meta name="robots" content="noai">' + "x" * 100 + "</head>"
    assert optout_signals([], html, OptoutConfig())[M] == "noai"
    assert optout_signals([], html, OptoutConfig(head_scan_chars=20))[M] is None
    assert html_head("<head><!-- a <!-- b --> c <!-- never closed", 1000) == "<head> c "
    # many unclosed tags and comments: bounded scans, no backtracking blow-up
    assert optout_signals([], "<head>" + "<meta name=robots content=" * 5000 + "<!--" * 5000, OptoutConfig())[M] is None


def test_agents_are_configurable():
    headers = [("X-Robots-Tag", "examplebot: noindex")]
    assert optout_signals(headers, "", OptoutConfig())[X] is None
    assert optout_signals(headers, "", OptoutConfig(agents=("ExampleBot",)))[X] == "examplebot: noindex"
