"""Crash and resume at the process level (issue 11): SIGKILL the corpus job and the tokenize job at random
points, rerun the same command to completion, and compare every output file with an uninterrupted run.

    python benchmarks/kill_trials.py --trials 8 --workdir /tmp/kill_trials --json benchmarks/results/kill_trials.json

What is killed, the job's whole process session at one instant: testkit/processes.py. When (seeded delays
uniform over the uninterrupted run's wall time) and what is compared (the sha256 of every output file; Spark's
randomly named scratch excepted, the dedup decisions by rows): testkit/kill_trials.py. This file runs the
reference runs and the trials of both jobs on the sample data and reports them.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a plain script

from testkit.kill_trials import (DEMO_STAGES_WITHOUT_QUALITY, Setup, build_progress, count_files,  # noqa: E402
                                 kill_trials, tokenize_progress)
from testkit.processes import run_to_completion, short_temp_dir  # noqa: E402


def run_all(setup: Setup, trials: int, seed: int, jobs: tuple[str, ...], keep: bool = False,
            report: Callable[[str], None] = print) -> dict:
    """Reference runs, then the kill trials of each job; returns every measurement (JSON-ready)."""
    workdir = setup.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    ray_tmp = short_temp_dir("raykill")
    env = setup.env(ray_tmp)
    try:
        build_reference = workdir / "build-reference"
        shutil.rmtree(build_reference, ignore_errors=True)
        build_s = run_to_completion(setup.build_command(build_reference), env, workdir / "build-reference.log")
        report(f"uninterrupted corpus run: {build_s:.1f} s")
        result: dict = {"inputs": setup.inputs, "build_command": setup.build_command(Path("OUT")),
                        "build_reference_s": round(build_s, 1), "seed": seed, "trials": []}
        inputs = count_files(build_reference / "extracted" / "_done", "*.json")  # files, directories expanded
        if "build" in jobs:
            result["trials"] += [asdict(t) for t in kill_trials(
                "build", setup.build_command, lambda out: build_progress(out, inputs), build_reference,
                build_s, trials, seed, workdir, env, keep, report)]
        if "tokenize" in jobs:
            tokenizer_dir = workdir / "tokenizer"
            shutil.rmtree(tokenizer_dir, ignore_errors=True)
            run_to_completion(setup.train_tokenizer_command(build_reference / "corpus", tokenizer_dir), env,
                              workdir / "train-tokenizer.log")
            tokenizer = tokenizer_dir / "tokenizer.json"
            tokens_reference = workdir / "tokens-reference"
            shutil.rmtree(tokens_reference, ignore_errors=True)

            def command(out: Path) -> list[str]:
                return setup.tokenize_command(build_reference / "corpus", tokenizer, out)

            tokenize_s = run_to_completion(command(tokens_reference), env, workdir / "tokens-reference.log")
            report(f"uninterrupted tokenize run: {tokenize_s:.1f} s")
            result |= {"tokenize_command": command(Path("OUT/tokens")), "tokenize_reference_s": round(tokenize_s, 1)}
            result["trials"] += [asdict(t) for t in kill_trials(
                "tokenize", command, tokenize_progress, tokens_reference, tokenize_s, trials, seed, workdir, env,
                keep, report)]
        return result
    finally:
        shutil.rmtree(ray_tmp, ignore_errors=True)


def markdown_table(result: dict) -> str:
    lines = ["| job | trial | killed at s | processes killed | state at the kill | resume s | identical |",
             "|---|---:|---:|---:|---|---:|---|"]
    for t in result["trials"]:
        killed_at = f"{t['delay_s']:.1f}" if t["killed"] else f"({t['delay_s']:.1f}: ended first)"
        lines.append(f"| {t['job']} | {t['trial']} | {killed_at} | {t['processes_killed']} | {t['state_at_kill']} | "
                     f"{t['resume_s']:.1f} | {'yes' if t['identical'] else 'NO: ' + '; '.join(t['differences'][:3])} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--inputs", nargs="+", default=[str(ROOT / "sample_data" / "warc")])
    parser.add_argument("--config", default=str(ROOT / "configs" / "demo.toml"))
    parser.add_argument("--set", action="append", default=None, help="corpus config override (default: the demo "
                        "stages without quality, which needs a trained model)")
    parser.add_argument("--spark-conf", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--driver-java-options", default="", help="e.g. JIT flags for short runs")
    parser.add_argument("--tokenizer-config", default=str(ROOT / "configs" / "tokenizer.toml"))
    parser.add_argument("--tokenize-set", action="append", default=[])
    parser.add_argument("--trials", type=int, default=8, help="kill trials per job")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--jobs", nargs="+", choices=("build", "tokenize"), default=["build", "tokenize"])
    parser.add_argument("--workdir", default="/tmp/kill_trials")
    parser.add_argument("--keep", action="store_true", help="keep every trial's output folder")
    parser.add_argument("--json", help="write the measurements here")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    setup = Setup(Path(args.workdir).resolve(), [str(Path(p).resolve()) for p in args.inputs],
                  str(Path(args.config).resolve()), args.set if args.set is not None else [DEMO_STAGES_WITHOUT_QUALITY],
                  args.spark_conf, args.driver_java_options, str(Path(args.tokenizer_config).resolve()),
                  args.tokenize_set)
    result = run_all(setup, args.trials, args.seed, tuple(args.jobs), args.keep)
    print(markdown_table(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    failed = [t for t in result["trials"] if not t["identical"]]
    print(f"{len(result['trials']) - len(failed)} of {len(result['trials'])} trials resumed to identical output")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
