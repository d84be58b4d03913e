"""Tuning the cascade's margins (pipeline/cascade.py): what each setting would drop before trafilatura, and how
many of those pages the full path keeps.

Pages: every HTML response with status 200 of `--generated` WARC files (sample_data/generate.py), of the WARC
files under `--cc` (real Common Crawl excerpts and other archives) and the `--readability` test pages (real
sites, no URL). For each page, in one process:
- the full path with the cascade off: trafilatura in the sandbox (the project's settings), then the langid,
  url and heuristics stages with FineWeb's heuristics settings (as benchmarks/end_to_end.py): kept or its reason;
- the cascade's signals: words of all visible text (resiliparse), and lid.176's total probability of the
  kept languages on the first 500 / 1,000 / 2,000 characters of resiliparse's main-content text.
Then every combination of margins is scored: pages it drops, how many of them the full path keeps (lost),
kept-set agreement (Jaccard of the kept sets with and without the cascade) and the share of the full path's
language / too-short drops it catches.

    .venv/bin/python benchmarks/cascade_margins.py --generated /tmp/end_to_end/generated/bench-625-2026021[4-9].warc.gz \\
        --cc /work/shared/data/warc --readability /work/shared/data/extraction/readability/test/test-pages
"""
from __future__ import annotations

import argparse
import glob
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RESULTS_MD = ROOT / "benchmarks" / "RESULTS.md"
SECTION_TITLE = "## Cascade margins (issue 10)"
PREFIXES_CHARS = (500, 1000, 2000)
MIN_KEPT_LANG_PROBS = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5)
MIN_WORDS_FRACTIONS = (0.0, 0.25, 0.5, 0.75, 1.0)
SETTINGS = ["pipeline.stages=['extract','langid','url','heuristics']", "heuristics.badwords.enabled=false",
            "heuristics.c4.require_terminal_punct=false", "extract.cascade=false"]
WHY_DEFAULTS = (  # the reasoning behind pipeline.extract.ExtractConfig's cascade_* defaults, printed with the table
    'Why the defaults (prefix 1,000 characters, kept-language probability 0.1, words 0.5 x min_words, at least '
    '200 non-space characters for a language decision), when no setting in the grid lost a kept page: the grid '
    "only shows that these pages do not discriminate, so the margins are set by distance from the full path's own"
    ' thresholds. The langid stage keeps a page above 0.65; kept pages score at least ~0.7 on the fast text, and '
    "the cascade drops only below 0.1, so a page must lose 0.6 of probability between resiliparse's main content "
    "and trafilatura's text to be lost. 0.2 would catch 1.1% more of the language drops; that was not worth "
    'halving the gap on real pages that are mixed-language or have a foreign-language header. The Gopher rule '
    "needs 50 words of trafilatura's text; the cascade needs fewer than 25 words in *all* visible text (an upper "
    'bound of what trafilatura can return, up to tokenization: contractions and hyphens split into more tokens), '
    "while kept pages have 148 or more. 1,000 characters keep fastText's cost per page below the resiliparse "
    "parse's; at 300 characters one readability page (tmz-1) fell to 0.35. A page whose main content resiliparse "
    'cannot find (the readability page medicalnewstoday: empty main content, 919 words by trafilatura) gets no '
    'language decision (under 200 characters) and goes to trafilatura.'
)
AIMED = ("langid:", "heuristics:gopher_too_few_words", "extract:no_text")  # what the cascade's rules stand in for


class RecordingSandbox:
    """The real sandbox, keeping the last HTML it was given (the page the cascade would have judged)."""

    def __init__(self, sandbox: Any) -> None:
        self.sandbox, self.html = sandbox, None

    def extract(self, html: str) -> tuple[str | None, str | None]:
        self.html = html
        return self.sandbox.extract(html)


def warc_pages(paths: list[str], config: Any, source: str) -> Iterator[tuple[str, dict[str, Any], str]]:
    """(source, row, html) for every response that reached trafilatura."""
    from pipeline.extract import response_document, sandbox_for
    from pipeline.warc import WarcFileError, iter_records

    for path in paths:
        with open(path, "rb") as stream:
            try:
                for record in iter_records(stream, config.extract.max_payload_bytes):
                    if record.record_type != "response":
                        continue
                    sandbox = RecordingSandbox(sandbox_for(config.extract))
                    row = response_document(record, path, None, config.extract, sandbox)  # type: ignore[arg-type]
                    if sandbox.html is not None:
                        yield source, row, sandbox.html
            except WarcFileError:  # the clipped file: its one record never reaches extraction
                continue


