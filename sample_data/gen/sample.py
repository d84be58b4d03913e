"""The committed sample set: which exchanges go into which of the six WARC files (the numbered ones of two
crawls and the truncated one), then `warc/*.warc.gz` and `expected.jsonl` written from them.
"""
from __future__ import annotations

import json
import random
from datetime import datetime
from pathlib import Path

from .articles import build_articles, build_charset_pages, build_duplicates, build_encoded_pages, build_pii_pages
from .exchange import Exchange, article_url, html_exchange, make_view
from .optout import build_optout_pages
from .junk import build_boilerplate_pages, build_lorem_pages, build_other_responses, build_oversized_page, \
    build_spam_pages
from .pages import render_blog
from .records import write_sample_file
from .texts import Text, load_texts

SAMPLE_DIR = Path(__file__).resolve().parents[1]
WARC_DIR = SAMPLE_DIR / "warc"
EXPECTED_PATH = SAMPLE_DIR / "expected.jsonl"

CRAWL = "CC-MAIN-2026-08"
SECOND_CRAWL = "CC-MAIN-2026-13"
# (file name, crawl, first fetch time) of the numbered sample files; the truncated file comes last.
SAMPLE_FILES = [
    ("CC-MAIN-2026-08-sample-00001.warc.gz", CRAWL, datetime(2026, 2, 14, 3, 12, 5)),
    ("CC-MAIN-2026-08-sample-00002.warc.gz", CRAWL, datetime(2026, 2, 15, 11, 40, 31)),
    ("CC-MAIN-2026-08-sample-00003.warc.gz", CRAWL, datetime(2026, 2, 16, 22, 5, 17)),
    ("CC-MAIN-2026-08-sample-00004.warc.gz", CRAWL, datetime(2026, 2, 18, 7, 58, 44)),
    ("CC-MAIN-2026-13-sample-00005.warc.gz", SECOND_CRAWL, datetime(2026, 3, 21, 16, 20, 9)),
]
TRUNCATED_FILE = ("CC-MAIN-2026-08-sample-truncated.warc.gz", CRAWL, datetime(2026, 2, 19, 9, 30, 0))

# The opted-out pages (gen/optout.py) go at the end of these files, one each, from a random stream of their own
# (seeded SEED + OPTOUT_SEED_OFFSET), so that every record written before them stays byte-identical.
OPTOUT_FILES = ("CC-MAIN-2026-08-sample-00002.warc.gz", "CC-MAIN-2026-08-sample-00003.warc.gz",
                "CC-MAIN-2026-13-sample-00005.warc.gz")
OPTOUT_SEED_OFFSET = 21
REVISITED_TEXT = "en/01-pruning-apple-trees"  # fetched again in the second crawl, unchanged (a revisit)
TRUNCATED_FILE_INTACT_TEXT = "en/16-choosing-binoculars"  # the good response in the truncated file


def place_after(files: list[list[Exchange]], ex: Exchange, original: Exchange, same_file: bool,
                rng: random.Random) -> None:
    """Insert a duplicate after its original: later in the same file, or anywhere in the next file."""
    index = next(i for i, f in enumerate(files) if original in f)
    if same_file or index == len(files) - 1:
        position = rng.randint(files[index].index(original) + 1, len(files[index]))
    else:
        index += 1
        position = rng.randint(0, len(files[index]))
    files[index].insert(position, ex)


def plan_sample(texts: dict[str, Text], rng: random.Random) -> tuple[list[list[Exchange]], list[Exchange]]:
    """Exchanges for each numbered file, and for the truncated file."""
    articles = {ex.name: ex for ex in build_articles(texts, rng)}
    intact = articles.pop(TRUNCATED_FILE_INTACT_TEXT)
    revisited = articles.pop(REVISITED_TEXT)
    good = (list(articles.values()) + build_pii_pages(texts, rng) + build_charset_pages(texts, rng)
            + build_encoded_pages(texts, rng))
    bad = (build_boilerplate_pages(rng) + build_spam_pages(rng) + build_lorem_pages(rng)
           + build_other_responses(rng) + [build_oversized_page(texts, rng)])
    rng.shuffle(good)
    rng.shuffle(bad)
    files: list[list[Exchange]] = [[] for _ in SAMPLE_FILES]
    for i, ex in enumerate(good):
        files[i % len(files)].append(ex)
    for i, ex in enumerate(bad):  # offset, so that files with fewer good pages get more bad ones
        files[(i + len(good)) % len(files)].append(ex)
    for f in files:
        rng.shuffle(f)
    files[0].insert(rng.randint(0, len(files[0])), revisited)

    originals = {**articles, REVISITED_TEXT: revisited}
    for i, dup in enumerate(build_duplicates(texts, originals, rng)):
        original = next(ex for ex in originals.values() if ex.response_id == dup.labels["duplicate_of"])
        place_after(files, dup, original, same_file=(i == 1), rng=rng)

    revisit = Exchange(f"revisit/{REVISITED_TEXT}", revisited.url, "revisit", None, b"", None, revisit_of=revisited)
    files[-1].insert(rng.randint(0, len(files[-1])), revisit)

    truncated_text = texts["special/truncated-en"]
    url = article_url(truncated_text, rng)
    cut = html_exchange(truncated_text.key, url, "truncated", "en",
                        render_blog(make_view(truncated_text, url, texts, rng)), labels={"title": truncated_text.title})
    cut.expected_reason = "warc:truncated_record"
    return files, [intact, cut]


def generate_sample(seed: int) -> list[dict]:
    """Rewrite sample_data/warc/*.warc.gz and sample_data/expected.jsonl; returns the expected rows."""
    rng = random.Random(seed)
    texts = load_texts()
    files, truncated = plan_sample(texts, rng)
    WARC_DIR.mkdir(parents=True, exist_ok=True)
    for stale in WARC_DIR.glob("CC-MAIN-*-sample-*.warc.gz"):
        stale.unlink()
    optout_rng = random.Random(seed + OPTOUT_SEED_OFFSET)
    tails = dict(zip(OPTOUT_FILES, ([page] for page in build_optout_pages(texts, optout_rng))))
    rows: list[dict] = []
    fetched: dict[str, datetime] = {}
    for (name, crawl, start), exchanges in zip(SAMPLE_FILES, files):
        rows += write_sample_file(WARC_DIR / name, crawl, start, exchanges, fetched, rng,
                                  tail=tails.get(name), tail_rng=optout_rng)
    name, crawl, start = TRUNCATED_FILE
    rows += write_sample_file(WARC_DIR / name, crawl, start, truncated, fetched, rng, truncate_last=True)
    ids = [row["record_id"] for row in rows]
    if len(set(ids)) != len(ids):
        raise ValueError(f"record ids are not unique: {len(ids)=} {len(set(ids))=}")
    tmp = EXPECTED_PATH.with_name(EXPECTED_PATH.name + ".tmp")
    tmp.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    tmp.replace(EXPECTED_PATH)
    return rows
