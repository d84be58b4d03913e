"""Documents per second per core of the `pii` stage, with and without its pre-check, against presidio's
defaults (issue 6).

Documents: realistic web text, mostly PII-free, some with PII. The main text (trafilatura, the pipeline's
settings) of the readability test pages and of the WARC files' HTML responses (the pipeline's reader and
extraction); into every `--pii-every`-th of them (default 10, so 10%) one text of presidio's generated
PII set is inserted at a paragraph break (seeded, so every run sees the same documents). Wikipedia
articles (WikiText-2, detokenized: long and full of numbers) and Project Gutenberg chunks are timed as
separate rows. Loaders: benchmarks/pii_eval.py.

Each row calls `PiiStage.measure` + `decide` on every document, single process, after a warm-up pass (the
engine built, phonenumbers' metadata loaded); best of `--repeat` runs in CPU seconds of this process
(docs/s per core; the machine is shared, so wall time would measure the neighbours). Rows:
- the stage as configured by default (pre-check on: presidio sees only the windows around pre-check
  matches, and nothing for a document without one);
- the stage with `precheck = false` (presidio analyzes every whole document);
- presidio's defaults: its predefined recognizers for the six entities on the no-op NLP engine (as in
  pii_eval.py), whole documents, plus the anonymizer on the hits: what a plain presidio scrub costs.
NER (a spaCy model) is not timed: no model is installed here, and none may be downloaded.

    .venv/bin/python benchmarks/pii_throughput.py --data /work/shared/data
"""
from __future__ import annotations

import argparse
import os
import random
import sys
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmarks.measure import best_cpu_seconds, machine_line  # noqa: E402

from pii_eval import parse_sets, presidio_default_finder, presidio_generated, web_documents  # noqa: E402

from filters.pii.stage import PiiConfig, PiiStage  # noqa: E402


def with_pii(texts: list[str], pii_texts: list[str], every: int, seed: int = 6) -> list[str]:
    """Every `every`-th text gets one PII text inserted at a paragraph break (or at the end)."""
    rng = random.Random(seed)
    out = []
    for i, text in enumerate(texts):
        if every and i % every == every // 2:
            breaks = [j for j in range(len(text)) if text.startswith("\n", j)] or [len(text)]
            at = rng.choice(breaks)
            text = text[:at] + "\n" + rng.choice(pii_texts) + "\n" + text[at:]
        out.append(text)
    return out


def stage_runner(stage: PiiStage, texts: list[str]) -> Callable[[], None]:
    def run() -> None:
        for text in texts:
            doc = {"text": text}
            doc.update(stage.measure(doc))
            stage.decide(doc)
    return run


def presidio_defaults_runner(texts: list[str]) -> Callable[[], None]:
    from presidio_anonymizer import AnonymizerEngine
    from presidio_anonymizer.entities import RecognizerResult

    find = presidio_default_finder()
    anonymizer = AnonymizerEngine()

    def run() -> None:
        for text in texts:
            hits = find(text)
            if hits:
                anonymizer.anonymize(text, [RecognizerResult(entity, start, end, 1.0) for start, end, entity in hits])
    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="/work/shared/data", help="the shared data folder")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pii-every", type=int, default=10, help="insert PII into every n-th web document")
    parser.add_argument("--set", action="append", default=[], help="PiiConfig field=value (TOML literal)")
    parser.add_argument("--web-cache", help="cache the extracted web documents in this JSON file")
    args = parser.parse_args(argv)

    generated = os.path.join(args.data, "pii", "presidio_generated")
    if not os.path.isdir(generated):
        sys.exit(f"{generated} not found (give --data)")
    documents = web_documents(args.data, args.web_cache)
    pii_texts = [example.text for example in presidio_generated(generated)
                 if any(span[2] in ("EMAIL_ADDRESS", "PHONE_NUMBER", "IP_ADDRESS", "CREDIT_CARD", "IBAN_CODE",
                                    "US_SSN") for span in example.spans)]
    web = with_pii([text for source in ("readability", "warc") for _, text in documents.get(source, [])],
                   pii_texts, args.pii_every)
    sets = {"web (readability + WARC, PII in every %dth)" % args.pii_every: web}
    for source in ("wikitext", "gutenberg"):
        if documents.get(source):
            sets[source] = [text for _, text in documents[source]]

    config = PiiConfig(**parse_sets(args.set))
    default = PiiStage(config)
    whole = PiiStage(PiiConfig(**{**parse_sets(args.set), "precheck": False}))
    print(f"one process on {machine_line()}")
    print(f"config: {config}\n")
    print("| documents | n | chars/doc | pre-check: skipped | docs/s per core: pii stage (pre-check) | "
          "pii stage (no pre-check) | presidio defaults | MB/s per core (pre-check) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, texts in sets.items():
        n, chars = len(texts), sum(map(len, texts))
        skipped = sum(1 for text in texts if default.precheck_regex.search(text) is None)
        t_default = best_cpu_seconds(stage_runner(default, texts), args.repeat)
        t_whole = best_cpu_seconds(stage_runner(whole, texts), args.repeat)
        t_presidio = best_cpu_seconds(presidio_defaults_runner(texts), args.repeat)
        print(f"| {name} | {n} | {chars / n:,.0f} | {skipped} ({100 * skipped / n:.1f}%) | {n / t_default:,.0f} | "
              f"{n / t_whole:,.0f} | {n / t_presidio:,.0f} | {chars / t_default / 1e6:.2f} |")
    print(f"\nload average at end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
