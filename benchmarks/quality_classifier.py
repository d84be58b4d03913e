"""Quality classifier (issue 4): held-out AUC / precision / recall of a fastText classifier trained on WikiText-2
paragraphs (positives) against extracted web pages + SMS (negatives), and scoring throughput per core.

    .venv/bin/python benchmarks/quality_classifier.py --wikitext /work/shared/data/quality/wikitext2 \
        --sms /work/shared/data/quality/sms_spam/sms.tsv --warc /work/shared/data/warc --work /tmp/quality-bench

Data preparation (under --work):
- positives: every non-heading, non-empty line of WikiText-2 valid.txt + test.txt (one paragraph per line;
  train.txt is not in the shared data), detokenized (" @-@ " -> "-", " , " -> ", ", "<unk>" removed) so
  that the text reads like normal prose;
- negatives: the kept rows of `python jobs/run_stages.py --stages extract --input WARC --output
  WORK/cc_extract` (run by this script unless WORK/cc_extract/documents.parquet exists), and every SMS of
  the UCI SMS Spam Collection (ham and spam: neither is reference-quality prose).
Experiments, each one `train_quality_classifier` call (the job's code) with the printed settings:
- A "wiki vs web+SMS": the task of the issue; metrics on the held-out split, per source too;
- B "wiki vs SMS, web unseen": trained without any web page, then every extracted page is scored against
  the held-out WikiText paragraphs (how the classifier transfers to web text it never saw);
- C "wiki vs web only": only the extracted pages as negatives (few documents: 30% held out).
Throughput: `QualityStage.measure_many` + `decide` in batches of 256 over the extracted pages (repeated
to at least 2,000 documents) and over the WikiText paragraphs; per core = documents per CPU second of this
single process (fastText predicts on one thread). Also through the Arrow adapter, with the quantized
.ftz model, and datatrove's FastTextClassifierFilter (one predict call per document) with the same model.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks.measure import best_times, machine_line  # noqa: E402

import numpy as np  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from filters.quality import QualityConfig, QualityStage  # noqa: E402
from filters.quality_model import label_probabilities, normalize_text  # noqa: E402
from pipeline.quality_training import (  # noqa: E402
    TrainQualityConfig,
    is_holdout,
    roc_auc,
    train_quality_classifier,
)
from pipeline.schema import document_schema  # noqa: E402
from pipeline.stages import batched, chain_batches  # noqa: E402


def detokenize_wikitext(line: str) -> str:
    """WikiText's tokenized form back to ordinary prose (its own tokens would be a shortcut for the classifier)."""
    text = line.replace(" @-@ ", "-").replace(" @,@ ", ",").replace(" @.@ ", ".").replace("<unk>", "")
    text = re.sub(r" ([,.;:!?)\]}%])", r"\1", text)
    text = re.sub(r"([(\[{$]) ", r"\1", text)
    text = re.sub(r" (n't|'s|'re|'ve|'ll|'d|'m)\b", r"\1", text)
    text = re.sub(r'" ([^"]*?) "', r'"\1"', text)
    return re.sub(r" {2,}", " ", text).strip()


def prepare(args: argparse.Namespace, work: Path) -> dict[str, str]:
    work.mkdir(parents=True, exist_ok=True)
    wiki, sms, cc = work / "wikitext2_paragraphs.jsonl", work / "sms.jsonl", work / "cc_extract"
    with open(wiki, "w", encoding="utf-8") as out:
        for split in ("valid", "test"):
            for line in (Path(args.wikitext) / f"{split}.txt").read_text(encoding="utf-8").splitlines():
                if line.strip() and not line.strip().startswith("="):
                    out.write(json.dumps({"text": detokenize_wikitext(line)}) + "\n")
    with open(sms, "w", encoding="utf-8") as out:
        lines = Path(args.sms).read_text(encoding="utf-8").splitlines()
        assert lines[0].split("\t") == ["sentence", "label"], lines[0]
        for line in lines[1:]:
            text, label = line.rsplit("\t", 1)
            out.write(json.dumps({"text": text.strip(), "spam": label == "0"}) + "\n")  # 1 = ham, 0 = spam
    if not (cc / "documents.parquet").exists():
        command = [sys.executable, str(ROOT / "jobs" / "run_stages.py"), "--stages", "extract",
                   "--input", args.warc, "--output", str(cc)]
        print("$", " ".join(command), flush=True)
        subprocess.run(command, check=True, cwd=ROOT)
    return {"wiki": str(wiki), "sms": str(sms), "cc": str(cc)}


def kept_pages(cc: str) -> list[dict[str, Any]]:
    rows = pq.read_table(f"{cc}/documents.parquet", columns=["id", "text", "drop_reason"]).to_pylist()
    return [row for row in rows if row["drop_reason"] is None]


def cpu_rate(run: Callable[[], None], n: int, repeat: int) -> tuple[float, float]:
    """(docs per CPU second, docs per wall second), best of `repeat` after a warm-up run."""
    best_cpu, best_wall = best_times(run, repeat)
    return n / best_cpu, n / best_wall


