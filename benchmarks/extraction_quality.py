"""Extraction quality of trafilatura settings on the Mozilla readability test set.

Measures how well `trafilatura.extract` (2.3) recovers the main content of 130 real web pages from
Mozilla's readability test set (test/test-pages/<name>/{source.html, expected.html}; the expected
output was reviewed by hand). Every setting extracts each page once to be scored; the score is token-level F1
between the extracted text and the text of expected.html, as in the SQuAD metric: bags of lowercased
`\\w+` tokens compared by multiset intersection. We report the mean over pages (macro P/R/F1), the micro
F1 (token counts summed over pages), the pages where extraction returned nothing, and single-process
throughput (docs/s of the extract() calls, from separate timing rounds).

The `project:*` settings run the project's own extraction (`pipeline.extract_strategy.PageExtractor`, what the
sandbox child runs, with the project's trafilatura settings): `project:length_check` is the default, chosen on
the development set (`--dev`, benchmarks/extraction_dev.py); these pages are its second check.

Usage:
    python benchmarks/extraction_quality.py --pages /work/shared/data/extraction/readability/test/test-pages \
        [--out benchmarks/results/extraction_quality.json] [--timing-rounds 3] [--only project:]
    python benchmarks/extraction_quality.py --dev /work/shared/data/extraction/dev   # benchmarks/extraction_dev.py
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import math
import os
import re
import sys
import time
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lxml.html
import trafilatura
from trafilatura.deduplication import LRU_TEST
from trafilatura.meta import reset_caches
from trafilatura.utils import line_processing, return_printables_and_spaces, trim

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the project root, for pipeline/
sys.path.insert(0, str(Path(__file__).resolve().parent))  # this folder, for extraction_dev (--dev)
from pipeline.extract import ExtractConfig  # noqa: E402
from pipeline.extract_strategy import PageExtractor  # noqa: E402

WORD_RE = re.compile(r"\w+")  # str pattern: \w is Unicode-aware, so accented and CJK words count

# Shared by every setting: plain text only, which is what a pretraining pipeline keeps.
BASE_KWARGS: dict[str, Any] = {
    "output_format": "txt",
    "with_metadata": False,
    "include_images": False,
    "include_links": False,
}

# FineWeb's extractor: datatrove 0.10 `Trafilatura()` defaults (pipeline/extractors/trafilatura.py) call
# extract(text, favor_precision=True, include_comments=False, deduplicate=True); its 1 s per-document
# timeout lives in a sandbox process and is not a trafilatura argument.
DATATROVE_KWARGS: dict[str, Any] = {"favor_precision": True, "include_comments": False, "deduplicate": True}

# name -> extra trafilatura.extract keyword arguments on top of BASE_KWARGS.
# In trafilatura 2.x `fast` switches off the fallback extractors (readability-lxml, jusText);
# `no_fallback` is its deprecated alias and is kept here to show that the two are the same.
SETTINGS: dict[str, dict[str, Any]] = {
    "default": {},
    "favor_precision": {"favor_precision": True},
    "favor_recall": {"favor_recall": True},
    "datatrove_fineweb": DATATROVE_KWARGS,
    "no_tables": {"include_tables": False},
    "no_comments": {"include_comments": False},
    "deduplicate": {"deduplicate": True},
    "fast": {"fast": True},
    "no_fallback": {"no_fallback": True},
    "favor_precision+fast": {"favor_precision": True, "fast": True},
    "favor_recall+fast": {"favor_recall": True, "fast": True},
    "datatrove_fineweb+fast": {**DATATROVE_KWARGS, "fast": True},
    "favor_recall+no_comments": {"favor_recall": True, "include_comments": False},
    "favor_recall+no_comments+fast": {"favor_recall": True, "include_comments": False, "fast": True},
    "no_comments+fast": {"include_comments": False, "fast": True},
    "favor_recall+no_comments+deduplicate": {"favor_recall": True, "include_comments": False, "deduplicate": True},
}

# name -> ExtractConfig fields: the project's extraction of each setting (see the module docstring).
PROJECT_SETTINGS: dict[str, dict[str, Any]] = {
    "project:length_check": {},
    "project:default": {"length_check": False},
    "project:favor_precision": {"favor_precision": True},
    "project:favor_recall": {"favor_recall": True},
}

# Block-level tags of the expected HTML: their text must not run into the neighbours' text.
BLOCK_TAGS = frozenset(
    "address article aside blockquote br caption dd details div dl dt figcaption figure footer h1 h2 h3 h4 h5 "
    "h6 header hr li main nav ol p pre section summary table tbody td tfoot th thead tr ul".split()
)


@dataclass(frozen=True)
class Page:
    name: str
    source_html: str
    expected_text: str


@dataclass(frozen=True)
class PageResult:
    name: str
    extracted_text: str  # "" when trafilatura returned None
    precision: float
    recall: float
    f1: float
    n_overlap_tokens: int
    n_predicted_tokens: int
    n_expected_tokens: int


def tokenize(text: str) -> list[str]:
    return WORD_RE.findall(text.lower())


def overlap_counts(predicted: str, expected: str) -> tuple[int, int, int]:
    """(tokens in common as multisets, predicted tokens, expected tokens)."""
    predicted_bag, expected_bag = Counter(tokenize(predicted)), Counter(tokenize(expected))
    n_overlap = sum((predicted_bag & expected_bag).values())
    return n_overlap, sum(predicted_bag.values()), sum(expected_bag.values())


def prf_from_counts(n_overlap: int, n_predicted: int, n_expected: int) -> tuple[float, float, float]:
    # SQuAD convention for empty sides: two empty texts agree perfectly, one empty side scores 0.
    if n_predicted == 0 or n_expected == 0:
        score = 1.0 if n_predicted == n_expected else 0.0
        return score, score, score
    if n_overlap == 0:
        return 0.0, 0.0, 0.0
    precision, recall = n_overlap / n_predicted, n_overlap / n_expected
    return precision, recall, 2 * precision * recall / (precision + recall)


def token_f1(predicted: str, expected: str) -> tuple[float, float, float]:
    """(precision, recall, F1) of the bag of lowercased \\w+ tokens of `predicted` against `expected`."""
    return prf_from_counts(*overlap_counts(predicted, expected))


def expected_text_of(expected_html: str) -> str:
    """Reference text of an expected.html fragment, whitespace collapsed to single spaces."""
    root = lxml.html.fromstring(expected_html)
    # text_content() glues "<p>end.</p><p>Next" into one token "endnext"; a newline around every
    # block element keeps words apart while inline tags (<a>, <b>) still join as the browser shows them.
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag in BLOCK_TAGS:  # comments have a non-str tag
            element.text = "\n" + (element.text or "")
            element.tail = "\n" + (element.tail or "")
    return " ".join(root.text_content().split())


def load_pages(pages_dir: Path) -> list[Page]:
    pages = []
    for page_dir in sorted(p for p in pages_dir.iterdir() if p.is_dir()):
        source, expected = page_dir / "source.html", page_dir / "expected.html"
        if not (source.is_file() and expected.is_file()):
            raise FileNotFoundError(f"{page_dir} lacks source.html or expected.html")
        # utf-8-sig: two sources start with a BOM; every file of the test set is valid UTF-8.
        pages.append(
            Page(
                name=page_dir.name,
                source_html=source.read_text(encoding="utf-8-sig"),
                expected_text=expected_text_of(expected.read_text(encoding="utf-8-sig")),
            )
        )
    return pages


def extract_text(source_html: str, setting_kwargs: dict[str, Any] | PageExtractor) -> str:
    """trafilatura with BASE_KWARGS and the setting's arguments, or the project's extraction."""
    if isinstance(setting_kwargs, PageExtractor):
        return setting_kwargs.extract(source_html) or ""
    return trafilatura.extract(source_html, **BASE_KWARGS, **setting_kwargs) or ""


def run_setting(pages: list[Page], setting_kwargs: dict[str, Any]) -> list[PageResult]:
    """Extract every page once, in order, and score it."""
    # deduplicate=True keeps seen paragraphs in trafilatura's process-wide LRU cache (LRU_TEST) and drops a
    # segment of > 100 chars after 3 sightings, across documents: without a reset, a setting would see the
    # paragraphs of the settings run before it.
    reset_caches()
    results = []
    for page in pages:
        text = extract_text(page.source_html, setting_kwargs)
        counts = overlap_counts(text, page.expected_text)
        results.append(PageResult(page.name, text, *prf_from_counts(*counts), *counts))
    return results


def clear_per_document_caches() -> None:
    # trafilatura memoizes trim()/line_processing() on strings and keeps deduplicate's LRU across calls: timing a
    # page again, or after another setting, would hit them. A subset of trafilatura.meta.reset_caches() that
    # keeps jusText's stoplist (built once per process in production too) and skips its gc.collect().
    trim.cache_clear()
    line_processing.cache_clear()
    return_printables_and_spaces.cache_clear()
    LRU_TEST.clear()


def time_settings(pages: list[Page], settings: dict[str, dict[str, Any]], n_rounds: int) -> dict[str, list[float]]:
    """Per setting and page, the fastest of `n_rounds` extract() calls, in seconds."""
    # The settings take turns on each page, so that load from other processes on a shared machine hits them
    # alike, and the minimum over rounds drops the calls that such load slowed down (as timeit advises).
    best_seconds = {name: [math.inf] * len(pages) for name in settings}
    gc.disable()  # as timeit: a collection would bill one call for the garbage of others
    try:
        for _ in range(n_rounds):
            for page_index, page in enumerate(pages):
                for name, setting_kwargs in settings.items():
                    clear_per_document_caches()
                    start = time.perf_counter()
                    extract_text(page.source_html, setting_kwargs)
                    seconds = time.perf_counter() - start
                    best_seconds[name][page_index] = min(best_seconds[name][page_index], seconds)
                gc.collect()
    finally:
        gc.enable()
    return best_seconds


def summarize(results: list[PageResult], page_seconds: list[float]) -> dict[str, Any]:
    n_pages = len(results)
    micro_precision, micro_recall, micro_f1 = prf_from_counts(
        sum(r.n_overlap_tokens for r in results),
        sum(r.n_predicted_tokens for r in results),
        sum(r.n_expected_tokens for r in results),
    )
    return {
        "macro_precision": sum(r.precision for r in results) / n_pages,
        "macro_recall": sum(r.recall for r in results) / n_pages,
        "macro_f1": sum(r.f1 for r in results) / n_pages,
        "micro_precision": micro_precision,
        "micro_recall": micro_recall,
        "micro_f1": micro_f1,
        "empty_pages": sum(1 for r in results if not r.extracted_text.strip()),
        "n_pages": n_pages,
        "seconds": sum(page_seconds),
        "docs_per_s": n_pages / sum(page_seconds),
    }


def format_table(summaries: dict[str, dict[str, Any]]) -> str:
    header = "| setting | macro P | macro R | macro F1 | micro F1 | empty pages | docs/s |"
    lines = [header, "|---|---:|---:|---:|---:|---:|---:|"]
    for name, s in sorted(summaries.items(), key=lambda item: -item[1]["macro_f1"]):
        lines.append(
            f"| {name} | {s['macro_precision']:.4f} | {s['macro_recall']:.4f} | {s['macro_f1']:.4f} "
            f"| {s['micro_f1']:.4f} | {s['empty_pages']} | {s['docs_per_s']:.0f} |"
        )
    return "\n".join(lines)


def is_order_dependent(setting_kwargs: dict[str, Any]) -> bool:
    # deduplicate=True drops text by what the process has extracted before (trafilatura's global LRU), so its
    # output depends on document order and partitioning; the pipeline deduplicates in its own stage.
    return bool(setting_kwargs.get("deduplicate", False))


def choose_setting(
    summaries: dict[str, dict[str, Any]],
    settings: dict[str, dict[str, Any]],
    f1_margin: float = 0.005,
    min_speedup: float = 1.10,
) -> str:
    """Best macro F1 among order-independent settings; a setting within `f1_margin` of it wins only if it
    is at least `min_speedup` times faster (smaller gaps are within the timing noise of a shared machine)."""
    eligible = {name: s for name, s in summaries.items() if not is_order_dependent(settings[name])}
    best = max(eligible, key=lambda name: eligible[name]["macro_f1"])
    close = [name for name, s in eligible.items() if s["macro_f1"] >= eligible[best]["macro_f1"] - f1_margin]
    fastest = max(close, key=lambda name: eligible[name]["docs_per_s"])
    if eligible[fastest]["docs_per_s"] >= min_speedup * eligible[best]["docs_per_s"]:
        return fastest
    return best


def write_json_atomic(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = path.with_name(path.name + ".tmp")
    tmp_path.write_text(json.dumps(payload, indent=1, ensure_ascii=False))
    os.replace(tmp_path, path)


def main(argv: list[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if "--dev" in argv:  # the development set has its own script; this flag is a shortcut to it
        import extraction_dev

        return extraction_dev.main(argv)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=Path, required=True, help="readability test/test-pages folder")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/extraction_quality.json"))
    parser.add_argument("--timing-rounds", type=int, default=3, help="timed calls per page and setting (fastest kept)")
    parser.add_argument("--only", default="", help="run only the settings whose name starts with this (e.g. project:)")
    args = parser.parse_args(argv)

    if not args.pages.is_dir():
        print(f"error: pages folder {args.pages} does not exist; expected readability's test/test-pages", file=sys.stderr)
        return 2
    # trafilatura logs "discarding data" for every empty page at WARNING, and no_fallback warns on each call.
    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message='"no_fallback" will be removed', category=DeprecationWarning)

    pages = load_pages(args.pages)
    print(f"Loaded {len(pages)} pages from {args.pages}")
    settings: dict[str, dict[str, Any] | PageExtractor] = {
        **SETTINGS,
        **{name: PageExtractor(ExtractConfig(**fields).worker_settings()) for name, fields in PROJECT_SETTINGS.items()},
    }
    settings = {name: setting for name, setting in settings.items() if name.startswith(args.only)}
    for setting_kwargs in settings.values():  # warm-up: lazy imports and fallback extractors' set-up
        extract_text(pages[0].source_html, setting_kwargs)

    results_by_setting = {}
    for name, setting_kwargs in settings.items():
        results_by_setting[name] = results = run_setting(pages, setting_kwargs)
        print(f"Scored {name}: macro F1 {sum(r.f1 for r in results) / len(results):.4f}")
    print(f"Timing {len(settings)} settings x {len(pages)} pages x {args.timing_rounds} rounds")
    seconds_by_setting = time_settings(pages, settings, args.timing_rounds)

    summaries, per_page = {}, {}
    for name, results in results_by_setting.items():
        summaries[name] = summarize(results, seconds_by_setting[name])
        per_page[name] = {
            r.name: {
                "precision": r.precision,
                "recall": r.recall,
                "f1": r.f1,
                "n_predicted_tokens": r.n_predicted_tokens,
                "n_expected_tokens": r.n_expected_tokens,
                "seconds": seconds,
            }
            for r, seconds in zip(results, seconds_by_setting[name], strict=True)
        }

    # What choose_setting() would pick on these pages alone; the project's default is chosen on the
    # development set instead (--dev), and the project settings count as order-independent (no deduplicate).
    chosen = choose_setting(summaries, {**SETTINGS, **{name: {} for name in PROJECT_SETTINGS}})
    print()
    print(format_table(summaries))
    print(f"\nBest on these pages by choose_setting(): {chosen}")
    write_json_atomic(
        args.out,
        {
            "dataset": str(args.pages),
            "n_pages": len(pages),
            "trafilatura_version": trafilatura.__version__,
            "timing_rounds": args.timing_rounds,
            "base_kwargs": BASE_KWARGS,
            "settings": {name: kwargs for name, kwargs in SETTINGS.items() if name in settings},
            "project_settings": {name: ExtractConfig(**fields).worker_settings()
                                 for name, fields in PROJECT_SETTINGS.items() if name in settings},
            "chosen": chosen,
            "summary": summaries,
            "per_page": per_page,
        },
    )
    print(f"Wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
