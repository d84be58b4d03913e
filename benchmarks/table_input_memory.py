"""Peak memory and time of table inputs (pipeline/tables.py): a 2 GB JSONL, a 1 GB Parquet file (written
as Spark does, in ~128 MB row groups) and a 200 MB single-text JSONL and Parquet file, each run through
`jobs/run_stages.py --stages extract` in a subprocess, and the two big files also through the reading
path alone (`pipeline.tables.read_table_rows`, every row made, nothing written). Peak RSS is the child's
VmHWM (benchmarks/measure.py), sampled while it runs; a 10-row JSONL gives the interpreter's baseline.

    python benchmarks/table_input_memory.py --workdir /tmp --results /work/notes/results_tables.md

Files are generated into a fresh folder under --workdir (about 3.5 GB of inputs plus the outputs) and
deleted afterwards unless --keep. Before the reader streamed, a 222 MB Parquet file cost 3.5 GB and one
200 MB text killed the run after 6 GB (issue 17).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.measure import peak_rss_bytes, tree_rss_bytes, write_section  # noqa: E402

TITLE = "## Table inputs: peak memory of JSONL and Parquet (benchmarks/table_input_memory.py)"
MiB = 1 << 20
WORDS_PER_DOC = 350  # ~2.3 KB of text per document, a typical web page's main text
PARQUET_ROW_GROUP_ROWS = 50_000  # ~115 MB of text per row group, as Spark's 128 MB blocks
READ_ONLY = ("import sys; from pipeline.tables import read_table_rows; "
             "print(sum(1 for _ in read_table_rows(sys.argv[1], 10 * 1024 * 1024)), 'rows')")


@dataclass
class Measurement:
    name: str
    input_bytes: int
    rows: str
    peak_rss_bytes: int
    seconds: float
    returncode: int
    quarters: tuple[int, ...] = ()  # peak RSS so far at 1/4, 1/2 and 3/4 of the run: flat or growing


def vocabulary(rng: np.random.Generator, size: int = 5000) -> np.ndarray:
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    return np.array(["".join(rng.choice(letters, size=int(n))) for n in rng.integers(2, 10, size)], dtype=object)


def documents(seed: int):
    """(id, text) of distinct pseudo-random documents, forever."""
    rng = np.random.default_rng(seed)
    words = vocabulary(rng)
    number = 0
    while True:
        block = words[rng.integers(0, len(words), WORDS_PER_DOC * 1000)]
        for start in range(0, len(block), WORDS_PER_DOC):
            yield f"doc-{number:09d}", " ".join(block[start : start + WORDS_PER_DOC])
            number += 1


def write_jsonl(path: Path, target_bytes: int) -> int:
    rows = 0
    with open(path, "w", encoding="utf-8") as out:
        for doc_id, text in documents(1):
            out.write(json.dumps({"id": doc_id, "url": f"https://bench.example/{doc_id}", "text": text}) + "\n")
            rows += 1
            if rows % 1000 == 0 and out.tell() >= target_bytes:
                return rows


def write_parquet(path: Path, target_bytes: int) -> int:
    rows = 0
    schema = pa.schema([("id", pa.string()), ("url", pa.string()), ("text", pa.string())])
    stream = documents(2)
    with pq.ParquetWriter(path, schema) as writer:
        while path.stat().st_size < target_bytes:
            ids, texts = zip(*(next(stream) for _ in range(PARQUET_ROW_GROUP_ROWS)))
            writer.write_table(pa.table({"id": ids, "url": [f"https://bench.example/{i}" for i in ids], "text": texts},
                                        schema=schema), row_group_size=PARQUET_ROW_GROUP_ROWS)
            rows += len(ids)
    return rows


def write_single_text_jsonl(path: Path, text_bytes: int) -> None:
    """One line holding a `text_bytes` text, written in 1 MiB pieces."""
    with open(path, "wb") as out:
        out.write(b'{"id": "huge", "url": "https://bench.example/huge", "text": "')
        piece = b"all work and no play makes a very long line " * (MiB // 45)
        for _ in range(text_bytes // len(piece)):
            out.write(piece)
        out.write(b'"}\n{"id": "small", "text": "the line after the huge one"}\n')


def write_single_text_parquet(path: Path, text_bytes: int) -> None:
    text = "all work and no play makes a very long line " * (text_bytes // 45)
    pq.write_table(pa.table({"id": ["huge", "small"], "text": [text, "the row after the huge one"]}), path)


def measure(name: str, command: list[str], input_path: Path, tree: bool = False) -> Measurement:
    """Run `command`, sampling the child's peak RSS every 50 ms until it exits (with `tree`, every 250 ms the
    RSS summed over the child's whole process tree: Spark's JVM and its Python workers)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    start = time.perf_counter()
    child = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak, samples = 0, []
    while child.poll() is None:
        peak = max(peak, tree_rss_bytes(child.pid)[0] if tree else peak_rss_bytes(child.pid))
        samples.append((time.perf_counter() - start, peak))
        time.sleep(0.25 if tree else 0.05)
    seconds = time.perf_counter() - start
    quarters = tuple(next((rss for at, rss in samples if at >= seconds * q / 4), peak) for q in (1, 2, 3))
    output = child.stdout.read() if child.stdout else ""
    summary = [line for line in output.splitlines() if line.startswith(("Kept", "Dropped")) or line.endswith("rows")]
    if child.returncode != 0:
        print(output[-3000:], file=sys.stderr)
    return Measurement(name, input_path.stat().st_size, "; ".join(summary)[:160], peak, seconds, child.returncode,
                       quarters)


