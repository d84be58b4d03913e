"""Tokenizer training time and peak memory: byte-level BPE and Unigram on the Gutenberg books.

`python benchmarks/tokenizer_training.py [--data /work/shared/data/text/gutenberg] [--models bpe,unigram]
[--vocab-sizes 8192,32768] [--repeats 2] [--out benchmarks/results/tokenizer_training.json]`

The books are cut into ~8 KB documents (testkit.text_corpus.text_files_corpus) and written as a corpus of 8
Parquet parts. Every training runs in a fresh child process (this file with --child) that samples the
corpus (tokenizer.train.sample_corpus), trains (train_tokenizer) and measures held-out compression, and
reports wall time per step, CPU time of training (all threads) and peak resident memory after imports,
after sampling and after training (VmHWM, see peak_rss_mb; getrusage's ru_maxrss is
recorded too). The sha256 of each tokenizer.json shows whether repeated
trainings give the same file.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.measure import cpu_seconds, loadavg, maxrss_bytes, peak_rss_bytes  # noqa: E402


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MiB: VmHWM (benchmarks/measure.peak_rss_bytes says why), else
    getrusage's ru_maxrss."""
    return (peak_rss_bytes(os.getpid()) or maxrss_bytes()) / 2**20


def child(args: argparse.Namespace) -> None:
    rss_import_before = peak_rss_mb()
    from tokenizer.config import TokenizerConfig
    from tokenizer.train import compression_report, sample_corpus, train_tokenizer
    import tokenizers

    config = TokenizerConfig(model=args.model, vocab_size=args.vocab_size)
    rss_imports = peak_rss_mb()
    start = time.perf_counter()
    sample = sample_corpus(args.corpus, config)
    sample_s = time.perf_counter() - start
    rss_sample = peak_rss_mb()
    start, cpu_start = time.perf_counter(), cpu_seconds()
    tokenizer = train_tokenizer(sample.train, len(sample.train), config)
    train_s, train_cpu_s = time.perf_counter() - start, cpu_seconds() - cpu_start
    rss_train = peak_rss_mb()
    report = compression_report(tokenizer, sample.heldout, config.nfkc)
    text = tokenizer.to_str(pretty=True)
    print(json.dumps({
        "model": args.model, "vocab_size": args.vocab_size, "trained_vocab": tokenizer.get_vocab_size(),
        "train_documents": len(sample.train), "train_bytes": sum(sample.train_bytes_by_pool.values()),
        "sample_s": round(sample_s, 2), "train_s": round(train_s, 2), "train_cpu_s": round(train_cpu_s, 2),
        "peak_rss_mb": {"python": round(rss_import_before), "after_imports": round(rss_imports),
                        "after_sample": round(rss_sample), "after_train": round(rss_train)},
        "getrusage_maxrss_mb": round(maxrss_bytes() / 2**20),
        "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "heldout": {lang: {k: row[k] for k in ("documents", "bytes_per_token", "characters_per_token", "roundtrip_failures")}
                    for lang, row in report.items()},
        "tokenizers": tokenizers.__version__,
    }))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="/work/shared/data/text/gutenberg")
    parser.add_argument("--models", default="bpe,unigram")
    parser.add_argument("--vocab-sizes", default="8192,32768")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "tokenizer_training.json"))
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--corpus", help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--vocab-size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    from testkit.text_corpus import text_files_corpus

    load_start = loadavg()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        rows = text_files_corpus(args.data, Path(tmp) / "corpus")
        corpus_bytes = sum(len(r["text"].encode("utf-8")) for r in rows)
        print(f"Corpus: {len(rows)} documents, {corpus_bytes / 1e6:.1f} MB from {args.data}", flush=True)
        for model in args.models.split(","):
            for vocab_size in map(int, args.vocab_sizes.split(",")):
                for repeat in range(args.repeats):
                    start = time.perf_counter()
                    output = subprocess.run([sys.executable, __file__, "--child", "--corpus", str(Path(tmp) / "corpus"),
                                             "--model", model, "--vocab-size", str(vocab_size)],
                                            check=True, capture_output=True, text=True).stdout
                    row = json.loads(output.strip().splitlines()[-1]) | {"repeat": repeat,
                                                                         "process_s": round(time.perf_counter() - start, 2)}
                    results.append(row)
                    print(f"{model:8} vocab {vocab_size:6} run {repeat}: sample {row['sample_s']:6.2f} s, "
                          f"train {row['train_s']:7.2f} s ({row['train_cpu_s']:.2f} CPU s), peak RSS {row['peak_rss_mb']['after_train']:6} MB "
                          f"(after sample {row['peak_rss_mb']['after_sample']}), "
                          f"bytes/token {row['heldout']['all']['bytes_per_token']}, sha256 {row['sha256'][:12]}",
                          flush=True)
    summary = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                           "load_average_start": load_start, "load_average_end": loadavg()},
               "data": args.data, "documents": len(rows), "corpus_bytes": corpus_bytes, "runs": results}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(f"Wrote {args.out}")


if __name__ == "__main__":
    main()
