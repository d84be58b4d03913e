"""Kill trials (issue 11): runs of a job killed at seeded random points (testkit/processes.py), each rerun
to completion and compared file by file with an uninterrupted run; the inputs, configs and commands of both
jobs (`Setup`). benchmarks/kill_trials.py runs them on the sample data; tests/test_reliability.py on two small
files.

When: `random.Random(seed)` draws each delay uniformly over the uninterrupted run's wall time, so kills
land in every phase (JVM start, extraction, dedup, commit, stats; Ray start, encoding, packing, manifest).
On a shared machine a run can be faster than the reference was; one that ends before its delay is
recorded as not killed, shortens the window to its own time, and another delay is drawn (`kill_trials`).

Compared: the sha256 of every output file (corpus/, rejected/, extracted/, dedup/ with its per-part decisions
and index, stats/ with the per-part counts, every marker and _config.toml; all of tokens/): every byte must be
the uninterrupted run's. Spark writes no file itself (pipeline/spark/files.py), so no name is random.
"""
from __future__ import annotations

import hashlib
import os
import random
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from testkit.processes import ROOT, run_and_kill, run_to_completion

BIN = Path(sys.executable).parent  # the venv's bin/: python, spark-submit
DEMO_STAGES_WITHOUT_QUALITY = "pipeline.stages=['extract','optout','langid','url','heuristics','dedup','pii']"


# ------------------------------------------------------------------------------------------ outputs


def file_digests(root: Path) -> dict[str, str]:
    """sha256 of every file under root, by relative path."""
    return {path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(root.rglob("*")) if path.is_file()}


def differences(reference: Path, trial: Path) -> list[str]:
    """What differs between two output trees, file by file (sha256)."""
    want, have = file_digests(reference), file_digests(trial)
    return ([f"file missing: {name}" for name in sorted(want.keys() - have.keys())]
            + [f"file extra: {name}" for name in sorted(have.keys() - want.keys())]
            + [f"file differs: {name}" for name in sorted(want.keys() & have.keys()) if want[name] != have[name]])


def count_files(folder: Path, pattern: str) -> int:
    return sum(1 for path in folder.glob(pattern) if path.is_file()) if folder.is_dir() else 0


def leftovers(out: Path) -> int:
    """Temporaries a killed run leaves: our `*.tmp-*` files and Spark's `_temporary` folders."""
    return sum(1 for path in out.rglob("*") if ".tmp-" in path.name or path.name == "_temporary") if out.is_dir() else 0


def build_progress(out: Path, inputs: int) -> str:
    """Where a corpus run stood when it was killed, from its markers."""
    return (f"extracted {count_files(out / 'extracted' / '_done', '*.json')}/{inputs}, "
            f"dedup {'done' if (out / 'dedup' / '_done.json').is_file() else '-'}, "
            f"committed {count_files(out / 'stats' / 'parts', '*.json')}/{inputs}, "
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