def summarize(name: str, settings: dict[str, Any], metrics: dict[str, Any], counts: dict[str, Any]) -> dict[str, Any]:
    row = {"experiment": name, "settings": settings, "train": counts["train"], "holdout": counts["holdout"]}
    row.update({k: metrics[k] for k in ("auc", "precision", "recall", "f1", "accuracy")})
    row["by_source"] = metrics["by_source"]
    if "quantized" in metrics:
        row["quantized"] = {k: metrics["quantized"][k] for k in ("auc", "precision", "recall", "f1")}
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--wikitext", default="/work/shared/data/quality/wikitext2")
    parser.add_argument("--sms", default="/work/shared/data/quality/sms_spam/sms.tsv")
    parser.add_argument("--warc", default="/work/shared/data/warc")
    parser.add_argument("--work", default="/tmp/quality-bench")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "quality_classifier.json"))
    args = parser.parse_args()
    for path in (args.wikitext, args.sms, args.warc):
        if not os.path.exists(path):
            sys.exit(f"benchmark data not found: {path} (see /work/shared/data/README.md)")
    work = Path(args.work)
    sources = prepare(args, work)
    pages = kept_pages(sources["cc"])
    print(f"{sum(1 for _ in open(sources['wiki']))} WikiText paragraphs, {sum(1 for _ in open(sources['sms']))} SMS, "
          f"{len(pages)} extracted pages; {machine_line()}")

    results: dict[str, Any] = {"experiments": [], "throughput": [], "machine": {
        "cpus": os.cpu_count(), "python": platform.python_version(), "load_avg_start": os.getloadavg()}}

    def experiment(name: str, negatives: list[str], **settings: Any) -> tuple[dict[str, Any], str]:
        out = work / re.sub(r"\W+", "_", f"{name} {settings}").strip("_")  # one folder per experiment
        config = TrainQualityConfig(**settings)
        start = time.perf_counter()
        metrics = train_quality_classifier([sources["wiki"]], negatives, config, str(out))
        seconds = time.perf_counter() - start
        counts = json.loads((out / "training_config.json").read_text())["counts"]
        row = summarize(name, settings, metrics, counts)
        row["train_seconds"] = round(seconds, 2)
        row["model_bytes"] = (out / "model.bin").stat().st_size
        if config.quantize:
            row["quantized"]["model_bytes"] = (out / "model.ftz").stat().st_size
        results["experiments"].append(row)
        print(f"{name} {settings}: AUC {row['auc']:.4f} P {row['precision']:.3f} R {row['recall']:.3f} "
              f"(holdout {row['holdout']}, {seconds:.1f} s)", flush=True)
        return row, str(out)

    # A: the task, fastText defaults of this project and a longer / faster-learning variant.
    row_a, model_a = experiment("A wiki vs web+SMS", [sources["cc"], sources["sms"]], quantize=True)
    experiment("A wiki vs web+SMS", [sources["cc"], sources["sms"]], epoch=20, lr=0.5)
    experiment("A wiki vs web+SMS", [sources["cc"], sources["sms"]], word_ngrams=1)

    # B: no web page in training; all extracted pages scored against held-out WikiText paragraphs.
    row_b, model_b = experiment("B wiki vs SMS, web unseen", [sources["sms"]])
    stage_b = QualityStage(QualityConfig(model_path=f"{model_b}/model.bin"))
    page_scores = np.array([s["quality_score"] for s in stage_b.measure_many(pages)])
    wiki_texts = [json.loads(line)["text"] for line in open(sources["wiki"])]
    held = [t for t in wiki_texts if is_holdout(normalize_text(t), 0.1)]
    held_scores = np.array([s["quality_score"] for s in stage_b.measure_many([{"text": t} for t in held])])
    row_b["unseen_web"] = {"pages": len(pages), "wiki_holdout": len(held),
                           "auc_wiki_vs_web": roc_auc(held_scores, page_scores),
                           "web_mean_score": float(page_scores.mean()),
                           "web_share_scored_ge_0.5": float(np.mean(page_scores >= 0.5))}
    print(f"  B on unseen web pages: {row_b['unseen_web']}", flush=True)

    # C: web pages only as negatives (balanced with as many WikiText paragraphs).
    experiment("C wiki vs web only", [sources["cc"]], holdout_fraction=0.3, epoch=20, lr=0.5)

    # Keep rates of model A on the extracted pages.
    stage = QualityStage(QualityConfig(model_path=f"{model_a}/model.bin"))
    pareto = QualityStage(QualityConfig(model_path=f"{model_a}/model.bin", mode="pareto", pareto_alpha=9.0))
    scored = [{**page, **signals} for page, signals in zip(pages, stage.measure_many(pages))]
    results["keep_rates_model_A_on_pages"] = {
        "threshold_0.5": float(np.mean([stage.decide(d) is None for d in scored])),
        "pareto_alpha_9": float(np.mean([pareto.decide(d) is None for d in scored])),
        "median_score": float(np.median([d["quality_score"] for d in scored])),
    }
    print(f"  model A keep rates on pages: {results['keep_rates_model_A_on_pages']}", flush=True)

    # ---- throughput
    page_docs = [{"id": p["id"], "text": p["text"]} for p in pages] * (2000 // len(pages) + 1)
    wiki_docs = [{"id": str(i), "text": t} for i, t in enumerate(wiki_texts)]
    # The "newlines" stage needs a model folder without training_config.json ("classifier" recorded there).
    raw_dir = work / "model_A_raw"
    raw_dir.mkdir(exist_ok=True)
    shutil.copy(f"{model_a}/model.bin", raw_dir / "model.bin")
    stages = {
        "QualityStage, model.bin": stage,
        "QualityStage, model.ftz (quantized)": QualityStage(QualityConfig(model_path=f"{model_a}/model.ftz")),
        "QualityStage, model.bin, normalization=newlines": QualityStage(
            QualityConfig(model_path=str(raw_dir / "model.bin"), normalization="newlines")),
    }
    try:
        from datatrove.data import Document
        from datatrove.pipeline.filters import FastTextClassifierFilter
    except ImportError:
        FastTextClassifierFilter = None
    for corpus, docs in (("extracted pages", page_docs), ("WikiText paragraphs", wiki_docs)):
        n, chars = len(docs), sum(len(d["text"]) for d in docs)
        for name, quality in stages.items():
            def direct(quality: QualityStage = quality) -> None:
                for start in range(0, n, 256):
                    chunk = docs[start:start + 256]
                    for doc, signals in zip(chunk, quality.measure_many(chunk)):
                        quality.decide({**doc, **signals})

            per_cpu, per_wall = cpu_rate(direct, n, args.repeat)
            results["throughput"].append({"corpus": corpus, "what": name, "docs": n, "mean_chars": chars / n,
                                          "docs_per_cpu_s": per_cpu, "docs_per_wall_s": per_wall})
        schema = document_schema(stage.fields)
        batches = list(batched(({**d, "id": f"{i}", "drop_reason": None} for i, d in enumerate(docs)), schema, 256))

        def adapter() -> None:
            for _ in chain_batches([stage], schema)(iter(batches)):
                pass

        per_cpu, per_wall = cpu_rate(adapter, n, args.repeat)
        results["throughput"].append({"corpus": corpus, "what": "QualityStage, model.bin, through chain_batches",
                                      "docs": n, "mean_chars": chars / n, "docs_per_cpu_s": per_cpu,
                                      "docs_per_wall_s": per_wall})
        model = stage.model
        texts = [normalize_text(d["text"]) for d in docs]

        def bare() -> None:
            label_probabilities(model, texts, "__label__hq")

        per_cpu, per_wall = cpu_rate(bare, n, args.repeat)
        results["throughput"].append({"corpus": corpus, "what": "fastText predict(k=-1) only, pre-normalized text",
                                      "docs": n, "mean_chars": chars / n, "docs_per_cpu_s": per_cpu,
                                      "docs_per_wall_s": per_wall})
        if FastTextClassifierFilter is not None:
            theirs = FastTextClassifierFilter("unused", keep_labels=("hq", 0.5), newline_replacement=" ",
                                              save_labels_in_metadata=True)
            theirs._model = model  # same model object (datatrove would fetch model_url)

            def datatrove_run() -> None:
                for d in docs:
                    theirs.filter(Document(text=d["text"], id=d["id"]))

            per_cpu, per_wall = cpu_rate(datatrove_run, n, args.repeat)
            results["throughput"].append({"corpus": corpus, "what": "datatrove FastTextClassifierFilter (same model)",
                                          "docs": n, "mean_chars": chars / n, "docs_per_cpu_s": per_cpu,
                                          "docs_per_wall_s": per_wall})
            # Same preprocessing on both sides ("newlines" vs newline_replacement=" "): same scores?
            ours = stages["QualityStage, model.bin, normalization=newlines"].measure_many(docs[:500])
            diffs = []
            for d, signals in zip(docs[:500], ours):
                doc = Document(text=d["text"], id=d["id"])
                theirs.filter(doc)
                diffs.append(abs(doc.metadata["__label__hq"] - signals["quality_score"]))
            results.setdefault("datatrove_score_max_abs_diff", {})[corpus] = float(max(diffs))
    results["machine"]["load_avg_end"] = os.getloadavg()
    for row in results["throughput"]:
        print(f"  {row['corpus']}: {row['what']}: {row['docs_per_cpu_s']:,.0f} docs/s per core "
              f"({row['docs_per_wall_s']:,.0f} wall)")
    print(f"  datatrove agreement: {results.get('datatrove_score_max_abs_diff')}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2, default=float) + "\n")
    print(f"Wrote {args.out}")


if __name__ == "__main__":
    main()
