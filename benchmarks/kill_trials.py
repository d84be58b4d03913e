"""Crash and resume at the process level (issue 11): SIGKILL the corpus job and the tokenize job at random
points, rerun the same command to completion, and compare every output file with an uninterrupted run.

    python benchmarks/kill_trials.py --trials 8 --workdir /tmp/kill_trials --json benchmarks/results/kill_trials.json

What is killed: the job's whole process session. `spark-submit` is started as a session leader, so the
session holds the JVM, the Python driver, pyspark's daemon and workers and their extraction sandboxes; for
`tokenize_corpus.py` the driver, Ray's GCS, raylet and workers. pyspark's daemon (setpgid) and Ray's local
start (setpgrp) make process groups of their own, so a process-group kill would miss some; the session does
not. Every member is stopped first (SIGSTOP, repeated until no new process appears, so none can react or
fork), then SIGKILLed: all of the job's processes vanish at one instant, no shutdown hook, `finally` or
atexit runs (an OOM kill or a preempted node). The OS survives with its page cache, so this is not a power
loss test (the jobs do not fsync).

When: `random.Random(seed)` draws each delay uniformly over the uninterrupted run's wall time, so kills
land in every phase (JVM start, extraction, dedup, commit, stats; Ray start, encoding, packing, manifest).
On a shared machine a run can be faster than the reference was; one that ends before its delay is
recorded as not killed, shortens the window to its own time, and another delay is drawn (`kill_trials`).

Compared: the sha256 of every output file, with one documented exception, engine scratch whose *names*
Spark makes random: `_SUCCESS` and `.crc` files, and `dedup/decisions/input_part=<part>/part-<n>-<uuid>.parquet`
(a new uuid per write; the row order inside also follows Spark's shuffle). The decisions are compared by
content instead: per input part, the rows sorted by id must be equal. Everything else (corpus/, rejected/,
extracted/, dedup/_done.json, dedup/index/, stats/, every _done marker and _config.toml; all of tokens/)
must be byte-identical.
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent  # the venv's bin/: python, spark-submit
DEMO_STAGES_WITHOUT_QUALITY = "pipeline.stages=['extract','langid','url','heuristics','dedup','pii']"
DECISIONS_DIR = "dedup/decisions"
RUN_TIMEOUT_S = 1800


# ------------------------------------------------------------------------------------------ processes


def process_table() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, session id) of every process, read from /proc/<pid>/stat (Linux)."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path("/proc", entry, "stat").read_text()
        except OSError:  # the process ended between listdir and read
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) ": state, ppid, pgrp, session, ...
        table[int(entry)] = (int(fields[1]), int(fields[3]))
    return table


def session_members(leader: int, table: dict[int, tuple[int, int]]) -> set[int]:
    """The processes of `leader`'s session, plus any descendant that left it with setsid()."""
    members = {pid for pid, (_, session) in table.items() if session == leader}
    while True:
        children = {pid for pid, (parent, _) in table.items() if parent in members} - members
        if not children:
            return members
        members |= children


def kill_session(leader: int) -> int:
    """Freeze every process of the session with SIGSTOP (rescanning until no new one appears), then SIGKILL
    them all; returns how many processes were killed."""
    stopped: set[int] = set()
    while new := session_members(leader, process_table()) - stopped:
        for pid in new:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)
        stopped |= new
    for pid in stopped:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return len(stopped)


def log_tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def run_process(command: list[str], env: dict[str, str], log: Path, timeout_s: float = RUN_TIMEOUT_S,
                cwd: Path = ROOT) -> tuple[int, float]:
    """Run `command` in a session of its own to the end, output appended to `log`; returns (exit status,
    wall seconds). Kills the whole session and raises when it runs past `timeout_s`."""
    started = time.monotonic()
    with open(log, "ab") as sink:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=sink, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            returncode = process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            kill_session(process.pid)
            process.wait()
            raise RuntimeError(f"{command[:3]} ran past {timeout_s} s; log: {log}") from None
    return returncode, time.monotonic() - started


def run_to_completion(command: list[str], env: dict[str, str], log: Path, timeout_s: float = RUN_TIMEOUT_S,
                      cwd: Path = ROOT) -> float:
    """`run_process` that must succeed: returns the wall seconds, raises with the log's tail otherwise."""
    returncode, seconds = run_process(command, env, log, timeout_s, cwd)
    if returncode != 0:
        raise RuntimeError(f"{command[:3]} exited with {returncode}; log {log}:\n{log_tail(log)}")
    return seconds


