"""Heuristic filters vs datatrove's on real documents: decisions side by side, every disagreement shown.

Documents: main text extracted with trafilatura from the readability test pages and from the HTML
responses of WARC files, plus Project Gutenberg books cut into chunks of 50 lines. For each rule family,
our `heuristics` stage with only that family enabled (default thresholds, no language: "default"
settings) decides every document, and datatrove's filter with its defaults decides the same text:
  C4QualityFilter, GopherQualityFilter, GopherRepetitionFilter, FineWebQualityFilter.
Every disagreement is printed with both reasons and the signals involved, and classified
automatically: "tokenization" when feeding datatrove's own word list (spaCy) into our formulas gives
datatrove's decision (so the formulas agree and only the word splitter differs), otherwise "other"
(explained by hand in benchmarks/RESULTS.md).

    .venv/bin/python benchmarks/filters_agreement.py \
        --readability /work/shared/data/extraction/readability/test/test-pages \
        --warc /work/shared/data/warc --gutenberg /work/shared/data/text/gutenberg

Needs datatrove and spaCy (datatrove's English word tokenizer) besides the project's dependencies.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Iterator

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from filters.heuristics.badwords import BadWordsConfig  # noqa: E402
from filters.heuristics.c4 import C4Config  # noqa: E402
from filters.heuristics.fineweb import FineWebConfig, fineweb_signals  # noqa: E402
from filters.heuristics.gopher_quality import GopherQualityConfig, gopher_quality_signals  # noqa: E402
from filters.heuristics.gopher_repetition import GopherRepetitionConfig, gopher_repetition_signals  # noqa: E402
from filters.heuristics.stage import HeuristicsConfig, HeuristicsStage  # noqa: E402

FAMILIES = ("c4", "gopher_quality", "gopher_repetition", "fineweb")


# ------------------------------------------------------------------------------------------ documents


def _extract(html: bytes | str) -> str | None:
    import trafilatura

    return trafilatura.extract(html)


def readability_documents(folder: str) -> Iterator[tuple[str, str]]:
    for path in sorted(glob.glob(os.path.join(folder, "*", "source.html"))):
        with open(path, "rb") as handle:
            text = _extract(handle.read())
        if text:
            yield f"readability/{Path(path).parent.name}", text


def warc_documents(folder: str) -> Iterator[tuple[str, str]]:
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    paths = sorted(glob.glob(os.path.join(folder, "**", "*.warc.gz"), recursive=True))
    paths += sorted(glob.glob(os.path.join(folder, "**", "*.warc"), recursive=True))
    for path in paths:
        with open(path, "rb") as handle:
            for number, record in enumerate(ArchiveIterator(handle, record_types=WarcRecordType.response)):
                payload = record.reader.read()
                if b"<html" not in payload[:4096].lower() and b"<!doctype" not in payload[:4096].lower():
                    continue
                text = _extract(payload)
                if text:
                    yield f"warc/{Path(path).name}#{number}", text


def gutenberg_documents(folder: str, lines_per_chunk: int = 50, max_chunks_per_book: int = 60) -> Iterator[
    tuple[str, str]
]:
    for path in sorted(glob.glob(os.path.join(folder, "*.txt"))):
        if Path(path).name.startswith("SOURCE"):
            continue
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
        chunks = [lines[i : i + lines_per_chunk] for i in range(0, len(lines), lines_per_chunk)]
        step = max(1, len(chunks) // max_chunks_per_book)  # spread over the book, licence header included
        for index in range(0, len(chunks), step)[:max_chunks_per_book]:
            text = "\n".join(chunks[index])
            if text.strip():
                yield f"gutenberg/{Path(path).stem}@{index * lines_per_chunk}", text


def load_documents(readability: str | None, warc: str | None, gutenberg: str | None) -> list[tuple[str, str]]:
    """(source id, text) for every document of the folders given; exits with a message if none exist."""
    documents: list[tuple[str, str]] = []
    missing = []
    for folder, loader in ((readability, readability_documents), (warc, warc_documents),
                           (gutenberg, gutenberg_documents)):
        if folder is None:
            continue
        if not os.path.isdir(folder):
            missing.append(folder)
            continue
        documents.extend(loader(folder))
    if missing:
        print(f"data folder(s) not found, skipped: {', '.join(missing)}", file=sys.stderr)
    if not documents:
        sys.exit("no documents: give --readability, --warc and/or --gutenberg folders that exist "
                 "(the shared data set lives under /work/shared/data)")
    return documents


# ------------------------------------------------------------------------------------------ comparison


def only_family(family: str) -> HeuristicsConfig:
    """Default config with only `family` on (bad words off)."""
    off = {
        "c4": C4Config(enabled=False),
        "gopher_quality": GopherQualityConfig(enabled=False),
        "gopher_repetition": GopherRepetitionConfig(enabled=False),
        "fineweb": FineWebConfig(enabled=False),
    }
    off.pop(family)
    return HeuristicsConfig(badwords=BadWordsConfig(enabled=False), **off)


def datatrove_filters() -> dict[str, Any]:
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
    )

    return {
        "c4": C4QualityFilter(),
        "gopher_quality": GopherQualityFilter(),
        "gopher_repetition": GopherRepetitionFilter(),
        "fineweb": FineWebQualityFilter(),
    }


def datatrove_decision(filter_: Any, text: str) -> str | None:
    """datatrove's drop reason, or None when it keeps the document."""
    from datatrove.data import Document

    result = filter_.filter(Document(text=text, id="x"))
    if result is True:
        return None
    if isinstance(result, tuple):
        return result[1] if not result[0] else None
    return None if result else "dropped"


