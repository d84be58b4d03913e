"""Build a perplexity model for the `perplexity` stage: an n-gram model of reference text and its bucket cutoffs.

    python jobs/train_perplexity_model.py --input reference/ --output models/ --lang en [--order 5]
        [--holdout-fraction 0.1] [--txt-unit paragraph]

TEXTS (`--input`, repeatable) are .txt (blank-line-separated paragraphs per document, or `--txt-unit line` /
`file`), .jsonl(.gz) or .parquet with a `text` field (kept rows only), or folders of them (a build_corpus
output: its `corpus/` parts), read as the quality-classifier job reads them.

Each document goes to the held-out part when a hash of its text says so (`--holdout-fraction`, 10% by
default: the same input always splits the same way). The rest is normalized and tokenized exactly as the
stage does (`filters.perplexity.model_lines`) and estimated with interpolated modified Kneser-Ney
(`filters.perplexity_model`, the method of KenLM's lmplz), written as OUTPUT/<lang>.arpa. lmplz itself is not
used: it is not on a package registry, and building it needs KenLM's C++ source and Boost, which cannot be
fetched here (no internet beyond the package registries). KenLM (the `ufal-kenlm` wheel) then loads that
file and scores the held-out documents as the stage does; their 30th and 60th percentiles (numpy's linear
interpolation) become the language's entry of OUTPUT/cutoffs.json (cc_net's head/middle/tail edges; other
languages' entries are kept). Prints one JSON summary line.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

from filters.perplexity import (CUTOFFS_FILE, HEAD_PERCENTILE, TAIL_PERCENTILE, load_kenlm, log10_prob_and_tokens,
                                model_lines, perplexity_of, read_cutoffs)
from filters.perplexity_model import estimate, write_arpa
from pipeline.quality_training import TXT_UNITS, is_holdout, read_texts

LANG_CODE_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_-")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--input", nargs="+", action="extend", required=True, help="reference texts: files or folders")
    parser.add_argument("--output", required=True, help="model folder: <lang>.arpa and cutoffs.json are written")
    parser.add_argument("--lang", required=True, help="language code of the model (the `lang` langid writes)")
    parser.add_argument("--order", type=int, default=5, help="n-gram order (cc_net: 5)")
    parser.add_argument("--holdout-fraction", type=float, default=0.1, help="share of documents scored for cutoffs")
    parser.add_argument("--txt-unit", choices=TXT_UNITS, default="paragraph", help="what one document of a .txt is")
    return parser.parse_args(argv)


def split_documents(texts: list[str], fraction: float) -> tuple[list[str], list[str]]:
    """(training, held-out) documents: a hash of each text decides, so the split never depends on order."""
    held = [is_holdout(text, fraction) for text in texts]
    return [t for t, h in zip(texts, held) if not h], [t for t, h in zip(texts, held) if h]


def document_perplexities(model, texts: list[str]) -> list[float]:
    """The stage's perplexity of each text with at least one token."""
    found = []
    for text in texts:
        log10_prob, tokens = log10_prob_and_tokens(model_lines(text), model.score)
        if tokens:
            found.append(perplexity_of(log10_prob, tokens))
    return found


def write_json_atomically(data: dict, path: str) -> None:
    temporary = f"{path}.tmp-{os.getpid()}"
    with open(temporary, "w", encoding="utf-8") as stream:
        json.dump(data, stream, indent=2, sort_keys=True)
        stream.write("\n")
    os.replace(temporary, path)


def train(inputs: list[str], output: str, lang: str, order: int, holdout_fraction: float,
          txt_unit: str = "paragraph") -> dict:
    """Write OUTPUT/<lang>.arpa and the language's cutoffs; return the summary."""
    texts = [text for source in inputs for text in read_texts(source, txt_unit)]
    training, held_out = split_documents(texts, holdout_fraction)
    sentences = [line.split() for text in training for line in model_lines(text)]
    if not sentences:
        raise ValueError("no training text: every document is empty or held out")
    model = estimate(sentences, order)
    os.makedirs(output, exist_ok=True)
    arpa_path = os.path.join(output, f"{lang}.arpa")
    temporary = f"{arpa_path}.tmp-{os.getpid()}"
    write_arpa(model, temporary)
    os.replace(temporary, arpa_path)
    perplexities = document_perplexities(load_kenlm(arpa_path), held_out)
    if not perplexities:
        raise ValueError(f"no held-out document with text to set cutoffs from ({len(texts)} documents, "
                         f"--holdout-fraction {holdout_fraction}): give more documents or a larger fraction")
    p30, p60 = (float(v) for v in np.percentile(np.array(perplexities, dtype=np.float64), [30, 60]))
    cutoffs = read_cutoffs(output)
    cutoffs[lang] = {HEAD_PERCENTILE: p30, TAIL_PERCENTILE: p60}
    write_json_atomically(cutoffs, os.path.join(output, CUTOFFS_FILE))
    return {"lang": lang, "order": order, "documents": len(texts), "training_documents": len(training),
            "held_out_documents": len(held_out), "training_sentences": len(sentences),
            "training_tokens": sum(map(len, sentences)),
            "ngrams": [len(level) for level in model.log10_probs], "discounts": [list(d) for d in model.discounts],
            "cutoffs": cutoffs[lang], "model": arpa_path}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if not args.lang or set(args.lang) - LANG_CODE_CHARS:
        print(f"--lang {args.lang!r}: expected a language code such as en or zh-hans", file=sys.stderr)
        return 2
    if not 1 <= args.order <= 10 or not 0 < args.holdout_fraction < 1:
        print("--order must be 1..10 and --holdout-fraction between 0 and 1 (exclusive)", file=sys.stderr)
        return 2
    start = time.perf_counter()
    try:
        summary = train(args.input, args.output, args.lang, args.order, args.holdout_fraction, args.txt_unit)
    except (OSError, ValueError) as error:  # a missing source, an unreadable file, too little text
        print(f"train_perplexity_model failed: {' '.join(str(error).split())}", file=sys.stderr)
        return 1
    summary["seconds"] = round(time.perf_counter() - start, 1)
    print(json.dumps(summary, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
