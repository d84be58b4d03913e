"""URL block lists: banned domains, banned URL words and soft-banned words with a count threshold.

Follows RefinedWeb's URL filter as implemented in datatrove's `URLFilter`: a document is dropped when
its host is a banned domain or a subdomain of one, when its URL contains a banned word, or when it
contains at least `min_soft_banned_words` distinct soft-banned words. URL words are the URL split on
every character that is not an ASCII letter or digit.

Differences from datatrove, on purpose: the host's parent domains are matched label by label
(a.b.example.com matches a listed example.com or b.example.com) instead of through tldextract, which
needs the public-suffix list from the network; and the URL is lowercased before it is split, so
"/Xxx-Videos" matches the lowercase list word "xxx" (datatrove compares case-sensitively against a lowercased list).
A document without a URL passes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pyarrow as pa

from contract.bounds import bounded
from contract.stage import Document, DocumentStage, Page, PrecheckSettings, Rule, Threshold
from filters.wordlists import read_list, resolve_list_path

_URL_WORD_SPLIT_RE = re.compile(r"[^a-z0-9]+")
_SCHEME_WITHOUT_HOST_RE = re.compile(r"[a-zA-Z][a-zA-Z0-9+.\-]*:(?![0-9])")


@dataclass(frozen=True)
class UrlFilterConfig:
    """Settings of the `url` stage; list paths resolve as in filters/wordlists.py."""

    banned_domains_paths: tuple[str, ...] = ("url/banned_domains.txt",)
    banned_words_paths: tuple[str, ...] = ("url/banned_words.txt",)
    soft_banned_words_paths: tuple[str, ...] = ("url/soft_banned_words.txt",)
    min_soft_banned_words: int = bounded(2, ge=1)  # distinct soft words that drop a URL (datatrove soft_word_threshold)


def url_host(url: str) -> str | None:
    """Lowercased host name of `url` without port or credentials; None when there is none."""
    if "//" not in url:
        if _SCHEME_WITHOUT_HOST_RE.match(url):  # mailto:, tel:, javascript: ... name no host
            return None
        url = f"//{url}"  # a bare "example.org/path"
    try:
        host = urlsplit(url).hostname
    except ValueError:  # e.g. an unbalanced "[" in the netloc
        return None
    return host.rstrip(".") if host else None


class UrlFilterStage(DocumentStage):
    """Drops documents whose URL hits the domain or word block lists."""

    name = "url"
    config_class = UrlFilterConfig
    fields = (
        pa.field("url_host", pa.string()),
        pa.field("url_banned_domain", pa.string()),  # the list entry the host matched, null if none
        pa.field("url_banned_word_count", pa.int32()),  # distinct banned words among the URL's words
        pa.field("url_soft_banned_word_count", pa.int32()),  # distinct soft-banned words
    )

    def __init__(self, config: UrlFilterConfig | None = None) -> None:
        self.config = config if config is not None else UrlFilterConfig()
        for path in (*self.config.banned_domains_paths, *self.config.banned_words_paths,
                     *self.config.soft_banned_words_paths):
            resolve_list_path(path)  # a missing list fails here, before the job starts

    def _lists(self) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
        lists = self.__dict__.get("_loaded_lists")
        if lists is None:
            cfg = self.config
            domains = frozenset(d.strip(".") for p in cfg.banned_domains_paths for d in read_list(p))
            words = frozenset(w for p in cfg.banned_words_paths for w in read_list(p))
            soft = frozenset(w for p in cfg.soft_banned_words_paths for w in read_list(p))
            lists = self._loaded_lists = (domains, words, soft)
        return lists

    def measure(self, doc: Document) -> dict[str, Any]:
        url = doc.get("url") or ""
        domains, banned_words, soft_words = self._lists()
        host = url_host(url) if url else None
        matched = None
        if host:
            labels = host.split(".")
            for start in range(len(labels)):  # the host itself, then each parent domain
                candidate = ".".join(labels[start:])
                if candidate in domains:
                    matched = candidate
                    break
        words = set(_URL_WORD_SPLIT_RE.split(url.lower()))
        return {
            "url_host": host,
            "url_banned_domain": matched,
            "url_banned_word_count": len(words & banned_words),
            "url_soft_banned_word_count": len(words & soft_words),
        }

    @classmethod
    def rules(cls, config: UrlFilterConfig) -> tuple[Rule, ...]:
        return (
            Rule("banned_domain", "the host or a parent domain is on a banned-domains list", "url_banned_domain",
                 test=lambda doc: doc["url_banned_domain"] is not None),
            Rule("banned_word", "a word of the URL is on a banned-words list", "url_banned_word_count",
                 test=lambda doc: doc["url_banned_word_count"] > 0),
            Rule("soft_banned_words", "the URL has several words of the soft-banned lists",
                 "url_soft_banned_word_count",
                 (Threshold(">=", config.min_soft_banned_words, "url.min_soft_banned_words"),)),
        )

    def precheck_reads(self, settings: PrecheckSettings) -> str | None:
        return "url"

    def precheck(self, page: Page, settings: PrecheckSettings) -> tuple[dict[str, Any], str | None]:
        """The stage itself on the record's URL: its decision depends on the URL alone, so a drop before
        extraction gets exactly the stage's reason and signals."""
        signals = self.measure({"url": page.url})
        rule = self.decide(signals)
        return signals, None if rule is None else f"{self.name}:{rule}"