def decision_with_datatrove_words(family: str, stage: HeuristicsStage, text: str) -> str | None:
    """Our decision for `family` when our formulas get datatrove's (spaCy) word list."""
    from datatrove.utils.text import split_into_words

    words = split_into_words(text, "eng")
    doc: dict[str, Any] = {"text": text, "lang": None}
    if family == "gopher_quality":
        cfg = stage.config.gopher_quality
        doc.update(gopher_quality_signals(text, words, 0, 1.0, frozenset(cfg.stop_words["default"]),
                                          cfg.bullet_prefixes))
    elif family == "gopher_repetition":
        doc.update(gopher_repetition_signals(text, words))
    elif family == "fineweb":
        doc.update(fineweb_signals(text, len(words), stage.config.fineweb.short_line_max_chars))
    else:  # C4 splits lines on whitespace; only the sentence count uses spaCy
        from datatrove.utils.text import split_into_sentences

        import filters.heuristics.c4 as heuristics

        original = heuristics.count_sentences
        heuristics.count_sentences = lambda line: len(split_into_sentences(line, "eng")) if line else 0
        try:
            doc.update(stage.measure({"text": text}))
        finally:
            heuristics.count_sentences = original
        return stage.decide(doc)
    return stage.decide(doc)


# datatrove's drop reasons under our names (several of theirs fold into one of ours).
REASON_NAMES = {
    "gopher_short_doc": "gopher_too_few_words", "gopher_long_doc": "gopher_too_many_words",
    "gopher_below_avg_threshold": "gopher_mean_word_length_out_of_range",
    "gopher_above_avg_threshold": "gopher_mean_word_length_out_of_range",
    "gopher_too_many_hashes": "gopher_symbol_ratio_too_high",
    "gopher_too_many_ellipsis": "gopher_symbol_ratio_too_high",
    "gopher_too_many_bullets": "gopher_bullet_lines_frac_too_high",
    "gopher_too_many_end_ellipsis": "gopher_ellipsis_lines_frac_too_high",
    "gopher_below_alpha_threshold": "gopher_alpha_words_frac_too_low",
    "gopher_enough_stop_words": "gopher_too_few_stop_words",
    "dup_para_frac": "gopher_dup_para_frac_too_high", "dup_para_char_frac": "gopher_dup_para_char_frac_too_high",
    "dup_line_frac": "gopher_dup_line_frac_too_high", "dup_line_char_frac": "gopher_dup_line_char_frac_too_high",
    **{f"top_{n}_gram": f"gopher_top_{n}gram_char_frac_too_high" for n in (2, 3, 4)},
    **{f"duplicated_{n}_n_grams": f"gopher_dup_{n}gram_char_frac_too_high" for n in range(5, 11)},
    "lorem_ipsum": "c4_lorem_ipsum", "curly_bracket": "c4_curly_bracket", "too_few_sentences": "c4_too_few_sentences",
    "empty": "empty_text", "line_punct_ratio": "fineweb_line_punct_ratio_too_low",
    "short_line_ratio": "fineweb_short_line_ratio_too_high", "char_dup_ratio": "fineweb_char_dup_ratio_too_high",
    "list_ratio": "fineweb_newline_word_ratio_too_high",
}

KEY_SIGNALS = {
    "c4": ("c4_lines_removed", "c4_sentence_count", "c4_has_lorem_ipsum", "c4_has_curly_bracket"),
    "gopher_quality": ("gopher_word_count", "gopher_mean_word_length", "gopher_symbol_word_ratio",
                       "gopher_alpha_words_frac", "gopher_stop_word_count"),
    "gopher_repetition": ("gopher_dup_line_frac", "gopher_top_2gram_char_frac", "gopher_dup_5gram_char_frac"),
    "fineweb": ("fineweb_line_punct_ratio", "fineweb_short_line_ratio", "fineweb_char_dup_ratio",
                "fineweb_newline_word_ratio"),
}