def run_stages(name: str, input_path: Path, workdir: Path) -> Measurement:
    out = workdir / f"out-{input_path.stem}"
    measured = measure(name, [sys.executable, "jobs/run_stages.py", "--stages", "extract", "--input", str(input_path),
                              "--output", str(out)], input_path)
    summary = json.loads((out / "stats" / "summary.json").read_text()) if measured.returncode == 0 else {}
    measured.rows = f"{summary.get('kept')} kept, dropped {summary.get('dropped_by_reason')}"
    shutil.rmtree(out, ignore_errors=True)
    return measured


def build_corpus(name: str, input_path: Path, workdir: Path) -> Measurement:
    """The Spark job (local[2], the extract stage) on one input; peak RSS summed over the JVM and its workers."""
    out = workdir / f"spark-{input_path.stem}"
    spark_submit = str(Path(sys.executable).parent / "spark-submit")
    env_python = dict(PYSPARK_PYTHON=sys.executable, SPARK_LOCAL_IP="127.0.0.1")
    os.environ.update(env_python)
    measured = measure(name, [spark_submit, "--master", "local[2]", "--conf", "spark.ui.enabled=false",
                              "jobs/build_corpus.py", "--input", str(input_path), "--output", str(out),
                              "--set", "pipeline.stages=['extract']"], input_path, tree=True)
    summary = json.loads((out / "stats" / "summary.json").read_text()) if measured.returncode == 0 else {}
    measured.rows = f"{summary.get('kept')} kept, dropped {summary.get('dropped_by_reason')}"
    shutil.rmtree(out, ignore_errors=True)
    return measured


def read_only(name: str, input_path: Path) -> Measurement:
    return measure(name, [sys.executable, "-c", READ_ONLY, str(input_path)], input_path)


def section(results: list[Measurement], command: str) -> str:
    lines = [TITLE, "", f"`{command}` (2 shared cores; peak RSS = the child's VmHWM, sampled every 50 ms; for Spark, the RSS summed over the JVM and its Python workers, sampled every 250 ms)", "",
             "| run | input | rows | peak RSS | peak RSS at 1/4, 1/2, 3/4 of the time | time |", "|---|---|---|---|---|---|"]
    for m in results:
        status = "" if m.returncode == 0 else f" (exit {m.returncode})"
        lines.append(f"| {m.name}{status} | {m.input_bytes / MiB:,.0f} MiB | {m.rows} | "
                     f"{m.peak_rss_bytes / MiB:,.0f} MiB | {', '.join(f'{q / MiB:,.0f}' for q in m.quarters)} MiB | "
                     f"{m.seconds:,.1f} s |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workdir", default="/tmp", help="where the generated files go (a fresh folder in it)")
    parser.add_argument("--jsonl-mb", type=int, default=2048)
    parser.add_argument("--parquet-mb", type=int, default=1024)
    parser.add_argument("--single-text-mb", type=int, default=200)
    parser.add_argument("--skip-full-runs", action="store_true", help="only the reading path for the big files")
    parser.add_argument("--spark", action="store_true", help="also run build_corpus (local Spark) on the big files")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    parser.add_argument("--results", help="a markdown file to write this section into (e.g. benchmarks/RESULTS.md)")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="table-input-memory-", dir=args.workdir))
    command = "python benchmarks/table_input_memory.py " + " ".join(argv if argv is not None else sys.argv[1:])
    results: list[Measurement] = []
    try:
        tiny = workdir / "tiny.jsonl"
        tiny.write_text("".join(json.dumps({"id": f"t{i}", "text": "a small text"}) + "\n" for i in range(10)))
        results.append(run_stages("baseline: run_stages, 10-row JSONL", tiny, workdir))
        single = workdir / "single_text.jsonl"
        write_single_text_jsonl(single, args.single_text_mb * MiB)
        results.append(run_stages(f"run_stages, one {args.single_text_mb} MB text (JSONL)", single, workdir))
        single_parquet = workdir / "single_text.parquet"
        write_single_text_parquet(single_parquet, args.single_text_mb * MiB)
        results.append(run_stages(f"run_stages, one {args.single_text_mb} MB text (Parquet)", single_parquet, workdir))
        for kind, writer, size_mb in (("jsonl", write_jsonl, args.jsonl_mb), ("parquet", write_parquet, args.parquet_mb)):
            path = workdir / f"big.{kind}"
            started = time.perf_counter()
            rows = writer(path, size_mb * MiB)
            print(f"wrote {path} ({path.stat().st_size / MiB:,.0f} MiB, {rows} rows) in {time.perf_counter() - started:.0f} s")
            results.append(read_only(f"reading path only, {kind}", path))
            if not args.skip_full_runs:
                results.append(run_stages(f"run_stages, {kind}", path, workdir))
            if args.spark:
                results.append(build_corpus(f"build_corpus (Spark local[2], whole process tree), {kind}", path, workdir))
            path.unlink()
            print(section(results, command))
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    text = section(results, command)
    print(text)
    if args.results:
        write_section(Path(args.results), text, TITLE)
    return 0 if all(m.returncode == 0 for m in results) else 1


if __name__ == "__main__":
    sys.exit(main())
