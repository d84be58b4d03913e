"""Stats and report end to end: the real corpus job on one small WARC, its OUT/stats/ checked against the rows
read independently with pyarrow, and the report rendered by headless Chromium (plots drawn, the page's own
script allowed to run, a crawled `<script>` shown as text and never run)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from jobs import inspect_stats
from pipeline.config import load_config
from pipeline.extract import EXTRACT_FIELDS
from pipeline.outputs import OutputDir
from pipeline.schema import document_schema
from pipeline.spark.job import build_corpus
from pipeline.stats.rules import all_rules
from pipeline.stats.store import STATS_JSON, read_stats_tables, write_stats_local
from pipeline.stats.tables import TABLE_SCHEMAS
from reporting.page import write_report
from testkit.records import DATE, info, request, response
from testkit.warc_writer import http_response, warc_record, write_warc
from tests.conftest import read_corpus

CHROMIUM = "/usr/bin/chromium"
INJECTION = "<script>document.title='pwned'</script>"
STAGES = ("extract", "langid", "url", "heuristics", "pii")  # the funnel order the test expects
CONFIG = load_config(None, [f"pipeline.stages={list(STAGES)}"])
# A page every heuristic keeps: sentences that share no word 5-gram (the fixture ARTICLE repeats its template).
SENTENCES = (
    "The allotment opened in April, and the first job was clearing brambles from the northern beds.",
    "Our neighbour lent us a wheelbarrow, which made moving compost from the heap much quicker than before.",
    "By May the broad beans had flowered, attracting bumblebees that seemed to visit every single blossom twice.",
    "Slugs remained a problem after rain, so we tried copper tape around the lettuces with mixed results.",
    "In June the strawberries ripened quickly; we picked them each evening and froze whatever we could not eat.",
    "A dry spell in July meant carrying watering cans from the trough, a chore shared between three families.",
    "The pumpkins sprawled across the path by August, and visitors had to step carefully between their vines.",
    "Winter brings quieter weeks of planning, ordering seeds and repairing the shed roof before the frost arrives.",
)
ARTICLE = ("<html><head><title>A year on the allotment</title></head><body><article><h1>A year on the allotment</h1>"
           + "".join(f"<p>{sentence}</p>" for sentence in SENTENCES) + "</article></body></html>")
# The same page with a paragraph whose extracted text holds a script element and a stray end tag.
INJECTED_ARTICLE = ARTICLE.replace("</h1>", (
    "</h1><p>Our secretary pasted &lt;script&gt;document.title='pwned'&lt;/script&gt; into the newsletter, and a "
    "stray &lt;/script&gt; too, which we print here exactly as it was sent.</p>"))
# Crawled strings that reach the page's JSON (the record id) and its HTML (id, url) carry markup too.
INJECTED_ID = f"<urn:uuid:00000000-0000-0000-0000-000000000000></script>{INJECTION}>"
INJECTED_URL = f"https://site.example/inject?q=\"><img src=x>{INJECTION}&page=2"
# Long enough for every pre-extraction check, but two sentences: C4 wants five.
NOTICE = ("<html><body><article><p>We sold the spare seedlings at the gate on Saturday morning, and the money paid "
          "for a new hose, two rakes and a sack of bonemeal for the roses along the fence. Next year we hope to sell "
          "twice as many plants.</p></article></body></html>")
EMAILS = ("<p>For questions write to ann@garden-club.org, bob@garden-club.org, cara@garden-club.org, "
          "dev@garden-club.org, eli@garden-club.org or fay@garden-club.org before the spring meeting.</p>")


def injected_response() -> bytes:
    block = http_response(200, INJECTED_ARTICLE.encode("utf-8"), [("Content-Type", "text/html; charset=utf-8")])
    return warc_record("response", block, record_id=INJECTED_ID, date=DATE, target_uri=INJECTED_URL,
                       content_type="application/http; msgtype=response")


@pytest.fixture(scope="module")
def run(spark, tmp_path_factory) -> Path:
    """build_corpus over one WARC whose documents' fates are known: 2 kept, 4 dropped for 4 reasons."""
    root = tmp_path_factory.mktemp("report")
    warc = write_warc(root / "CC-MAIN-2026-08-r.warc.gz", [
        info(), request("a1"), response("a1", ARTICLE), injected_response(),
        response("notice", NOTICE), response("gone", "<html><body>not found</body></html>", status=404),
        response("pic.png", b"\x89PNG....", content_type="image/png"),
        response("contacts", ARTICLE.replace("</article>", EMAILS + "</article>")),
    ])
    out = root / "out"
    build_corpus(spark, [str(warc)], str(out), CONFIG)
    return out


