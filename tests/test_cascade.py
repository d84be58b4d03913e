"""The cheap-first cascade (pipeline/cascade.py): what it drops before trafilatura, under which reason, and
that every page it lets through ends exactly as with the cascade off."""
from __future__ import annotations

import pytest

from contract.stage import Page
from filters.heuristics.stage import visible_word_count
from filters.langid import LangidStage, kept_language_probability
from pipeline.cascade import cascade_for, precheck_settings
from pipeline.config import load_config
from pipeline.corpus import InputTally, build_stages, process_input, warc_rows
from pipeline.extract import sandbox_for
from pipeline.spark.job import build_corpus
from testkit.records import info, request, response
from testkit.warc_writer import write_warc
from tests.conftest import read_corpus

STAGES = ["extract", "langid", "url", "heuristics"]

# A short English article that every stage keeps, and the same article in German.
ENGLISH_PARAGRAPHS = (
    "The allotment behind the old railway station has been tended by the same club for more than forty years.",
    "This spring the members planted beans along the south fence and watered the young leeks before sunrise.",
    "After two cold nights in April, half of the early carrots had to be sown again in the sheltered beds.",
    "A retired teacher keeps a notebook with the dates of every frost, and the club checks it before planting.",
    "Visitors are welcome on Saturday mornings, when the gate is open and there is tea in the tool shed.",
    "Children from the nearby school come once a week to water the pumpkins and to learn the names of weeds.",
)
GERMAN_PARAGRAPHS = (
    "Der Kleingarten hinter dem alten Bahnhof wird seit mehr als vierzig Jahren vom selben Verein gepflegt.",
    "In diesem Frühjahr haben die Mitglieder Bohnen am südlichen Zaun gepflanzt und den jungen Lauch vor "
    "Sonnenaufgang gegossen.",
    "Nach zwei kalten Nächten im April musste die Hälfte der frühen Karotten in den geschützten Beeten neu "
    "gesät werden.",
    "Eine pensionierte Lehrerin führt ein Heft mit den Daten jedes Frostes, und der Verein sieht vor dem "
    "Pflanzen hinein.",
    "Besucher sind am Samstagvormittag willkommen, wenn das Tor offen ist und es im Geräteschuppen Tee gibt.",
    "Kinder aus der nahen Schule kommen einmal pro Woche, um die Kürbisse zu gießen und die Namen der "
    "Unkräuter zu lernen.",
)


def article(title: str, paragraphs: tuple[str, ...]) -> str:
    return (f"<html><head><title>{title}</title></head><body><nav><a href='/'>Home</a></nav><article>"
            f"<h1>{title}</h1>" + "".join(f"<p>{p}</p>" for p in paragraphs) + "</article></body></html>")


ENGLISH = article("Notes from the allotment", ENGLISH_PARAGRAPHS)
GERMAN = article("Notizen aus dem Kleingarten", GERMAN_PARAGRAPHS)
SHORT = "<html><body><h1>Welcome</h1><p>Our new site opens soon.</p></body></html>"  # 6 visible words


@pytest.fixture(scope="module")
def url_lists(tmp_path_factory) -> list[str]:
    """Block lists with one banned URL word, so that site.example/casino-guide is blocked and nothing else."""
    root = tmp_path_factory.mktemp("lists")
    (root / "domains.txt").write_text("blocked.example\n")
    (root / "words.txt").write_text("casino\n")
    (root / "soft.txt").write_text("")
    return [f"url.banned_domains_paths=['{root / 'domains.txt'}']", f"url.banned_words_paths=['{root / 'words.txt'}']",
            f"url.soft_banned_words_paths=['{root / 'soft.txt'}']"]


def make_config(cascade: bool, url_lists: list[str], stages: list[str] = STAGES, *more: str):
    return load_config(None, [f"pipeline.stages={stages}", f"extract.cascade={str(cascade).lower()}", *url_lists, *more])


@pytest.fixture(scope="module")
def warc(tmp_path_factory) -> str:
    root = tmp_path_factory.mktemp("cascade")
    return str(write_warc(root / "CC-MAIN-2026-08-cascade.warc.gz", [
        info(),
        request("en"), response("en", ENGLISH),
        request("de"), response("de", GERMAN),
        request("casino-guide"), response("casino-guide", ENGLISH.replace("beans", "peas")),
        request("short"), response("short", SHORT),
        request("png"), response("png", b"\x89PNG....", content_type="image/png"),
    ]))


def rows_by_name(warc_path: str, config) -> dict[str, dict]:
    """warc_rows keyed by the page name at the end of the URL."""
    return {row["url"].rsplit("/", 1)[1]: row for row in warc_rows(warc_path, config, InputTally(warc_path))}


def sent_for(warc_path: str, config) -> tuple[dict[str, dict], int]:
    """(rows, pages handed to this process's trafilatura sandbox while reading them)."""
    sandbox = sandbox_for(config.extract)
    before = sandbox.documents_sent
    rows = rows_by_name(warc_path, config)
    return rows, sandbox.documents_sent - before