def readability_pages(folder: str, config: Any) -> Iterator[tuple[str, dict[str, Any], str]]:
    from pipeline.extract import sandbox_for

    for path in sorted(glob.glob(f"{folder}/*/source.html")):
        html = Path(path).read_text(encoding="utf-8", errors="replace")
        text, rule = sandbox_for(config.extract).extract(html)
        row = {"id": path, "url": None, "drop_reason": f"extract:{rule}" if rule else None, "text": text}
        yield "readability", row, html


def full_path(rows: list[dict[str, Any]], config: Any) -> list[str | None]:
    """Drop reason (None: kept) of each extracted row through langid, url and heuristics."""
    from filters.heuristics.stage import HeuristicsStage
    from filters.langid import LangidStage
    from filters.url import UrlFilterStage
    from pipeline.extract import EXTRACT_FIELDS
    from pipeline.schema import document_schema
    from pipeline.stages import batched, chain_batches

    stages = [LangidStage(config.langid), UrlFilterStage(config.url), HeuristicsStage(config.heuristics)]
    schema = document_schema(list(EXTRACT_FIELDS) + [f for stage in stages for f in stage.fields])
    run = chain_batches(stages, schema)
    return [reason for batch in run(batched(rows, schema, 256)) for reason in batch.column("drop_reason").to_pylist()]


def cascade_signals(html: str, url: str | None, cascade: Any) -> dict[str, Any]:
    from filters.langid import normalize_for_prediction
    from pipeline.cascade import fast_texts, kept_language_probability, non_space_chars, visible_word_count

    signals: dict[str, Any] = {"url_drop": cascade.url_stage.decide(cascade.url_stage.measure({"url": url}))}
    texts = fast_texts(html, visible=True, main=True)
    if texts is None:
        return signals | {"visible_words": None}
    visible, main = texts
    signals["visible_words"] = visible_word_count(visible)
    for prefix_chars in PREFIXES_CHARS:
        prefix = normalize_for_prediction(main[:prefix_chars])
        if non_space_chars(prefix) < cascade.min_lang_chars:
            signals[f"kept_prob_{prefix_chars}"] = None
            continue
        labels, probs = cascade.langid_stage.model.predict(prefix, k=-1)
        signals[f"kept_prob_{prefix_chars}"] = kept_language_probability(labels, probs.tolist(), cascade.languages)
    return signals


def cascade_drops(page: dict[str, Any], prefix_chars: int, min_prob: float, words_fraction: float,
                  min_words: int) -> bool:
    if page["url_drop"] is not None or page["visible_words"] is None:
        return False  # URL drops are exact (the url stage's own decision) and not part of the tuning
    if page["visible_words"] < words_fraction * min_words:
        return True
    prob = page[f"kept_prob_{prefix_chars}"]
    return prob is not None and prob < min_prob


def score(pages: list[dict[str, Any]], prefix_chars: int, min_prob: float, words_fraction: float,
          min_words: int) -> dict[str, Any]:
    dropped = [p for p in pages if cascade_drops(p, prefix_chars, min_prob, words_fraction, min_words)]
    kept_off = {p["id"] for p in pages if p["reason"] is None}
    lost = [p for p in dropped if p["reason"] is None]
    kept_on = kept_off - {p["id"] for p in lost}
    aimed = [p for p in pages if (p["reason"] or "").startswith(AIMED)]
    return {
        "prefix_chars": prefix_chars, "min_kept_lang_prob": min_prob, "min_words_fraction": words_fraction,
        "dropped": len(dropped), "lost": len(lost), "lost_pages": [f"{p['source']}:{p['id']}" for p in lost][:10],
        "jaccard": len(kept_on) / len(kept_off) if kept_off else 1.0,
        "aimed_caught": sum(1 for p in dropped if (p["reason"] or "").startswith(AIMED)), "aimed": len(aimed),
    }


