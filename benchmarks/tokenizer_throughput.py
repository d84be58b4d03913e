"""Tokenization throughput: the Ray job against plain `Tokenizer.encode_batch` in one process, same text.

`python benchmarks/tokenizer_throughput.py [--data /work/shared/data/text/gutenberg] [--vocab-size 32768]
[--workers 1,2] [--repeats 3] [--out benchmarks/results/tokenizer_throughput.json]`

Text: the Gutenberg books cut into ~8 KB documents, 8 Parquet parts (testkit.text_corpus.text_files_corpus).
Tokenizer: byte-level BPE trained by the project on that corpus (or --tokenizer). Tokens are counted with one separator per document as in the shards:

Repeats go round-robin over the rows (the machine may be shared); each row keeps its fastest run.

- `encode_batch`: plain `Tokenizer.encode_batch(texts, add_special_tokens=False)` over the texts in
  batches of 1024, in a fresh process, with tokenizers' own threads (all CPUs) and with one thread
  (TOKENIZERS_PARALLELISM=false); `encode_batch_fast` (no offsets, what the job calls) likewise.
- job without Ray: `tokenize_corpus` with the serial mapper (reads Parquet, encodes, writes part caches,
  plans, packs, hashes, manifest) in one process.
- Ray job: `tokenize_corpus` with Ray Data and 1, 2, ... workers on a local Ray started once (its start
  time is reported apart); each run writes a fresh output directory.

Every job run must produce the same manifest (checked); ratios are tokens/s over the encode_batch row
that uses the same number of CPUs.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import platform
import subprocess
import sys
import shutil
import tempfile
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.measure import cpu_seconds, loadavg  # noqa: E402
BATCH = 1024


def corpus_texts(corpus: str) -> list[str]:
    import pyarrow.parquet as pq

    texts: list[str] = []
    for part in sorted(glob.glob(f"{corpus}/part-*.parquet")):
        texts += [t for t in pq.read_table(part, columns=["text"]).column("text").to_pylist() if t is not None]
    return texts


def child_encode(args: argparse.Namespace) -> None:
    from tokenizers import Tokenizer

    from tokenizer.train import for_encoding

    tokenizer = for_encoding(Tokenizer.from_file(args.tokenizer))
    texts = corpus_texts(args.corpus)
    encode = getattr(tokenizer, args.method)
    best = None
    for _ in range(args.repeats):
        start, cpu_start = time.perf_counter(), cpu_seconds()
        tokens = 0
        for i in range(0, len(texts), BATCH):
            tokens += sum(len(e.ids) + 1 for e in encode(texts[i:i + BATCH], add_special_tokens=False))
        run = {"wall_s": time.perf_counter() - start, "cpu_s": cpu_seconds() - cpu_start, "tokens": tokens}
        best = run if best is None or run["wall_s"] < best["wall_s"] else best
    print(json.dumps(best | {"bytes": sum(len(t.encode("utf-8")) for t in texts)}))


def child_serial_job(args: argparse.Namespace) -> None:
    from tokenizer.config import TokenizeConfig, TokenizeJobConfig
    from tokenizer.encode import serial_map, tokenize_corpus

    config = TokenizeJobConfig(TokenizeConfig(val_fraction=0.01))
    best = None
    for repeat in range(args.repeats):
        with tempfile.TemporaryDirectory() as out:
            start, cpu_start = time.perf_counter(), cpu_seconds()
            manifest = tokenize_corpus(args.corpus, args.tokenizer, out, config, serial_map, log=lambda _: None)
            run = {"wall_s": time.perf_counter() - start, "cpu_s": cpu_seconds() - cpu_start,
                   "tokens": sum(s["tokens"] for s in manifest["splits"].values()),
                   "manifest_shards": [s["sha256"] for s in manifest["shards"]]}
        best = run if best is None or run["wall_s"] < best["wall_s"] else best
    print(json.dumps(best))


def run_child(args: argparse.Namespace, mode: str, env: dict[str, str] | None = None, method: str = "") -> dict:
    env = dict(env or {})
    repeats = env.pop("repeats", str(args.repeats))
    command = [sys.executable, __file__, "--child", mode, "--corpus", args.corpus, "--tokenizer", args.tokenizer,
               "--repeats", repeats] + (["--method", method] if method else [])
    output = subprocess.run(command, check=True, capture_output=True, text=True, env={**os.environ, **env}).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="/work/shared/data/text/gutenberg")
    parser.add_argument("--tokenizer", help="tokenizer.json (default: train byte-level BPE on the corpus)")
    parser.add_argument("--vocab-size", type=int, default=32768)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "tokenizer_throughput.json"))
    parser.add_argument("--child", choices=["encode", "serial_job"], help=argparse.SUPPRESS)
    parser.add_argument("--corpus", help=argparse.SUPPRESS)
    parser.add_argument("--method", default="encode_batch", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "encode":
        return child_encode(args)
    if args.child == "serial_job":
        return child_serial_job(args)

    from tokenizer.config import TokenizeConfig, TokenizeJobConfig, TokenizerConfig
    from tokenizer.encode import tokenize_corpus
    from testkit.text_corpus import text_files_corpus
    from tokenizer.train import train_tokenizer

    load_start = loadavg()
    cpus = os.cpu_count() or 1
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        args.corpus = str(Path(tmp) / "corpus")
        documents = text_files_corpus(args.data, args.corpus)
        if not args.tokenizer:
            texts = [d["text"] for d in documents]
            start = time.perf_counter()
            train_tokenizer(texts, len(texts), TokenizerConfig(vocab_size=args.vocab_size)).save(f"{tmp}/tokenizer.json")
            print(f"Trained BPE {args.vocab_size} in {time.perf_counter() - start:.1f} s", flush=True)
            args.tokenizer = f"{tmp}/tokenizer.json"

        import ray

        from tokenizer.ray_engine import ray_mapper

        start = time.perf_counter()
        ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False)
        ray_start_s = time.perf_counter() - start
        config = TokenizeJobConfig(TokenizeConfig(val_fraction=0.01))
        reference_shards: list[str] = []

        def ray_job(workers: int) -> dict:
            out = Path(tmp) / f"ray-{workers}"
            start = time.perf_counter()
            manifest = tokenize_corpus(args.corpus, args.tokenizer, str(out), config, ray_mapper(workers),
                                       log=lambda _: None)
            run = {"wall_s": time.perf_counter() - start,
                   "tokens": sum(s["tokens"] for s in manifest["splits"].values()),
                   "manifest_shards": [s["sha256"] for s in manifest["shards"]]}
            shutil.rmtree(out)
            return run

        one = {"repeats": "1"}
        measurements: list[tuple[str, int, Callable[[], dict]]] = []
        for method in ("encode_batch", "encode_batch_fast"):
            measurements.append((f"{method}, {cpus} threads (tokenizers default)", cpus,
                                 lambda method=method: run_child(args, "encode", one, method)))
            measurements.append((f"{method}, 1 thread", 1, lambda method=method: run_child(
                args, "encode", one | {"TOKENIZERS_PARALLELISM": "false"}, method)))
        measurements.append((f"job without Ray (serial mapper, {cpus} encode threads)", cpus,
                             lambda: run_child(args, "serial_job", one)))
        for workers in map(int, args.workers.split(",")):
            measurements.append((f"Ray job, {workers} worker(s)", workers, lambda workers=workers: ray_job(workers)))

        # Repeats go round-robin over the measurements, so load from other work on the machine falls on
        # all of them alike; each row keeps its fastest run.
        best: dict[str, dict] = {}
        for repeat in range(args.repeats):
            for name, _, measure in measurements:
                run = measure()
                if "manifest_shards" in run:
                    reference_shards = reference_shards or run["manifest_shards"]
                    if run["manifest_shards"] != reference_shards:
                        raise SystemExit(f"{name} wrote other shards than the first job run")
                print(f"  run {repeat} {name}: {run['wall_s']:.2f} s", flush=True)
                if name not in best or run["wall_s"] < best[name]["wall_s"]:
                    best[name] = run
        ray.shutdown()
        corpus_bytes = best[measurements[0][0]]["bytes"]
        for name, cpus_used, _ in measurements:
            run = best[name]
            row = {"measurement": name, "cpus": cpus_used, "wall_s": round(run["wall_s"], 2),
                   "cpu_s": round(run["cpu_s"], 2) if "cpu_s" in run else None, "tokens": run["tokens"],
                   "tokens_per_s": round(run["tokens"] / run["wall_s"])}
            rows.append(row)
            print(f"{name:<52} {row['tokens']:>9} tokens {row['wall_s']:>7.2f} s {row['tokens_per_s']:>9} tokens/s")

    encode_rate = {row["cpus"]: row["tokens_per_s"] for row in rows if row["measurement"].startswith("encode_batch,")}
    for row in rows:
        row["ratio_vs_encode_batch_same_cpus"] = round(row["tokens_per_s"] / encode_rate[min(row["cpus"], cpus)], 3)
    summary = {"machine": {"cpus": cpus, "python": platform.python_version(),
                           "load_average_start": load_start, "load_average_end": loadavg()},
               "data": args.data, "documents": len(documents), "corpus_bytes": corpus_bytes,
               "vocab_size": args.vocab_size, "repeats": args.repeats, "ray_init_s": round(ray_start_s, 2),
               "rows": rows}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(f"Ray init {ray_start_s:.1f} s; wrote {args.out}")


if __name__ == "__main__":
    main()
