"""URL filter stage: banned domains, banned words, soft-banned words; exact reasons and signals."""
from __future__ import annotations

import pickle

import pyarrow as pa
import pytest

from filters.url import UrlFilterConfig, UrlFilterStage, url_host
from pipeline.schema import document_schema
from pipeline.stages import chain_batches


@pytest.fixture
def lists(tmp_path):
    (tmp_path / "domains.txt").write_text("# test\nbad.example\nSub.Spam.Example\n", encoding="utf-8")
    (tmp_path / "words.txt").write_text("casino\n", encoding="utf-8")
    (tmp_path / "soft.txt").write_text("cheap\npills\nfree\n", encoding="utf-8")
    return UrlFilterConfig(
        banned_domains_paths=(str(tmp_path / "domains.txt"),),
        banned_words_paths=(str(tmp_path / "words.txt"),),
        soft_banned_words_paths=(str(tmp_path / "soft.txt"),),
    )


def run(stage: UrlFilterStage, urls: list[str | None]) -> list[dict]:
    schema = document_schema(stage.fields)
    rows = [{"id": f"d{i}", "url": url, "text": "t", "drop_reason": None} for i, url in enumerate(urls)]
    batch = pa.RecordBatch.from_pylist(rows, schema=schema)
    return [r for b in chain_batches([stage], schema)(iter([batch])) for r in b.to_pylist()]


def reasons(config: UrlFilterConfig, urls: list[str | None]) -> list[str | None]:
    return [row["drop_reason"] for row in run(UrlFilterStage(config), urls)]


def test_banned_domain_and_its_subdomains(lists):
    assert reasons(lists, [
        "https://bad.example/page",
        "http://www.BAD.example:8080/x",
        "https://user:pw@deep.sub.bad.example/",
        "https://notbad.example/",  # not a subdomain: label boundary
        "https://sub.spam.example/a",
        "https://spam.example/a",  # the parent of a listed subdomain is not banned
    ]) == ["url:banned_domain"] * 3 + [None, "url:banned_domain", None]


def test_banned_word(lists):
    assert reasons(lists, ["https://site.example/Online-CASINO/games", "https://site.example/casinos"]) == [
        "url:banned_word", None,  # whole URL words only
    ]


def test_soft_banned_words_need_the_threshold(lists):
    assert reasons(lists, [
        "https://site.example/cheap-flights",
        "https://site.example/cheap-pills",
        "https://site.example/cheap/cheap/cheap",  # distinct words are counted
    ]) == [None, "url:soft_banned_words", None]
    strict = UrlFilterConfig(**{**lists.__dict__, "min_soft_banned_words": 1})
    assert reasons(strict, ["https://site.example/cheap-flights"]) == ["url:soft_banned_words"]


def test_rule_order_and_signals(lists):
    row = run(UrlFilterStage(lists), ["https://bad.example/casino-cheap-pills"])[0]
    assert row["drop_reason"] == "url:banned_domain"
    assert (row["url_host"], row["url_banned_domain"], row["url_banned_word_count"],
            row["url_soft_banned_word_count"]) == ("bad.example", "bad.example", 1, 2)


def test_missing_or_odd_urls_pass(lists):
    rows = run(UrlFilterStage(lists), [None, "", "not a url", "http://[broken/"])
    assert [r["drop_reason"] for r in rows] == [None] * 4
    assert rows[0]["url_host"] is None and rows[0]["url_banned_word_count"] == 0


def test_url_host():
    assert url_host("HTTPS://WWW.Example.COM.:443/path?q=1") == "www.example.com"
    assert url_host("example.org/path") == "example.org"
    assert url_host("mailto:someone") is None


def test_default_lists_ship_with_the_project():
    stage = UrlFilterStage()
    rows = run(stage, ["https://www.pornhub.com/", "https://news.example/xxx-video", "https://a.example/sexy-nude",
                       "https://a.example/hot-weather-report"])
    assert [r["drop_reason"] for r in rows] == [
        "url:banned_domain", "url:banned_word", "url:soft_banned_words", None,
    ]


def test_missing_list_fails_at_construction(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        UrlFilterStage(UrlFilterConfig(banned_domains_paths=(str(tmp_path / "missing.txt"),)))


def test_pickle_drops_loaded_lists(lists):
    stage = UrlFilterStage(lists)
    run(stage, ["https://x.example/"])
    clone = pickle.loads(pickle.dumps(stage))
    assert "_loaded_lists" not in clone.__dict__
    assert reasons(clone.config, ["https://bad.example/"]) == ["url:banned_domain"]