# ------------------------------------------------------------------------------ before trafilatura


def test_other_language_page_is_dropped_without_trafilatura(warc, url_lists, tmp_path):
    config = make_config(True, url_lists)
    for page, body in (("de", GERMAN), ("short", SHORT), ("casino-guide", ENGLISH), ("en", ENGLISH)):
        alone = str(write_warc(tmp_path / f"{page}.warc.gz", [info(), request(page), response(page, body)]))
        row, sent = sent_for(alone, config)
        assert sent == (1 if page == "en" else 0), page  # the real sandbox's counter, one file per page
        assert (row[page].get("text") is None) == (page != "en"), page
    rows, sent = sent_for(warc, config)
    assert sent == 1  # the English article only; the PNG never reaches extraction at all
    assert rows["en"]["drop_reason"] is None and "allotment" in rows["en"]["text"]
    assert rows["de"]["drop_reason"] == "cascade:language_not_kept"
    assert rows["de"]["cascade_lang"] == "de" and rows["de"]["cascade_kept_lang_prob"] < 0.1
    assert rows["short"]["drop_reason"] == "cascade:too_few_words"
    assert rows["short"]["cascade_visible_words"] == 6
    assert rows["png"]["drop_reason"] == "extract:not_html"


def test_url_blocked_page_gets_the_url_stage_reason_and_signals(warc, url_lists):
    rows, _ = sent_for(warc, make_config(True, url_lists))
    blocked = rows["casino-guide"]
    assert blocked["drop_reason"] == "url:banned_word"
    assert (blocked["url_host"], blocked["url_banned_word_count"], blocked["url_banned_domain"]) == ("site.example", 1, None)


def test_with_the_cascade_off_every_page_goes_to_trafilatura(warc, url_lists):
    rows, sent = sent_for(warc, make_config(False, url_lists))
    assert sent == 4  # en, de, casino-guide, short: every HTML page with status 200
    assert rows["de"]["text"] is not None and rows["de"]["drop_reason"] is None  # langid decides later
    assert all(row.get("cascade_lang") is None for row in rows.values())


def test_same_input_same_rows(warc, url_lists):
    config = make_config(True, url_lists)
    assert list(warc_rows(warc, config, InputTally(warc))) == list(warc_rows(warc, config, InputTally(warc)))


# ------------------------------------------------------------------------------ the whole chain, on and off


@pytest.fixture(scope="module")
def chains(warc, url_lists) -> dict[bool, list[dict]]:
    """cascade on/off -> every row of the WARC after the stage chain (`process_input`), by id."""
    result = {}
    for cascade in (True, False):
        batches = process_input(warc, make_config(cascade, url_lists), InputTally(warc))
        result[cascade] = sorted((row for batch in batches for row in batch.to_pylist()), key=lambda r: r["id"])
    return result


def test_kept_page_is_identical_with_the_cascade_on_and_off(chains):
    kept_on, kept_off = ([row for row in chains[c] if row["drop_reason"] is None] for c in (True, False))
    assert [row["url"] for row in kept_on] == ["https://site.example/en"]
    assert kept_on == kept_off  # every column, signals included


def test_rows_the_cascade_did_not_drop_are_identical(chains):
    off_by_id = {row["id"]: row for row in chains[False]}
    reasons = {row["url"].rsplit("/", 1)[1]: (row["drop_reason"], off_by_id[row["id"]]["drop_reason"])
               for row in chains[True]}
    assert reasons == {  # page -> (cascade on, cascade off)
        "en": (None, None),
        "de": ("cascade:language_not_kept", "langid:language_not_kept"),
        "short": ("cascade:too_few_words", "heuristics:c4_too_few_sentences"),
        "casino-guide": ("url:banned_word", "url:banned_word"),
        "png": ("extract:not_html", "extract:not_html"),
    }
    for row in chains[True]:
        if not row["drop_reason"] or row["drop_reason"] == "extract:not_html":
            assert row == off_by_id[row["id"]]


@pytest.fixture(scope="module")
def job(spark, warc, url_lists, tmp_path_factory) -> tuple[dict, list[dict]]:
    """(summary, corpus rows) of the Spark job with the cascade on."""
    out = tmp_path_factory.mktemp("job")
    summary = build_corpus(spark, [warc], str(out), make_config(True, url_lists))
    return summary, read_corpus(out).to_pylist()


def test_job_accounting_holds_with_the_cascade(job, chains):
    summary, corpus = job
    # build_corpus raises AccountingError when records read != non-document records + kept + dropped; the
    # sum is checked here too: 1 warcinfo + 5 requests + 5 responses.
    assert summary["records_read"] == 11
    assert summary["records_by_type"] == {"request": 5, "response": 5, "warcinfo": 1}
    assert (summary["kept"], summary["dropped"]) == (1, 4)
    assert summary["dropped_by_reason"] == {"cascade:language_not_kept": 1, "cascade:too_few_words": 1,
                                            "url:banned_word": 1, "extract:not_html": 1}
    assert corpus == [row for row in chains[False] if row["drop_reason"] is None]  # the job writes the same row


