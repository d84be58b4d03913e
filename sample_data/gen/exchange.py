"""`Exchange`: one fetched URL with its HTTP response and its labels for expected.jsonl, and the helpers
that turn a `Text` into an article page exchange (URL, sidebar, author, publication date).
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from testkit.warc_writer import record_id_for

from .languages import AUTHORS
from .pages import ArticleView
from .texts import Text


@dataclass
class Exchange:
    name: str                                 # unique; record ids derive from it
    url: str
    kind: str
    lang: str | None
    body: bytes
    content_type: str | None                  # HTTP Content-Type header value
    status: int = 200
    extra_headers: list[tuple[str, str]] = field(default_factory=list)
    payload_type: str | None = None           # WARC-Identified-Payload-Type
    transfer_body: bytes | None = None        # body as sent when it differs (chunked)
    expected_reason: str | None = None
    labels: dict[str, object] = field(default_factory=dict)  # extra expected.jsonl keys
    revisit_of: "Exchange | None" = None      # set on revisit exchanges

    @property
    def response_id(self) -> str:
        return record_id_for(f"sample/{self.name}/response")


def text_labels(text: Text, paragraphs: tuple[str, ...] | None = None) -> dict[str, object]:
    labels: dict[str, object] = {"title": text.title, "main_text": "\n".join(paragraphs or text.paragraphs)}
    if text.pii:
        labels["pii"] = [{"type": t, "text": v} for t, v in text.pii]
    return labels


def article_url(text: Text, rng: random.Random) -> str:
    return f"https://{text.site}/{rng.choice(['2024', '2025', '2025', '2026'])}/{text.slug}/"


def sidebar_for(text: Text, texts: dict[str, Text], rng: random.Random) -> tuple[tuple[str, str], ...]:
    """Titles of up to four other texts in the same language, as the sidebar's 'popular posts'."""
    others = [t for t in texts.values()
              if t.lang == text.lang and t.key != text.key and not t.key.startswith("special/")]
    picked = rng.sample(others, min(4, len(others)))
    return tuple((t.title, f"/{t.slug}/") for t in picked)


def make_view(text: Text, url: str, texts: dict[str, Text], rng: random.Random,
              paragraphs: tuple[str, ...] | None = None) -> ArticleView:
    published = (datetime(2024, 1, 1) + timedelta(days=rng.randrange(760))).strftime("%Y-%m-%d")
    return ArticleView(text, url, rng.choice(AUTHORS[text.lang]), published, sidebar_for(text, texts, rng), paragraphs)


def html_exchange(name: str, url: str, kind: str, lang: str | None, page: str, *,
                  encoding: str = "utf-8", content_type: str = "text/html; charset=utf-8",
                  labels: dict[str, object] | None = None) -> Exchange:
    return Exchange(name, url, kind, lang, page.encode(encoding), content_type, payload_type="text/html",
                    labels=dict(labels or {}))
