"""One large WARC for the benchmarks: distinct article pages recombined from the sample paragraphs (other
subsets, orders and layouts, same language mix) plus ~10% junk and failing responses. Not committed.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Iterator

from testkit.warc_writer import record_id_for, warcinfo_record, write_warc

from .exchange import Exchange, html_exchange, make_view
from .junk import build_boilerplate_pages, build_lorem_pages, build_other_responses, build_spam_pages
from .pages import LAYOUTS
from .records import FileContext, exchange_records, warc_date
from .sample import CRAWL
from .texts import Text, load_texts

BENCHMARK_JUNK_FRACTION = 0.10


def benchmark_pages(num_pages: int, rng: random.Random, texts: dict[str, Text]) -> Iterator[Exchange]:
    """Distinct article pages recombined from the sample paragraphs, plus ~10% junk and failing responses."""
    usable = [t for t in texts.values() if t.key != "special/oversized-en"]
    pools: dict[str, list[tuple[Text, str]]] = {}
    for text in usable:
        pools.setdefault(text.lang, []).extend((text, p) for p in text.paragraphs)
    langs = sorted(pools)
    weights = [sum(1 for t in usable if t.lang == lang) for lang in langs]  # the sample's language mix
    junk = (build_boilerplate_pages(rng) + build_spam_pages(rng) + build_lorem_pages(rng)
            + build_other_responses(rng))
    seen: set[tuple[str, tuple[int, ...]]] = set()
    for i in range(num_pages):
        if rng.random() < BENCHMARK_JUNK_FRACTION:
            template = rng.choice(junk)
            yield Exchange(f"bench/{i}", f"{template.url}?p={i}", template.kind, template.lang, template.body,
                           template.content_type, template.status, template.extra_headers, template.payload_type,
                           expected_reason=template.expected_reason)
            continue
        lang = rng.choices(langs, weights)[0]
        pool = pools[lang]
        while True:  # a new paragraph subset and order for every page
            picked = tuple(rng.sample(range(len(pool)), rng.randint(3, min(8, len(pool)))))
            if (lang, picked) not in seen:
                seen.add((lang, picked))
                break
        first = pool[picked[0]][0]
        text = Text(f"bench/{i:06d}-{first.slug}", lang, first.site, first.title, tuple(pool[j][1] for j in picked),
                    slug=first.slug)
        url = f"https://{first.site}/p/{i:06d}/{first.slug}/"
        page = LAYOUTS[rng.choice(sorted(LAYOUTS))](make_view(text, url, texts, rng))
        yield html_exchange(text.key, url, "article", lang, page)


def generate_benchmark_warc(path: str | Path, num_pages: int, seed: int) -> Path:
    """Write `num_pages` request+response pairs (after one warcinfo) to `path`; same seed, same bytes."""
    path = Path(path)
    rng = random.Random(seed)
    texts = load_texts()
    warcinfo_id = record_id_for(f"benchmark/{seed}/{num_pages}/warcinfo")
    ctx = FileContext(path.name, CRAWL, warcinfo_id, {})
    start = datetime(2026, 2, 10, 0, 0, 0)

    def records() -> Iterator[bytes]:
        # a fixed WARC-Filename, so that the bytes depend on the seed and page count alone, not on `path`
        filename = f"{CRAWL}-benchmark-{seed}-{num_pages}.warc.gz"
        yield warcinfo_record(CRAWL, record_id=warcinfo_id, date=warc_date(start), filename=filename)
        t = start
        for ex in benchmark_pages(num_pages, rng, texts):
            ex.name = f"benchmark/{seed}/{ex.name}"  # record ids unique per seed
            t += timedelta(seconds=rng.randint(1, 9))
            for record, _ in exchange_records(ex, t, ctx, rng, with_metadata=False):
                yield record

    tmp = path.with_name(path.name + ".tmp")
    write_warc(tmp, records())
    return tmp.replace(path)