# ------------------------------------------------------------------------------ pure parts


def cascade_of(config):
    return cascade_for(config, build_stages(config)[0])


def test_only_stages_before_dedup_are_asked_cheapest_first(url_lists):
    # langid and heuristics decide after dedup: a page they would drop still takes part in dedup first.
    assert [s.name for s in cascade_of(make_config(True, url_lists, ["extract", "url", "dedup", "langid",
                                                                     "heuristics"])).prechecks] == ["url"]
    # URL first, then the visible-text check, then the main-text one, whatever the stage order.
    assert [s.name for s in cascade_of(make_config(True, url_lists, ["extract", "langid", "heuristics", "url"])
                                       ).prechecks] == ["url", "heuristics", "langid"]


def test_cascade_is_off_when_asked_or_when_every_signal_is_wanted(url_lists):
    assert cascade_of(make_config(False, url_lists)) is None
    assert cascade_of(make_config(True, url_lists, STAGES, "pipeline.compute_all_signals=true")) is None
    assert cascade_of(make_config(True, url_lists, ["extract"])) is None  # no stage offers a pre-check
    assert cascade_of(make_config(True, url_lists, STAGES, "langid.languages=[]",
                                  "heuristics.gopher_quality.enabled=false")).prechecks[0].name == "url"
    assert cascade_of(make_config(True, url_lists)) is not None


def german_page(text: str) -> Page:
    return Page("https://site.example/de", lambda: ("", text))


def test_language_threshold_is_never_above_the_langid_stage(url_lists):
    config = make_config(True, url_lists, STAGES, "langid.min_score={default=0.65, de=0.05}")
    assert LangidStage(config.langid).min_kept_lang_prob(precheck_settings(config.extract)) == 0.05


def test_too_short_for_fasttext_means_no_language_decision(url_lists):
    config = make_config(True, url_lists)
    stage, settings = LangidStage(config.langid), precheck_settings(config.extract)
    # 120 non-space characters < 200
    assert stage.precheck(german_page("Bohnen und Lauch im Garten. " * 5), settings) == ({}, None)
    signals, reason = stage.precheck(german_page("Bohnen und Lauch im Garten. " * 10), settings)
    assert (signals["cascade_lang"], reason) == ("de", "cascade:language_not_kept")


def test_visible_word_count_counts_spaceless_scripts_per_character():
    assert visible_word_count("one two  three\nfour") == 4
    assert visible_word_count("我们在南边的篱笆旁种了豆子") == 1 + 13  # one chunk, thirteen Han characters


def test_kept_language_probability_sums_the_kept_labels():
    labels = ("__label__de", "__label__en", "__label__nl")
    assert kept_language_probability(labels, [0.7, 0.2, 0.1], frozenset({"en", "nl"})) == pytest.approx(0.3)
    assert kept_language_probability(labels, [0.7, 0.2, 0.1], frozenset({"fr"})) == 0.0


def test_page_nested_too_deep_goes_to_the_full_path_without_hanging(url_lists):
    # resiliparse's main-content pass runs in this process and would take hours on 100,000 nested elements;
    # the cascade must hand such a page to the sandboxed full path instead (pipeline/html_text.py)
    import signal

    def expire(signum, frame):
        raise TimeoutError("the cascade did not return within 60 s")
    deep = "<html><body>" + "<div>" * 100_000 + "<p>" + "Some words in the deep. " * 40 + "</p>" + "</div>" * 100_000
    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(60)
    try:
        assert cascade_of(make_config(True, url_lists)).check("https://site.example/deep", deep).dropped is None
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_the_cascade_hands_the_length_check_the_count_it_would_make(url_lists):
    # The extraction child's length check compares trafilatura's words with resiliparse's main-content words;
    # the cascade made that text already and sends its count along (pipeline/extract.py). The count must be
    # the one the child makes itself from a fresh parse: pages resiliparse reads, one with nothing in its
    # main content, one nested too deep for it (0 on both sides).
    from pipeline.extract_strategy import PageExtractor

    config = make_config(True, url_lists)
    reference = PageExtractor(config.extract.worker_settings())
    deep = "<html><body>" + "<div>" * 600 + "<p>" + "Words in the deep. " * 40 + "</p>" + "</div>" * 600
    items = "".join(f"<li><a href='/{i}'>Item {i}</a></li>" for i in range(40))
    listing = f"<html><body><ul>{items}</ul></body></html>"
    counts = []
    for page in (ENGLISH, article("Notes", ENGLISH_PARAGRAPHS * 3), deep, listing):
        checked = cascade_of(config).check("https://site.example/page", page)
        assert checked.dropped is None
        counts.append(checked.main_words)
        assert checked.main_words == reference.reference_words(page)
    assert counts[0] > 0 and counts[1] > counts[0] and counts[2] == 0
    # without a pre-check that reads the main content, nothing is counted and the child counts for itself
    no_langid = make_config(True, url_lists, ["extract", "url", "heuristics"])
    assert cascade_of(no_langid).check("https://site.example/page", ENGLISH) == (None, None)
