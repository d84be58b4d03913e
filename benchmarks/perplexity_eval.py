"""Does the perplexity stage separate Wikipedia from web spam and from word salad, and how fast is it?

1. Wikipedia paragraphs from wikitext-2 (valid + test splits, ../shared/data/quality/wikitext2): headings
   (" = Title = ") dropped; wikitext's tokenization marks undone (" @-@ " -> "-", " @,@ " -> ",",
   " @.@ " -> "."; the "<unk>" placeholder removed), since web text has neither. Written as one .txt
   (blank-line-separated paragraphs) and given to `jobs/train_perplexity_model.py --lang en --order 5`,
   which holds out 10% by a hash of the text: those held-out paragraphs are the positives.
2. Negatives, each scored against the same held-out paragraphs (ROC AUC, lower perplexity = Wikipedia-like):
   (a) real web spam: the Common Crawl CC-MAIN-2020-34 excerpt in ../shared/data/warc (16 responses, mostly
       SEO/spam pages), extracted by the project (run_stages, stages extract + langid): the English ones (only
       2), and all 15 kept pages scored as if English (most are Chinese gambling/adult/SEO pages; the stage
       itself would give them null signals, having no model for their language);
   (a'') for contrast, not spam: the English pages of the two Dolma sample WARCs (ordinary web pages);
   (a') the 747 spam SMS of the UCI SMS Spam Collection (../shared/data/quality/sms_spam), short text spam;
   (b) the held-out paragraphs themselves with their words shuffled (a seeded shuffle per paragraph).
3. Speed, one process (docs/s per core, CPU seconds, best of --repeat after a warm-up): the stage's
   `measure` (normalize, tokenize, KenLM) on the held-out paragraphs, vs raw KenLM `Model.score` on the same
   paragraphs already normalized and tokenized.

    .venv/bin/python benchmarks/perplexity_eval.py --data /work/shared/data --workdir /tmp/ppl_eval
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.measure import best_cpu_seconds, machine_line  # noqa: E402

import pyarrow.parquet as pq  # noqa: E402

from filters.perplexity import PerplexityConfig, PerplexityStage, model_lines  # noqa: E402
from jobs import run_stages, train_perplexity_model  # noqa: E402
from pipeline.quality_training import is_holdout, roc_auc  # noqa: E402

HOLDOUT_FRACTION = 0.1
_MARKS = ((" @-@ ", "-"), (" @,@ ", ","), (" @.@ ", "."))


def wikipedia_paragraphs(folder: Path) -> list[str]:
    """Body paragraphs of wikitext-2's valid and test splits, wikitext's marks undone."""
    paragraphs = []
    for split in ("valid.txt", "test.txt"):
        for line in (folder / split).read_text(encoding="utf-8").split("\n"):
            line = line.strip()
            if not line or line.startswith("="):
                continue
            for mark, plain in _MARKS:
                line = line.replace(mark, plain)
            paragraphs.append(re.sub(r"\s+", " ", line.replace("<unk>", " ")).strip())
    return paragraphs


def extracted_pages(warcs: list[Path], out: Path) -> list[tuple[str, str]]:
    """(language, main text) of every page of the WARCs that extraction and langid keep (any language)."""
    assert run_stages.main(["--stages", "extract,langid", "--input", *map(str, warcs), "--output", str(out),
                            "--set", "langid.languages=[]"]) == 0
    rows = pq.read_table(out / "documents.parquet", columns=["text", "lang", "drop_reason"]).to_pylist()
    return [(row["lang"], row["text"]) for row in rows if row["drop_reason"] is None]


def sms_spam(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()[1:]
    return [text.strip() for text, label in (line.rsplit("\t", 1) for line in lines) if label.strip() == "0"]


def shuffled(texts: list[str], seed: int = 0) -> list[str]:
    out = []
    for i, text in enumerate(texts):
        words = text.split()
        random.Random(f"{seed}:{i}").shuffle(words)
        out.append(" ".join(words))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="/work/shared/data")
    parser.add_argument("--workdir", default="/tmp/perplexity_eval")
    parser.add_argument("--order", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    data, workdir = Path(args.data), Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    paragraphs = wikipedia_paragraphs(data / "quality" / "wikitext2")
    reference = workdir / "wikitext2_paragraphs.txt"
    reference.write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
    models = workdir / "models"
    command = ["--input", str(reference), "--output", str(models), "--lang", "en", "--order", str(args.order)]
    print("python jobs/train_perplexity_model.py " + " ".join(command))
    assert train_perplexity_model.main(command) == 0
    held_out = [text for text in paragraphs if is_holdout(text, HOLDOUT_FRACTION)]
    stage = PerplexityStage(PerplexityConfig(model_dir=str(models)))

    def perplexities(texts: list[str]) -> list[float]:
        values = [stage.measure({"text": text, "lang": "en"})["perplexity"] for text in texts]
        return [value for value in values if value is not None]

    wiki = perplexities(held_out)
    spam = extracted_pages([data / "warc" / "resiliparse_CC-MAIN-2020-34_excerpt.warc.gz"], workdir / "spam")
    web = extracted_pages(sorted((data / "warc" / "misc").glob("dolma_sample-*.warc.gz")), workdir / "web")
    negatives = {"web spam pages (CC-MAIN-2020-34), English": [text for lang, text in spam if lang == "en"],
                 "web spam pages (CC-MAIN-2020-34), every language, English model": [text for _, text in spam],
                 "ordinary web pages (Dolma sample WARCs), English (not spam)": [
                     text for lang, text in web if lang == "en"],
                 "SMS spam (UCI)": sms_spam(data / "quality" / "sms_spam" / "sms.tsv"),
                 "held-out paragraphs, words shuffled": shuffled(held_out)}
    result = {"order": args.order, "paragraphs": len(paragraphs), "held_out": len(held_out),
              "cutoffs": json.loads((models / "cutoffs.json").read_text())["en"],
              "wikipedia_median_perplexity": sorted(wiki)[len(wiki) // 2], "pairs": {}}
    for name, texts in negatives.items():
        scores = perplexities(texts)
        result["pairs"][name] = {"documents": len(scores), "median_perplexity": sorted(scores)[len(scores) // 2],
                                 "roc_auc": roc_auc([-p for p in wiki], [-p for p in scores])}
    model = stage.model("en")
    prepared = [model_lines(text) for text in held_out]
    tokens = sum(line.count(" ") + 2 for lines in prepared for line in lines)
    stage_s = best_cpu_seconds(lambda: [stage.measure({"text": text, "lang": "en"}) for text in held_out], args.repeat)
    raw_s = best_cpu_seconds(lambda: [model.score(line) for lines in prepared for line in lines], args.repeat)
    result["speed"] = {"documents": len(held_out), "tokens": tokens,
                       "stage_docs_per_s": len(held_out) / stage_s, "raw_kenlm_docs_per_s": len(held_out) / raw_s,
                       "stage_tokens_per_s": tokens / stage_s, "raw_kenlm_tokens_per_s": tokens / raw_s}
    result["machine"] = machine_line()
    print(json.dumps(result, indent=2))
    (Path(__file__).resolve().parent / "results" / "perplexity_eval.json").write_text(
        json.dumps(result, indent=2, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