def near_margin(pages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The pages worth reading when the margins are revisited: neither clearly in nor clearly out."""
    return [p for p in pages if (p["kept_prob_1000"] is not None and 0.02 <= p["kept_prob_1000"] <= 0.8)
            or (p["visible_words"] is not None and p["visible_words"] < 100)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--generated", nargs="*", default=[], help="generated WARC files")
    parser.add_argument("--cc", help="folder of real WARC files")
    parser.add_argument("--readability", help="folder of readability test pages (*/source.html)")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "cascade_margins.json")
    parser.add_argument("--results-md", type=Path, default=RESULTS_MD, help="'-' to leave RESULTS.md alone")
    args = parser.parse_args()

    from pipeline.cascade import Cascade
    from pipeline.config import load_config
    from pipeline.inputs import expand_inputs

    config = load_config(None, SETTINGS)
    cascade = Cascade(load_config(None, SETTINGS[:-1]))
    sources = []
    if args.generated:
        sources.append(warc_pages(sorted(args.generated), config, "generated"))
    if args.cc:
        sources.append(warc_pages(expand_inputs([args.cc]), config, "cc"))
    if args.readability:
        sources.append(readability_pages(args.readability, config))
    collected = [page for source in sources for page in source]
    reasons = full_path([row for _, row, _ in collected], config)
    pages = [{"source": source, "id": row["id"], "reason": reason, **cascade_signals(html, row.get("url"), cascade)}
             for (source, row, html), reason in zip(collected, reasons, strict=True)]
    min_words = config.heuristics.gopher_quality.min_words
    grid = [score(pages, prefix, prob, fraction, min_words)
            for prefix in PREFIXES_CHARS for prob in MIN_KEPT_LANG_PROBS for fraction in MIN_WORDS_FRACTIONS]
    chosen = score(pages, cascade.lang_prefix_chars, cascade.min_kept_lang_prob,
                   cascade.min_visible_words / min_words, min_words)
    by_source = {source: score([p for p in pages if p["source"] == source], cascade.lang_prefix_chars,
                               cascade.min_kept_lang_prob, cascade.min_visible_words / min_words, min_words)
                 for source in sorted({p["source"] for p in pages})}
    counts = Counter(p["source"] for p in pages)
    kept_min = {prefix: min((p[f"kept_prob_{prefix}"] for p in pages
                             if p["reason"] is None and p[f"kept_prob_{prefix}"] is not None), default=None)
                for prefix in PREFIXES_CHARS}
    kept_min_words = min((p["visible_words"] for p in pages if p["reason"] is None and p["visible_words"] is not None),
                         default=None)
    lines = [SECTION_TITLE, "", "Command: `python " + " ".join([str(Path(sys.argv[0]))] + sys.argv[1:]) + "`", "",
             f"Pages that reach trafilatura (HTML, status 200): {dict(counts)}; the full path (cascade off, FineWeb's "
             f"heuristics settings) keeps {sum(p['reason'] is None for p in pages)}, and drops "
             f"{chosen['aimed']} by language, too few words or no text. URL drops are left out: that rule is the url "
             "stage's own decision. Kept pages' lowest kept-language probability on the fast text: "
             + ", ".join(f"{prefix} chars {value:.3f}" for prefix, value in kept_min.items() if value is not None)
             + f"; their fewest visible words: {kept_min_words}.", "",
             "| prefix chars | min kept-language prob | min words (x gopher min_words) | dropped | of which kept by the full "
             "path | kept-set agreement | language/too-short drops caught |", "|---:|---:|---:|---:|---:|---:|---:|"]
    for row in grid:
        if row["prefix_chars"] == cascade.lang_prefix_chars or row["min_words_fraction"] == 0.5:
            mark = " **(default)**" if row == chosen else ""
            lines.append(f"| {row['prefix_chars']} | {row['min_kept_lang_prob']} | {row['min_words_fraction']} | "
                         f"{row['dropped']} | {row['lost']} | {100 * row['jaccard']:.2f}% | {row['aimed_caught']} of "
                         f"{row['aimed']} ({100 * row['aimed_caught'] / max(row['aimed'], 1):.1f}%){mark} |")
    lines += ["", "Default setting by source: " + "; ".join(
        f"{source} ({counts[source]} pages): drops {r['dropped']}, lost {r['lost']}, catches {r['aimed_caught']} of "
        f"{r['aimed']}" for source, r in by_source.items()) + "."]
    lines += ["", WHY_DEFAULTS]
    section = "\n".join(lines) + "\n"
    print(section)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"grid": grid, "chosen": chosen, "by_source": by_source, "kept_min_prob": kept_min,
                                     "kept_min_visible_words": kept_min_words, "near_margin_pages": near_margin(pages)},
                                    indent=1) + "\n", encoding="utf-8")
    if str(args.results_md) != "-":
        from benchmarks.measure import write_section

        write_section(args.results_md, section, SECTION_TITLE)

if __name__ == "__main__":
    main()