def compare(documents: list[tuple[str, str]]) -> dict[str, Any]:
    from datatrove.utils.text import split_into_words

    from filters.text import split_words

    theirs = datatrove_filters()
    report: dict[str, Any] = {"documents": len(documents), "families": {}}
    same_tokens = [split_words(text) == split_into_words(text, "eng") for _, text in documents]
    report["identical_token_lists"] = sum(same_tokens)
    for family in FAMILIES:
        stage = HeuristicsStage(only_family(family))
        agree = both_drop = both_keep = same_reason = 0
        disagreements = []
        reason_mismatches = []
        for source, text in documents:
            signals = stage.measure({"text": text, "lang": None})
            ours = stage.decide({"text": text, "lang": None, **signals})
            their = datatrove_decision(theirs[family], text)
            if (ours is None) == (their is None):
                agree += 1
                both_keep += ours is None
                both_drop += ours is not None
                if ours is not None:
                    if ours == "heuristics:" + REASON_NAMES.get(their, their) or ours == REASON_NAMES.get(their, their):
                        same_reason += 1
                    else:
                        reason_mismatches.append({"source": source, "ours": ours, "datatrove": their})
                continue
            with_their_words = decision_with_datatrove_words(family, stage, text)
            cause = "tokenization" if (with_their_words is None) == (their is None) else "other"
            disagreements.append({
                "source": source, "ours": ours, "datatrove": their, "cause": cause,
                "signals": {k: signals.get(k) for k in KEY_SIGNALS[family]},
            })
        report["families"][family] = {
            "agree": agree, "both_keep": both_keep, "both_drop": both_drop, "same_reason": same_reason,
            "reason_mismatches": reason_mismatches,
            "agreement": agree / len(documents), "disagreements": disagreements,
        }
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--readability", help="folder of readability test pages (*/source.html)")
    parser.add_argument("--warc", help="folder searched recursively for *.warc(.gz)")
    parser.add_argument("--gutenberg", help="folder of plain-text books (*.txt)")
    parser.add_argument("--json", help="also write the full report as JSON here")
    args = parser.parse_args()
    try:
        import datatrove  # noqa: F401
        import spacy  # noqa: F401
    except ImportError as error:
        sys.exit(f"this benchmark needs datatrove and spacy installed: {error}")

    start = time.perf_counter()
    documents = load_documents(args.readability, args.warc, args.gutenberg)
    counts: dict[str, int] = {}
    for source, _ in documents:
        kind = source.split("/")[0]
        counts[kind] = counts.get(kind, 0) + 1
    print(f"Loaded {len(documents)} documents ({', '.join(f'{k}: {v}' for k, v in counts.items())}) "
          f"in {time.perf_counter() - start:.1f} s")
    report = compare(documents)
    print(f"Word lists identical to datatrove's (spaCy) for {report['identical_token_lists']} of "
          f"{report['documents']} documents")
    print()
    print("| family | datatrove filter | agree | both keep | both drop (same reason) | agreement "
          "| disagree (tokenization / other) |")
    print("|---|---|---|---|---|---|---|")
    names = {"c4": "C4QualityFilter", "gopher_quality": "GopherQualityFilter",
             "gopher_repetition": "GopherRepetitionFilter", "fineweb": "FineWebQualityFilter"}
    for family, result in report["families"].items():
        tok = sum(1 for d in result["disagreements"] if d["cause"] == "tokenization")
        other = len(result["disagreements"]) - tok
        print(f"| {family} | {names[family]} | {result['agree']}/{report['documents']} | {result['both_keep']} "
              f"| {result['both_drop']} ({result['same_reason']}) | {result['agreement']:.1%} "
              f"| {len(result['disagreements'])} "
              f"({tok} / {other}) |")
    print()
    for family, result in report["families"].items():
        for d in result["disagreements"]:
            signals = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                                for k, v in d["signals"].items())
            print(f"- {family} {d['source']}: ours={d['ours']} datatrove={d['datatrove']} "
                  f"[{d['cause']}] {signals}")
    for family, result in report["families"].items():
        for d in result["reason_mismatches"]:
            print(f"- {family} {d['source']}: both drop, reasons differ: ours={d['ours']} datatrove={d['datatrove']}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(report, handle, indent=1, default=str)


if __name__ == "__main__":
    main()