@dataclass
class Kill:
    delay_s: float
    killed: bool  # False when the run ended before the delay (then it must have succeeded)
    processes_killed: int
    elapsed_s: float  # the delay when killed, else the run's whole wall time


def run_and_kill(command: list[str], env: dict[str, str], delay_s: float, log: Path) -> Kill:
    """Start `command` in a session of its own and kill the whole session after `delay_s` seconds."""
    started = time.monotonic()
    with open(log, "ab") as sink:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            returncode = process.wait(timeout=delay_s)
        except subprocess.TimeoutExpired:
            killed = kill_session(process.pid)
            process.wait()
            return Kill(delay_s, True, killed, delay_s)
    if returncode != 0:
        raise RuntimeError(f"{command[:3]} exited with {returncode} before the kill; log {log}:\n{log_tail(log)}")
    return Kill(delay_s, False, 0, time.monotonic() - started)


# ------------------------------------------------------------------------------------------ outputs


def is_engine_scratch(relative: str) -> bool:
    """Files whose names Spark makes random (see the module docstring); the decisions are compared by rows."""
    name = relative.rsplit("/", 1)[-1]
    return name == "_SUCCESS" or name.endswith(".crc") or relative.startswith(f"{DECISIONS_DIR}/")


def file_digests(root: Path) -> dict[str, str]:
    """sha256 of every file under root that is not engine scratch, by relative path."""
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not is_engine_scratch(path.relative_to(root).as_posix())
    }


def decision_digests(root: Path) -> dict[str, str]:
    """Per dedup/decisions/input_part=<part> folder: sha256 of its rows sorted by id, as canonical JSON."""
    import pyarrow.parquet as pq

    digests = {}
    folder = root / DECISIONS_DIR
    for part in sorted(folder.glob("input_part=*")) if folder.is_dir() else []:
        rows = pq.read_table(part).sort_by("id").to_pylist()
        digests[part.name] = hashlib.sha256(json.dumps(rows, sort_keys=True, default=str).encode()).hexdigest()
    return digests


def differences(reference: Path, trial: Path) -> list[str]:
    """What differs between two output trees: files by sha256, dedup decisions by rows."""
    found = []
    for kind, digests in (("file", file_digests), ("decisions", decision_digests)):
        want, have = digests(reference), digests(trial)
        found += [f"{kind} missing: {name}" for name in sorted(want.keys() - have.keys())]
        found += [f"{kind} extra: {name}" for name in sorted(have.keys() - want.keys())]
        found += [f"{kind} differs: {name}" for name in sorted(want.keys() & have.keys()) if want[name] != have[name]]
    return found


def count_files(folder: Path, pattern: str) -> int:
    return sum(1 for path in folder.glob(pattern) if path.is_file()) if folder.is_dir() else 0


def leftovers(out: Path) -> int:
    """Temporaries a killed run leaves: our `*.tmp-*` files and Spark's `_temporary` folders."""
    return sum(1 for path in out.rglob("*") if ".tmp-" in path.name or path.name == "_temporary") if out.is_dir() else 0


def build_progress(out: Path, inputs: int) -> str:
    """Where a corpus run stood when it was killed, from its markers."""
    return (f"extracted {count_files(out / 'extracted' / '_done', '*.json')}/{inputs}, "
            f"dedup {'done' if (out / 'dedup' / '_done.json').is_file() else '-'}, "
            f"committed {count_files(out / 'corpus' / '_done', '*.json')}/{inputs}, "
            f"summary {'yes' if (out / 'stats' / 'summary.json').is_file() else 'no'}, "
            f"{leftovers(out)} temporaries")


def tokenize_progress(out: Path) -> str:
    """Where a tokenize run stood when it was killed, from its markers."""
    return (f"parts encoded {count_files(out / '_parts' / '_done', '*.json')}, "
            f"shards packed {count_files(out / '_done', '*.json')}, "
            f"manifest {'yes' if (out / 'manifest.json').is_file() else 'no'}, {leftovers(out)} temporaries")


# ------------------------------------------------------------------------------------------ the jobs


