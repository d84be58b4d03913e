"""Where the per-document CPU goes on real pages (issue 22): read+extract+filters (`process_input`) in one
process, no Spark, over the same input as `end_to_end.py --real-pages` (the extraction development set packed
into WARCs plus the Common Crawl excerpts), with end_to_end.py's FineWeb stage set, cascade on.

Split by where the CPU is spent, each timed with process_time around the call (no profiler: cProfile
inflates the Python parts several-fold): the trafilatura sandbox child (its whole CPU, from /proc), and in
this process the cascade's pre-checks (resiliparse's parse and texts, lid.176 on the fast text), each
stage's measure + decide over its batches, and the rest (WARC reading, HTTP and charset decoding, building
rows and Arrow batches). Also the trafilatura calls per page that reached it (the length check reruns a few).
The least of `--repeat` runs (each a fresh child process) per number; the input is packed once.

    .venv/bin/python benchmarks/path_profile.py --real-pages /work/shared/data/extraction/dev \\
        --cc /work/shared/data/warc --repeat 2
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SECTION_TITLE = "## Read+extract+filters on real pages: where the CPU goes (issue 22)"
RESULTS_JSON = ROOT / "benchmarks" / "results" / "path_profile.json"


def profile(paths: list[str]) -> dict[str, Any]:
    """One run over `paths` in this process (a fresh one: imports and model loads count, as in a task)."""
    import pipeline.cascade as cascade
    import pipeline.stages as stages
    from benchmarks.end_to_end import PROJECT_SETTINGS
    from benchmarks.measure import live_children_cpu_seconds
    from pipeline.config import load_config
    from pipeline.corpus import InputTally, process_input
    from pipeline.extract import sandbox_for

    spent: Counter[str] = Counter()

    def timed(name: str, call: Any) -> Any:
        def run(*args: Any, **kwargs: Any) -> Any:
            start = time.process_time()
            try:
                return call(*args, **kwargs)
            finally:
                spent[name if name != "stage" else f"stage {args[0].name}"] += time.process_time() - start
        return run

    stages.apply_stage = timed("stage", stages.apply_stage)  # looked up at call time by chain_batches
    cascade.Cascade.check = timed("cascade pre-checks", cascade.Cascade.check)
    config = load_config(None, PROJECT_SETTINGS + ["extract.cascade=true"])
    start = time.process_time()
    rows = sum(batch.num_rows for path in paths for batch in process_input(path, config, InputTally(path)))
    worker_s = time.process_time() - start
    sandbox = sandbox_for(config.extract)
    return {"rows": rows, "worker_cpu_s": worker_s, "child_cpu_s": live_children_cpu_seconds(),
            "pages_extracted": sandbox.documents_sent, "parts": dict(spent)}


def least(runs: list[dict[str, Any]]) -> dict[str, Any]:
    best = min(runs, key=lambda run: run["worker_cpu_s"] + run["child_cpu_s"])
    return best | {"all_totals": [round(run["worker_cpu_s"] + run["child_cpu_s"], 2) for run in runs]}


def markdown(report: dict[str, Any]) -> str:
    run, rows = report["run"], report["run"]["rows"]
    total = run["worker_cpu_s"] + run["child_cpu_s"]
    parts = dict(run["parts"])
    rest = run["worker_cpu_s"] - sum(parts.values())

    def row(name: str, seconds: float) -> str:
        return f"| {name} | {seconds:.2f} | {1000 * seconds / rows:.2f} | {100 * seconds / total:.0f}% |"

    lines = [SECTION_TITLE, "", f"Command: `{report['command']}`. Input: {report['input']}; {rows} response "
             f"records, {run['pages_extracted']} of them sent to trafilatura. Least total of {len(run['all_totals'])} "
             f"runs (totals {', '.join(f'{t:.1f}' for t in run['all_totals'])} CPU s; load average "
             f"{report['loadavg']}).", "", "| where | CPU s | ms per response | share |", "|---|---:|---:|---:|",
             row("trafilatura sandbox child (trafilatura, the length check's reruns)", run["child_cpu_s"])]
    lines += [row(name, seconds) for name, seconds in sorted(parts.items(), key=lambda item: -item[1])]
    lines += [row("the rest of the worker (reading, decoding, rows, Arrow batches)", rest),
              f"| **all** | **{total:.2f}** | **{1000 * total / rows:.2f}** | 100% |", ""]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--real-pages", type=Path, required=True, help="the extraction development set")
    parser.add_argument("--cc", type=Path, help="folder of real WARC files added to the input")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(profile(args.worker)))
        return
    from benchmarks.end_to_end import cc_files, dev_pages, input_paths, real_input
    from benchmarks.measure import loadavg, write_section

    with tempfile.TemporaryDirectory(prefix="path-profile-") as tmp:  # packed as end_to_end.py's larger size
        pages = dev_pages(args.real_pages)
        size = real_input(Path(tmp) / "input", pages, 100, args.cc, len(cc_files(args.cc)))
        paths = input_paths(Path(size["folder"]))
        command = [sys.executable, str(Path(__file__).resolve()), "--real-pages", str(args.real_pages), "--worker",
                   *paths]
        runs = [json.loads(subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
                           .stdout.strip().splitlines()[-1]) for _ in range(args.repeat)]
    report = {"command": "python " + " ".join([str(Path(sys.argv[0]))] + sys.argv[1:]), "loadavg": loadavg(),
              "input": f"{size['dev_pages']} pages of `{args.real_pages}` + {size['cc_files']} files of `{args.cc}`",
              "run": least(runs)}
    RESULTS_JSON.write_text(json.dumps(report, indent=1) + "\n")
    section = markdown(report)
    print(section)
    write_section(ROOT / "benchmarks" / "RESULTS.md", section, SECTION_TITLE)


if __name__ == "__main__":
    main()