def rows(out: Path) -> pa.Table:
    """Every output row, kept and rejected, read with pyarrow alone."""
    return pa.concat_tables([read_corpus(out), pq.read_table(out / "rejected")], promote_options="default")


def report_data(page: str) -> dict:
    start = page.index('<script type="application/json" id="report-data">') + len(
        '<script type="application/json" id="report-data">')
    return json.loads(page[start:page.index("</script>", start)])


def test_the_run_has_the_fates_the_test_is_built_on(run):
    reasons = Counter(rows(run)["drop_reason"].to_pylist())
    assert reasons == {None: 2, "warc:non_200_status": 1, "extract:not_html": 1,
                       "heuristics:c4_too_few_sentences": 1, "pii:too_many_entities": 1}
    kept = read_corpus(run)
    injected = kept.filter(pc.equal(kept["id"], INJECTED_ID)).to_pylist()
    assert [row["url"] for row in injected] == [INJECTED_URL] and INJECTION in injected[0]["text"]


def test_funnel_matches_counts_computed_from_the_rows(run):
    table = rows(run)
    reasons = table["drop_reason"].to_pylist()
    chars = [len(t) if t is not None else 0 for t in table["text"].to_pylist()]
    expected, documents, characters = [], len(reasons), sum(chars)
    for stage in ("warc",) + STAGES:  # warc: reasons given while reading, before the first stage
        gone = [i for i, r in enumerate(reasons) if r is not None and r.split(":")[0] == stage]
        dropped_chars = sum(chars[i] for i in gone)
        expected.append({"stage": stage, "documents_in": documents, "documents_dropped": len(gone),
                         "documents_out": documents - len(gone), "chars_in": characters,
                         "chars_dropped": dropped_chars, "chars_out": characters - dropped_chars})
        documents, characters = documents - len(gone), characters - dropped_chars
    assert pq.read_table(run / "stats" / "funnel.parquet").to_pylist() == expected
    assert json.loads((run / "stats" / "stats.json").read_text())["funnel"] == expected
    assert (documents, characters) == (2, sum(c for c, r in zip(chars, reasons) if r is None))


def test_stats_tables_match_the_rows(run):
    table = rows(run)
    stats = json.loads((run / "stats" / "stats.json").read_text())
    summary = json.loads((run / "stats" / "summary.json").read_text())
    assert (stats["documents"], stats["kept"], stats["dropped"]) == (summary["documents"], summary["kept"], summary["dropped"])
    assert stats["dropped_by_reason"] == summary["dropped_by_reason"]
    tables = read_stats_tables(OutputDir(str(run)))
    assert {r["drop_reason"]: r["documents"] for r in tables["reasons"].to_pylist()} == summary["dropped_by_reason"]
    assert {r["lang"]: r["documents"] for r in tables["languages"].to_pylist()} == Counter(table["lang"].to_pylist())
    for column in [c for c in table.column_names if c.startswith("pii_") and c.endswith("_count")]:
        values = [v for v in table[column].to_pylist() if v]
        entity = column.removeprefix("pii_").removesuffix("_count").upper()
        row = next(r for r in tables["pii"].to_pylist() if r["entity"] == entity)
        assert (row["documents_with_hits"], row["hits"]) == (len(values), sum(values)), column
    histograms = tables["histograms"]
    for signal in ("lang_score", "gopher_word_count", "pii_total_count"):
        measured = pc.sum(pc.is_valid(table[signal])).as_py()
        mine = histograms.filter(pc.and_(pc.equal(histograms["signal"], signal), pc.greater_equal(histograms["position"], 0)))
        assert pc.sum(mine["documents"]).as_py() == measured, signal
    assert tables["clusters"].num_rows == 0 and stats["clusters"] is None  # no dedup stage in this run
    samples = tables["samples"].to_pylist()
    assert Counter(s["drop_reason"] for s in samples) == {r: min(3, n) for r, n in Counter(table["drop_reason"].to_pylist()).items()}


