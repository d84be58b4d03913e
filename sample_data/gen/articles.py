"""Pages with a known main text: every text as a clean article, exact and near duplicates, PII pages,
charset cases, and the chunked and gzip-encoded articles. Their expected.jsonl rows carry `main_text`.
"""
from __future__ import annotations

import gzip
import random
from dataclasses import dataclass

from .exchange import Exchange, article_url, html_exchange, make_view, text_labels
from .pages import LAYOUTS, render_blog, render_magazine
from .texts import Text, check_pii

# Duplicates: which texts are served again, and how the near duplicate differs from its original.
EXACT_DUPLICATES = [  # (original text key, URL of the copy, layout of the copy)
    ("en/04-weeknight-lentil-soup",
     "https://www.recipe-roundup.example/syndicated/red-lentil-soup-weeknight", "magazine"),
    ("de/01-sauerteigbrot-backen",
     "https://www.backstube-am-markt.example/2025/sauerteigbrot-backen/?druck=1", "print"),
]


@dataclass(frozen=True)
class NearDuplicate:
    original: str                             # text key
    url: str
    replacements: tuple[tuple[str, str], ...]  # (old, new); each old must occur exactly once
    extra_paragraph: str


# The edits come in short runs of adjacent words: a few percent of the words change, yet most word 5-gram
# shingles survive, so the pair stays above usual MinHash thresholds (Jaccard ~0.85 on the main text).
NEAR_DUPLICATES = [
    NearDuplicate(
        original="en/13-library-centenary",
        url="https://www.millbrook-today.example/community/library-celebrates-100-years",
        replacements=(
            ("queued in the rain", "stood in heavy drizzle"),
            ("known for her strict rules", "famous for her firm rules"),
            ("two afternoons a week", "three mornings each week"),
        ),
        extra_paragraph=("The library is open from Tuesday to Saturday, and all the anniversary events are free "
                         "to attend."),
    ),
    NearDuplicate(
        original="fr/02-histoire-du-lavoir",
        url="https://www.echos-de-la-vallee.example/patrimoine/le-lavoir-de-la-rue-des-sources",
        replacements=(
            ("un petit bâtiment couvert de tuiles", "un modeste bâtiment coiffé de tuiles"),
            ("était presque en ruine", "menaçait de tomber en ruine"),
        ),
        extra_paragraph="Le lavoir se visite librement toute l'année, et l'entrée est gratuite.",
    ),
]


def build_articles(texts: dict[str, Text], rng: random.Random) -> list[Exchange]:
    """Every text in texts/<lang>/ as one clean article page, layouts rotating."""
    exchanges = []
    regular = [t for t in texts.values() if not t.key.startswith("special/")]
    for i, text in enumerate(regular):
        url = article_url(text, rng)
        layout = ("blog", "magazine")[i % 2]
        page = LAYOUTS[layout](make_view(text, url, texts, rng))
        exchanges.append(html_exchange(text.key, url, "article", text.lang, page, labels=text_labels(text)))
    return exchanges


def build_duplicates(texts: dict[str, Text], originals: dict[str, Exchange], rng: random.Random) -> list[Exchange]:
    exchanges = []
    for key, url, layout in EXACT_DUPLICATES:
        text = texts[key]
        page = LAYOUTS[layout](make_view(text, url, texts, rng))
        ex = html_exchange(f"exact-dup/{key}", url, "exact_dup", text.lang, page, labels=text_labels(text))
        ex.labels["duplicate_of"] = originals[key].response_id
        exchanges.append(ex)
    for near in NEAR_DUPLICATES:
        text = texts[near.original]
        body = "\n\n".join(text.paragraphs)
        for old, new in near.replacements:
            if body.count(old) != 1:
                raise ValueError(f"near duplicate of {near.original}: {old!r} occurs {body.count(old)} times")
            body = body.replace(old, new)
        paragraphs = tuple(body.split("\n\n")) + (near.extra_paragraph,)
        page = render_magazine(make_view(text, near.url, texts, rng, paragraphs))
        ex = html_exchange(f"near-dup/{near.original}", near.url, "near_dup", text.lang, page,
                           labels=text_labels(text, paragraphs))
        ex.labels["duplicate_of"] = originals[near.original].response_id
        exchanges.append(ex)
    return exchanges


