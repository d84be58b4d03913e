"""Reruns under load: a heavy page extracts to the same bytes on an idle and on a busy machine (issue 17).

The extraction limit counts the sandbox child's CPU seconds (pipeline/extract.py), so a page that takes a few
CPU seconds is kept whatever else runs. This builds a WARC with one heavy page (a few CPU seconds of
trafilatura) and one ordinary article, runs `jobs/run_stages.py --stages extract` on it in a fresh process
idle and then with two CPU hogs (`python -c "while True: pass"`, killed afterwards), and compares the
documents.parquet files byte for byte. For contrast, the same two runs with the wall-clock backstop set to
`--wall-limit` seconds (a wall-clock limit per page, as before this change) show what load does to such a rule.

Usage:
    python benchmarks/extraction_under_load.py [--paragraphs 6000] [--cpu-limit 6] [--wall-limit 12]
        [--out benchmarks/results/extraction_under_load.json]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from testkit.records import ARTICLE, heavy_page, info, response  # noqa: E402
from testkit.warc_writer import write_warc  # noqa: E402


def run_job(warc: Path, output: Path, overrides: list[str]) -> dict[str, Any]:
    """run_stages in a fresh process; its wall seconds, CPU seconds (with the reaped sandbox child) and rows."""
    command = [sys.executable, "jobs/run_stages.py", "--stages", "extract", "--input", str(warc), "--output", str(output)]
    for override in overrides:
        command += ["--set", override]
    start = time.perf_counter()
    job = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(job.pid, 0)
    wall_seconds = time.perf_counter() - start
    job.returncode = os.waitstatus_to_exitcode(status)
    if job.returncode != 0:
        raise RuntimeError(f"run_stages exited {job.returncode}: {job.stderr.read().decode()[-2000:]}")
    job.stderr.close()
    documents = output / "documents.parquet"
    rows = pq.read_table(documents).to_pylist()
    return {
        "wall_s": round(wall_seconds, 2),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "documents_sha256": hashlib.sha256(documents.read_bytes()).hexdigest(),
        "drop_reasons": [row["drop_reason"] for row in rows],
        "text_chars": [len(row["text"] or "") for row in rows],
        "load_average_1min": round(os.getloadavg()[0], 1),
    }


def with_hogs(n_hogs: int, action: Any) -> Any:
    """`action()` while `n_hogs` busy-loop processes run; they are killed (by their own pid) afterwards."""
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n_hogs)]
    try:
        time.sleep(1.0)  # let them get going
        return action()
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--paragraphs", type=int, default=6000, help="size of the heavy page")
    parser.add_argument("--cpu-limit", type=float, default=6.0, help="extract.timeout_seconds (CPU seconds per page)")
    parser.add_argument("--wall-limit", type=float, default=12.0, help="wall-clock limit of the contrast runs")
    parser.add_argument("--hogs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/extraction_under_load.json")
    args = parser.parse_args(argv)

    limit = [f"extract.timeout_seconds={args.cpu_limit}"]
    old_rule = limit + [f"extract.wall_timeout_seconds={args.wall_limit}"]  # a wall-clock limit, as before
    with tempfile.TemporaryDirectory() as tmp:
        warc = Path(tmp) / "heavy.warc.gz"
        write_warc(str(warc), [info(), response("heavy", heavy_page(args.paragraphs)), response("article", ARTICLE)])
        runs = {
            "cpu_limit_idle": run_job(warc, Path(tmp) / "a", limit),
            "cpu_limit_loaded": with_hogs(args.hogs, lambda: run_job(warc, Path(tmp) / "b", limit)),
            "wall_limit_idle": run_job(warc, Path(tmp) / "c", old_rule),
            "wall_limit_loaded": with_hogs(args.hogs, lambda: run_job(warc, Path(tmp) / "d", old_rule)),
        }
    identical = runs["cpu_limit_idle"]["documents_sha256"] == runs["cpu_limit_loaded"]["documents_sha256"]
    report = {
        "paragraphs": args.paragraphs, "cpu_limit_s": args.cpu_limit, "wall_limit_s": args.wall_limit,
        "hogs": args.hogs, "cpus": os.cpu_count(),
        "runs": runs, "cpu_limit_rerun_byte_identical": identical,
        "wall_limit_rerun_byte_identical": runs["wall_limit_idle"]["documents_sha256"]
        == runs["wall_limit_loaded"]["documents_sha256"],
    }
    for name, run in runs.items():
        print(f"{name:18s} wall {run['wall_s']:6.2f} s  CPU {run['cpu_s']:6.2f} s  load {run['load_average_1min']:5.1f}  "
              f"reasons {run['drop_reasons']}  chars {run['text_chars']}  sha256 {run['documents_sha256'][:16]}")
    print(f"CPU limit: idle and loaded documents.parquet byte-identical: {identical}")
    print(f"wall limit (old rule): byte-identical: {report['wall_limit_rerun_byte_identical']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    print(f"Wrote {args.out}")
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