def test_spark_and_pyarrow_stats_are_the_same_tables(run, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(run, copy, ignore=shutil.ignore_patterns("stats"))
    out = OutputDir(str(copy))
    write_stats_local(out, CONFIG, json.loads((run / "stats" / "stats.json").read_text())["config_hash"], batch_rows=3)
    spark_tables, local_tables = read_stats_tables(OutputDir(str(run))), read_stats_tables(out)
    for name in TABLE_SCHEMAS:
        assert local_tables[name].equals(spark_tables[name]), name
    assert json.loads((copy / STATS_JSON).read_text()) == json.loads((run / STATS_JSON).read_text())


def test_report_numbers_equal_stats_and_rows_and_are_deterministic(run):
    path = Path(write_report(str(run)))
    first = path.read_bytes()
    assert Path(write_report(str(run))).read_bytes() == first
    data = report_data(first.decode("utf-8"))
    numbers = data["numbers"]
    table = rows(run)
    kept = read_corpus(run).num_rows
    rejected = pq.read_table(run / "rejected")
    assert (numbers["documents"], numbers["kept"], numbers["dropped"]) == (table.num_rows, kept, rejected.num_rows)
    assert numbers["dropped_by_reason"] == dict(Counter(rejected["drop_reason"].to_pylist()))
    stats = json.loads((run / STATS_JSON).read_text())
    assert numbers["funnel"] == pq.read_table(run / "stats" / "funnel.parquet").to_pylist() == stats["funnel"]
    assert numbers["languages"] == {("(none)" if k is None else k): n for k, n in Counter(table["lang"].to_pylist()).items()}
    pii = {r["entity"]: {"documents_with_hits": r["documents_with_hits"], "hits": r["hits"]}
           for r in pq.read_table(run / "stats" / "pii.parquet").to_pylist()}
    assert numbers["pii"] == pii
    # At the configured threshold, a single-valued rule's what-if gives the rule's actual drops.
    exact = [w for w in data["whatif"] if w["threshold_on_grid"] and not w["note"]]
    assert {w["reason"] for w in exact} >= {"langid:below_threshold", "pii:too_many_entities", "heuristics:c4_too_few_sentences"}
    for w in exact:
        assert w["drops"][w["configured_index"]] == numbers["dropped_by_reason"].get(w["reason"], 0), w["reason"]


def table_rows_after(page: str, heading_id: str) -> list[list[str]]:
    """The cells of each row of the first table after `<h2 id=heading_id>`."""
    start = page.index(f'<h2 id="{heading_id}">')
    table = page[page.index("<table>", start):page.index("</table>", start)]
    dom = Dom()
    dom.feed(table)
    rows, cells = [], None
    for tag, _, text in dom.elements:
        if tag == "tr":
            cells = []
            rows.append(cells)
        elif tag == "td":
            cells.append(text)
    return [row for row in rows if row]


def test_rules_section_shows_every_declared_rule_in_order_with_its_drops(run):
    page = Path(write_report(str(run))).read_text(encoding="utf-8")
    shown = table_rows_after(page, "rules")
    declared = all_rules(CONFIG)
    assert [row[0] for row in shown] == [reason for reason, _ in declared]
    assert [row[1] for row in shown] == [rule.means for _, rule in declared]
    drops = Counter(rows(run)["drop_reason"].to_pylist())
    assert {row[0]: int(row[3].replace(",", "")) for row in shown} == {reason: drops[reason] for reason, _ in declared}
    assert set(drops) - {None} <= {row[0] for row in shown}  # every reason the run gave is a declared rule
    by_reason = {row[0]: row[2] for row in shown}
    assert by_reason["heuristics:gopher_too_few_words"] == "gopher_word_count < 50 (heuristics.gopher_quality.min_words)"


class Dom(HTMLParser):
    """Elements of a dumped DOM: (tag, attributes, text inside up to the next tag)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[list] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append([tag, dict(attrs), ""])

    def handle_data(self, data):
        if self.elements:
            self.elements[-1][2] += data


def test_chromium_renders_plots_runs_only_the_page_script_and_shows_crawled_script_as_text(run, tmp_path):
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: run `make install` (it installs Debian's chromium for this test)")
    page = Path(write_report(str(run)))
    dumped = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=2000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=True).stdout
    dom = Dom()
    dom.feed(dumped)
    tags = Counter(tag for tag, _, _ in dom.elements)
    assert next(text for tag, _, text in dom.elements if tag == "title") == "Corpus report"
    assert tags["script"] == 2 and tags["iframe"] == tags["img"] == tags["object"] == 0  # nothing injected
    assert "&lt;script&gt;document.title='pwned'&lt;/script&gt;" in dumped  # the crawled text, as text
    assert INJECTION in "".join(text for tag, _, text in dom.elements if tag == "pre")
    assert INJECTED_ID in [text for tag, _, text in dom.elements if tag == "b"]  # the sample's id, as text
    assert json.loads(next(text for tag, attrs, text in dom.elements if attrs.get("id") == "report-data")
                      )["numbers"]["samples"]["kept"].count(INJECTED_ID) == 1
    drawn = [attrs for tag, attrs, _ in dom.elements if tag == "rect" and float(attrs.get("height", 0)) > 0]
    assert len(drawn) > 50
    svgs = tags["svg"]
    assert svgs > 20
    whatifs = [attrs for tag, attrs, _ in dom.elements if tag == "div" and attrs.get("id", "").startswith("whatif-")]
    assert whatifs and all(attrs.get("data-js") == "ready" for attrs in whatifs)  # the hashed script ran
    markers = [attrs for tag, attrs, _ in dom.elements if tag == "line" and attrs.get("stroke-width") == "2" and "x1" in attrs
               and attrs.get("stroke") == "#111111" and "stroke-dasharray" not in attrs]
    assert len(markers) == len(whatifs)  # one slider marker drawn by the script per rule
    outputs = [text for tag, _, text in dom.elements if tag == "output"]
    assert all(" documents (" in text for text in outputs)


def test_dedup_columns_give_cluster_tables(tmp_path):
    """A run_stages-style output whose rows carry dedup's columns (pyarrow path); clusters counted by hand."""
    from dedup.decisions import DEDUP_FIELDS

    config = load_config(None, ["pipeline.stages=['extract']"])
    schema = document_schema(list(EXTRACT_FIELDS) + list(DEDUP_FIELDS))
    docs = [  # (id, dup_cluster, dup_cluster_size, drop_reason)
        ("a", "a", 3, None), ("b", "a", 3, "dedup:near_duplicate"), ("c", "a", 3, "dedup:exact_duplicate"),
        ("d", "d", 2, None), ("e", "d", 2, "dedup:near_duplicate"), ("f", None, 1, None),
        ("g", "old", 2, "dedup:exact_duplicate"),  # its representative is in an earlier run's index
    ]
    table = pa.Table.from_pylist([{"id": i, "text": f"text of {i}", "url": f"https://{i}.example/", "drop_reason": r,
                                   "dup_cluster": c, "dup_cluster_size": s} for i, c, s, r in docs], schema=schema)
    out = OutputDir(str(tmp_path))
    out.claim(config, ())
    with out.parquet_writer("documents.parquet", schema) as writer:
        writer.write_table(table)
    summary = write_stats_local(out, config, "h")
    tables = read_stats_tables(out)
    assert tables["clusters"].to_pylist() == [
        {"dup_cluster_size": 1, "documents": 1, "kept_documents": 1, "dropped_documents": 0, "clusters": 0},
        {"dup_cluster_size": 2, "documents": 3, "kept_documents": 1, "dropped_documents": 2, "clusters": 1},
        {"dup_cluster_size": 3, "documents": 3, "kept_documents": 1, "dropped_documents": 2, "clusters": 1},
    ]
    assert tables["largest_clusters"].to_pylist() == [{"dup_cluster": "a", "dup_cluster_size": 3},
                                                      {"dup_cluster": "d", "dup_cluster_size": 2}]
    assert summary["stages"] == ["extract", "dedup"] and summary["funnel"][-1]["documents_out"] == 3
    assert summary["clusters"]["clusters"] == 2 and summary["clusters"]["documents_in_clusters"] == 6
    assert [(b["sizes"], b["clusters"]) for b in json.loads((tmp_path / STATS_JSON).read_text())["clusters"]["clusters_by_size"]
            ] == [("2", 1), ("3-5", 1), ("6-10", 0), ("11-100", 0), ("101+", 0)]
    assert inspect_stats.main([str(tmp_path)]) == 0


def test_benchmark_hits_and_perplexity_per_language_are_counted_and_shown(tmp_path):
    """A run_stages-style output with decontam's and perplexity's columns; every expectation counted by hand."""
    from filters.decontam import DecontamStage
    from filters.perplexity import PerplexityStage

    config = load_config(None, ["pipeline.stages=['extract']"])
    schema = document_schema(list(EXTRACT_FIELDS) + list(DecontamStage.fields) + list(PerplexityStage.fields)
                             + [pa.field("lang", pa.string())])
    docs = [  # (id, lang, perplexity, bucket, benchmarks, drop_reason)
        ("a", "en", 80.0, "head", None, None), ("b", "en", 150.0, "middle", "HumanEval", None),
        ("c", "en", 900.0, "tail", "HumanEval,MMLU", "decontam:ngram_overlap"), ("d", "de", 40.0, "head", None, None),
        ("e", "de", 70.0, "head", "MMLU", "decontam:ngram_overlap"), ("f", "fr", None, None, None, None),
    ]
    table = pa.Table.from_pylist([{"id": i, "text": i * 10, "drop_reason": r, "lang": lang, "perplexity": ppl,
                                   "perplexity_bucket": bucket, "decontam_benchmarks": names}
                                  for i, lang, ppl, bucket, names, r in docs], schema=schema)
    out = OutputDir(str(tmp_path))
    out.claim(config, ())
    with out.parquet_writer("documents.parquet", schema) as writer:
        writer.write_table(table)
    write_stats_local(out, config, "h")
    tables = read_stats_tables(out)
    counts = ["documents", "kept_documents", "dropped_documents"]
    assert [[r["benchmark"]] + [r[c] for c in counts] for r in tables["benchmarks"].to_pylist()] == [
        ["HumanEval", 2, 1, 1], ["MMLU", 2, 0, 2]]
    assert [[r["lang"], r["bucket"]] + [r[c] for c in counts] for r in tables["perplexity_buckets"].to_pylist()] == [
        ["de", "head", 2, 1, 1], ["en", "head", 1, 1, 0], ["en", "middle", 1, 1, 0], ["en", "tail", 1, 0, 1]]
    quantiles = {(r["signal"], r["population"]): r for r in tables["quantiles"].to_pylist()}
    assert (quantiles[("perplexity@en", "all")]["documents"], quantiles[("perplexity@en", "kept")]["max"]) == (3, 150.0)
    assert (quantiles[("perplexity@de", "dropped")]["min"], quantiles[("perplexity@de", "all")]["stage"]) == (
        70.0, "perplexity")
    assert ("perplexity@fr", "all") not in quantiles  # no perplexity for a language without a model
    page = Path(write_report(str(tmp_path))).read_text(encoding="utf-8")
    assert [row[:2] for row in table_rows_after(page, "benchmarks")] == [["HumanEval", "2"], ["MMLU", "2"]]
    signals = page[page.index('<h2 id="signals">'):page.index('<h2 id="whatif">')]
    assert signals.index("perplexity@de") < signals.index("perplexity@en") and "perplexity@fr" not in signals
    assert [row[:4] for row in table_rows_after(page, "perplexity")] == [
        ["de", "head", "2", "100.0%"], ["en", "head", "1", "33.3%"], ["en", "middle", "1", "33.3%"],
        ["en", "tail", "1", "33.3%"]]


def test_whatif_counts_equal_a_brute_force_count_at_every_threshold():
    """Values exactly on a threshold, just around it, missing, and dropped before or after the rule."""
    import operator

    from filters.heuristics.stage import HeuristicsStage
    from filters.langid import LangidStage
    from filters.url import UrlFilterStage
    from pipeline.stats.counts import merge_partials, partial_counts
    from pipeline.stats.grid import signal_histograms
    from pipeline.stats.rules import decision_rules, reaches_rule, signal_columns
    from pipeline.stats.whatif import whatif

    config = load_config(None, ["pipeline.stages=['extract','langid','url','heuristics']"])
    schema = document_schema(list(EXTRACT_FIELDS) + [f for cls in (LangidStage, UrlFilterStage, HeuristicsStage)
                                                     for f in cls.fields])
    values = {"lang_score": [0.65, 0.6500001, 0.64999, 0.9, None, 0.65],
              "url_soft_banned_word_count": [2, 1, 3, 0, None, 2],
              "gopher_word_count": [50, 49, 51, 100_000, 100_001, None],
              "fineweb_line_punct_ratio": [0.12, 0.11999, 0.12001, 0.0, 1.0, None]}
    reasons = [None, "langid:language_not_kept", "heuristics:gopher_too_few_words", None, "extract:not_html",
               "heuristics:badwords_count_too_high"]
    table = pa.Table.from_pylist([{"id": str(i), "text": "x", "drop_reason": reasons[i]} | {k: v[i] for k, v in values.items()}
                                  for i in range(len(reasons))], schema=schema)
    merged = merge_partials(partial_counts(table, signal_columns(schema)))
    signal = merged.filter(pc.equal(merged["metric"], "signal"))
    histograms = signal_histograms(pa.table({"signal": signal["key"], "drop_reason": signal["drop_reason"],
                                             "position": signal["bin"], "documents": signal["documents"],
                                             "value_min": signal["value_min"]}))
    rules = decision_rules(config)
    reaches = reaches_rule(["extract", "langid", "url", "heuristics"], rules)
    compare = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
    checked = 0
    for _, rule in rules:
        if rule is None or rule.signal not in values:
            continue
        result = whatif(rule, histograms[rule.signal], reaches, now=0)
        for threshold, drops in zip(result["thresholds"], result["drops"]):
            expected = sum(1 for reason, value in zip(reasons, values[rule.signal]) if value is not None
                           and reaches(reason, rule.reason) and compare[rule.drops_when](value, threshold))
            assert drops == expected, (rule.reason, threshold)
        assert result["thresholds"][result["configured_index"]] == rule.threshold
        checked += 1
    assert checked == 5  # below_threshold, soft_banned_words, too_few_words, too_many_words, line_punct_ratio


def test_an_output_without_rows_has_empty_stats(tmp_path):
    from pipeline.stats.store import write_stats_from_parts

    out = OutputDir(str(tmp_path))
    out.claim(CONFIG, ("corpus", "rejected"))
    stats = write_stats_from_parts(out, CONFIG, "empty", [])
    assert (stats["documents"], stats["dropped_by_reason"], stats["sources"]) == (0, {}, [])
    assert [row["documents_in"] for row in stats["funnel"]] == [0] * len(STAGES)
    assert all(table.num_rows == 0 for name, table in read_stats_tables(out).items() if name != "funnel")