def build_pii_pages(texts: dict[str, Text], rng: random.Random) -> list[Exchange]:
    exchanges = []
    for text in texts.values():
        if text.key.startswith("special/pii-"):
            check_pii(text)
            url = article_url(text, rng)
            page = render_blog(make_view(text, url, texts, rng))
            exchanges.append(html_exchange(text.key, url, "pii", text.lang, page, labels=text_labels(text)))
    return exchanges


def build_charset_pages(texts: dict[str, Text], rng: random.Random) -> list[Exchange]:
    """Five pages whose bytes are not plain UTF-8-with-a-header; `charset` is the true encoding."""
    def page(key: str, layout: str, meta: str | None) -> tuple[Text, str, str]:
        text = texts[key]
        url = article_url(text, rng)
        return text, url, LAYOUTS[layout](make_view(text, url, texts, rng), charset_meta=meta)

    cases = [
        # (text, kind, true encoding, HTTP Content-Type, meta charset, layout)
        ("special/charset-header-fr", "charset_header", "windows-1252", "text/html; charset=windows-1252", None,
         "blog"),
        ("special/charset-meta-de", "charset_meta", "iso-8859-1", "text/html", "iso-8859-1", "blog"),
        ("special/charset-sjis-ja", "charset_meta", "shift_jis", "text/html", None, "blog"),
        ("special/charset-detect-ru", "charset_detect", "windows-1251", "text/html", None, "blog"),
        ("special/charset-conflict-es", "charset_conflict", "utf-8", "text/html; charset=utf-8", "windows-1252",
         "magazine"),
    ]
    exchanges = []
    for key, kind, encoding, content_type, meta, layout in cases:
        text, url, html_text = page(key, layout, meta)
        if encoding == "shift_jis":  # charset only in the old http-equiv form
            html_text = html_text.replace(
                "<head>\n", '<head>\n<meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS">\n', 1)
        ex = html_exchange(key, url, kind, text.lang, html_text, encoding=encoding, content_type=content_type,
                           labels=text_labels(text))
        ex.labels["charset"] = encoding
        exchanges.append(ex)
    return exchanges


def chunk_encode(body: bytes, rng: random.Random) -> bytes:
    """HTTP/1.1 chunked transfer coding with chunk sizes of 700-2,500 bytes."""
    out, pos = [], 0
    while pos < len(body):
        size = rng.randint(700, 2500)
        chunk = body[pos:pos + size]
        out.append(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
        pos += size
    return b"".join(out) + b"0\r\n\r\n"


def build_encoded_pages(texts: dict[str, Text], rng: random.Random) -> list[Exchange]:
    chunked_text, gzip_text = texts["special/chunked-en"], texts["special/gzip-en"]
    url = article_url(chunked_text, rng)
    page = render_blog(make_view(chunked_text, url, texts, rng))
    chunked = html_exchange(chunked_text.key, url, "chunked", "en", page, labels=text_labels(chunked_text))
    chunked.transfer_body = chunk_encode(chunked.body, rng)
    chunked.extra_headers = [("Transfer-Encoding", "chunked")]

    url = article_url(gzip_text, rng)
    page = render_magazine(make_view(gzip_text, url, texts, rng)).encode("utf-8")
    gzipped = Exchange(gzip_text.key, url, "gzip_encoded", "en", gzip.compress(page, compresslevel=6, mtime=0),
                       "text/html; charset=utf-8",
                       extra_headers=[("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")],
                       payload_type="text/html", labels=text_labels(gzip_text))
    return [chunked, gzipped]