@dataclass
class Setup:
    """Inputs, configs and environment of both jobs; every path absolute, so outputs name the same paths."""

    workdir: Path
    inputs: list[str]
    config: str = str(ROOT / "configs" / "demo.toml")
    sets: list[str] = field(default_factory=lambda: [DEMO_STAGES_WITHOUT_QUALITY])
    spark_confs: list[str] = field(default_factory=list)
    driver_java_options: str = ""  # one flag for them (spark.driver.extraJavaOptions would be overridden)
    tokenizer_config: str = str(ROOT / "configs" / "tokenizer.toml")
    tokenize_sets: list[str] = field(default_factory=list)

    def env(self, ray_tmp: Path) -> dict[str, str]:
        """The jobs' environment; Ray's temp dir is ours and RAY_ADDRESS is unset (the tokenize job would
        attach to the cluster it names), so its local instance never meets another one."""
        # TOKENIZERS_PARALLELISM: one thread per process, as tokenizer/ray_engine.py sets it in every task
        env = dict(os.environ, PYSPARK_PYTHON=sys.executable, PYSPARK_DRIVER_PYTHON=sys.executable,
                   SPARK_LOCAL_IP="127.0.0.1", RAY_TMPDIR=str(ray_tmp), TOKENIZERS_PARALLELISM="false")
        env.pop("RAY_ADDRESS", None)
        return env

    def build_command(self, out: Path) -> list[str]:
        confs = ["spark.ui.enabled=false", f"spark.local.dir={self.workdir / 'spark-local'}", *self.spark_confs]
        return [str(BIN / "spark-submit"), *[arg for conf in confs for arg in ("--conf", conf)],
                "--driver-java-options",
                f"{self.driver_java_options} -Dlog4j2.configurationFile=file:{ROOT}/configs/log4j2.properties".strip(),
                str(ROOT / "jobs" / "build_corpus.py"), "--input", *self.inputs, "--output", str(out),
                "--config", self.config, *[arg for value in self.sets for arg in ("--set", value)]]

    def train_tokenizer_command(self, corpus: Path, out: Path) -> list[str]:
        return [sys.executable, str(ROOT / "jobs" / "train_tokenizer.py"), "--input", str(corpus),
                "--output", str(out), "--config", self.tokenizer_config]

    def tokenize_command(self, corpus: Path, tokenizer: Path, out: Path) -> list[str]:
        return [sys.executable, str(ROOT / "jobs" / "tokenize_corpus.py"), "--input", str(corpus),
                "--tokenizer", str(tokenizer), "--output", str(out), "--config", self.tokenizer_config,
                *[arg for value in self.tokenize_sets for arg in ("--set", value)]]


@dataclass
class Trial:
    job: str
    trial: int
    delay_s: float
    killed: bool
    processes_killed: int
    state_at_kill: str
    resume_s: float
    identical: bool
    differences: list[str]


def kill_trials(job: str, command_for: Callable[[Path], list[str]], progress: Callable[[Path], str],
                reference: Path, reference_s: float, trials: int, seed: int, workdir: Path, env: dict[str, str],
                keep: bool = False, report: Callable[[str], None] = print) -> list[Trial]:
    """Runs into fresh folders, each killed after a seeded random delay, then rerun to completion and
    compared with `reference`, until `trials` runs were killed.

    Delays are uniform over the uninterrupted run's wall time: first `reference_s`, then the shortest
    uninterrupted run seen. A run that ends before its delay (the machine got faster than during the
    reference run; it is shared) is recorded with killed=False, shortens the window, and another delay is
    drawn, at most `trials` times."""
    rng = random.Random(f"{job}:{seed}")  # a str seed is hashed with sha512: the same draws on every machine
    window_s = reference_s
    results: list[Trial] = []
    for number in range(2 * trials):
        if sum(trial.killed for trial in results) == trials:
            break
        out = workdir / f"{job}-trial{number}"
        shutil.rmtree(out, ignore_errors=True)
        log = workdir / f"{job}-trial{number}.log"
        kill = run_and_kill(command_for(out), env, rng.uniform(0.0, 1.0) * window_s, log)
        if not kill.killed:
            window_s = min(window_s, kill.elapsed_s)
        state = progress(out) if kill.killed else f"finished before the kill, in {kill.elapsed_s:.1f} s"
        resume_s = run_to_completion(command_for(out), env, log)
        found = differences(reference, out)
        results.append(Trial(job, number, round(kill.delay_s, 1), kill.killed, kill.processes_killed, state,
                             round(resume_s, 1), not found, found))
        report(f"{job} trial {number}: killed at {kill.delay_s:.1f} s ({kill.processes_killed} processes; {state}); "
               f"resumed in {resume_s:.1f} s; {'identical' if not found else 'DIFFERS: ' + '; '.join(found[:5])}")
        if not keep:
            shutil.rmtree(out, ignore_errors=True)
    return results


def short_temp_dir(prefix: str) -> Path:
    """A directory under /tmp with a short path: Ray's socket paths must fit in 107 bytes."""
    return Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))


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
