"""Startup cost of the corpus job (issue 22): what the driver and each Python worker spend before the first
record, in CPU seconds (CPU, not wall: the machine is shared, and wall time there says little).

Two measurements, each in fresh child processes, the least of `--repeat` runs per number:
- steps (`--probe`, one child process that is what `jobs/build_corpus.py` is up to its first record): the
  driver's imports (`import jobs.build_corpus`), its stage build (config + `build_stages`, which checks models
  and lists), the Spark session start (the JVM and the driver's Python), then the extract step of the job
  (`map_inputs` with `adopt_stages` + `extract_unit`, as `pipeline.spark.job.build_corpus` runs it) twice on
  two inputs of one response each: the first run is the JVM's first job plus every Python process's start,
  the second the same work warm, so first minus second is startup. CPU of the process tree is split by
  kind: the driver's Python, the JVM, pyspark daemons, pyspark workers (with their extraction sandbox
  children). Inside each task the worker reports its CPU at the task's entry (fork -> `pyspark.worker`
  import -> unpickling the task, which imports the project's modules) and what the first input cost it.
- job: `spark-submit --master local[2] jobs/build_corpus.py` (flags as benchmarks/end_to_end.py's runs) on
  the same two inputs, whole-tree CPU (getrusage, exact) and end_to_end.py's phases from Spark's event log
  (startup = process start to the first job; CPU per phase from 0.2 s /proc samples, approximate).

Configs: "fineweb" is end_to_end.py's stage set (the issue's measurement); "all" adds the PII stage (on by
default) with a page that has an e-mail address, so each worker builds presidio.

`--root TREE` measures another checkout of the project (e.g. `git worktree add /tmp/before HEAD`) with this
script; `--java-options` adds driver JVM options (as `--driver-java-options` / `spark.driver.extraJavaOptions`).

    .venv/bin/python benchmarks/startup.py --label before --root /tmp/before --repeat 3
    .venv/bin/python benchmarks/startup.py --label after --repeat 3
    .venv/bin/python benchmarks/startup.py --render   # RESULTS.md section from benchmarks/results/startup.json
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS_JSON = ROOT / "benchmarks" / "results" / "startup.json"
RESULTS_MD = ROOT / "benchmarks" / "RESULTS.md"
SECTION_TITLE = "## Startup cost (issue 22)"
FINEWEB = ["pipeline.stages=['extract','langid','url','heuristics']", "heuristics.badwords.enabled=false",
           "heuristics.c4.require_terminal_punct=false"]  # benchmarks/end_to_end.py's PROJECT_SETTINGS
CONFIGS = {"fineweb": FINEWEB, "all": ["pipeline.stages=['extract','langid','url','heuristics','pii']"]}
LOG4J = f"-Dlog4j2.configurationFile=file:{ROOT / 'configs' / 'log4j2.properties'}"
KINDS = ("driver", "jvm", "daemon", "worker")
DAEMON = re.compile(r" -m \S*daemon ")  # `python -m pyspark.daemon pyspark.worker`, or spark.python.daemon.module


# ------------------------------------------------------------------------------------------ input


def write_inputs(folder: Path) -> list[str]:
    """Four WARCs of one English article each (sample_data/reference/en-0*.txt with an e-mail address added, so
    that the PII stage builds presidio): two inputs for the first job, two for the warm one."""
    sys.path.insert(0, str(ROOT))
    from testkit.records import info, response
    from testkit.warc_writer import write_warc

    paths = []
    for i, text in enumerate(sorted((ROOT / "sample_data" / "reference").glob("en-0*.txt"))[:4]):
        paragraphs = [p for p in text.read_text(encoding="utf-8").split("\n\n") if p.strip()]
        paragraphs.append("Questions go to the club secretary at jane.doe@example.com before the spring meeting.")
        page = ("<html><head><title>Notes</title></head><body><article>"
                + "".join(f"<p>{p}</p>" for p in paragraphs) + "</article></body></html>")
        paths.append(str(write_warc(folder / f"input-{i}.warc.gz", [info(), response(f"page-{i}", page)])))
    return paths


# ------------------------------------------------------------------------------------------ probe (child)


def tree_cpu_by_kind() -> dict[str, float]:
    """CPU seconds so far of this process's tree by kind (KINDS): utime + stime + reaped children's, per process.
    A pyspark daemon is the JVM's child; a worker is forked by a daemon, and its children (the extraction
    sandbox) count as worker too."""
    from benchmarks.measure import CLOCK_TICKS, _read, descendants, proc_stat

    driver = os.getpid()
    stats = {pid: fields for pid in [driver, *descendants(driver)] if (fields := proc_stat(pid)) is not None}
    kinds: dict[int, str] = {}

    def kind(pid: int) -> str:
        if pid not in kinds:
            command = (_read(f"/proc/{pid}/cmdline") or "").replace("\0", " ")
            parent = int(stats[pid][1]) if pid in stats else 0
            parent_kind = kind(parent) if parent in stats and pid != driver else ""
            if pid == driver:
                kinds[pid] = "driver"
            elif command.split(" ")[0].endswith("java"):
                kinds[pid] = "jvm"
            elif parent_kind in ("daemon", "worker"):
                kinds[pid] = "worker"
            elif DAEMON.search(command):
                kinds[pid] = "daemon"
            else:
                kinds[pid] = parent_kind or "driver"
        return kinds[pid]

    totals = dict.fromkeys(KINDS, 0.0)
    for pid, fields in stats.items():
        totals[kind(pid)] += sum(int(value) for value in fields[11:15]) / CLOCK_TICKS
    return totals


def probe(config_name: str, inputs: list[str], output: str) -> dict[str, Any]:
    """The driver's steps up to the first records, in this process (run from the measured tree)."""
    steps: dict[str, Any] = {"interpreter": time.process_time()}
    start = time.process_time()
    import jobs.build_corpus  # noqa: F401  (what spark-submit's Python runs first)
    steps["driver import"] = time.process_time() - start

    from pipeline.config import load_config
    from pipeline.corpus import CORPUS, EXTRACTED, REJECTED, STATS, adopt_stages, build_stages, extract_unit
    from pipeline.outputs import OutputDir
    from pipeline.spark.job import map_inputs, spark_session

    start = time.process_time()
    config = load_config(None, CONFIGS[config_name])
    stages = build_stages(config)
    steps["driver stage build"] = time.process_time() - start

    before = tree_cpu_by_kind()
    spark = spark_session("build_corpus")
    after = tree_cpu_by_kind()
    steps["session"] = {kind: after[kind] - before[kind] for kind in KINDS}
    out = OutputDir(output)
    out.claim(config, (EXTRACTED, CORPUS, REJECTED, STATS))

    def unit(path: str) -> dict[str, Any]:
        from benchmarks.measure import live_children_cpu_seconds

        entry_s = time.process_time()  # a forked worker's CPU starts at 0: this is its start + unpickling
        adopt_stages(config, stages)
        manifest = extract_unit(out, path, config)
        return {"pid": os.getpid(), "entry_cpu_s": entry_s, "task_cpu_s": time.process_time() - entry_s,
                "children_cpu_s": live_children_cpu_seconds(), "rows": manifest["rows_written"]}

    for name, paths in (("first job", inputs[:2]), ("warm job", inputs[2:])):
        before = tree_cpu_by_kind()
        manifests = map_inputs(spark, paths, unit)
        after = tree_cpu_by_kind()
        steps[name] = {kind: after[kind] - before[kind] for kind in KINDS} | {"tasks": manifests}
    spark.stop()
    return steps


# ------------------------------------------------------------------------------------------ parent


def child_env(root: Path, java_options: str) -> dict[str, str]:
    python = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv").exists() else sys.executable
    submit = ["--master", "local[2]", "--conf", "spark.ui.enabled=false",
              "--conf", f"spark.executorEnv.PYTHONPATH={root}",  # the workers import the measured tree's code
              "--driver-java-options", f"{LOG4J} {java_options}".strip(), "pyspark-shell"]
    return dict(os.environ, PYSPARK_PYTHON=python, PYSPARK_DRIVER_PYTHON=python, SPARK_LOCAL_IP="127.0.0.1",
                PYTHONPATH=str(root), PYSPARK_SUBMIT_ARGS=shlex.join(submit))


def run_probe(root: Path, config_name: str, inputs: list[str], work: Path, java_options: str) -> dict[str, Any]:
    output = work / "probe-out"
    shutil.rmtree(output, ignore_errors=True)
    command = [sys.executable, str(Path(__file__).resolve()), "--probe", config_name, "--root", str(root),
               "--output", str(output), "--inputs", *inputs]
    from benchmarks.measure import TreeCpu

    with TreeCpu("startup-probe") as tree:
        result = subprocess.run(command, env=child_env(root, java_options), cwd=root, capture_output=True,
                                text=True, preexec_fn=tree.preexec_fn)
    if result.returncode != 0:
        raise RuntimeError(f"probe failed:\n{result.stderr[-3000:]}")
    steps = json.loads(result.stdout.strip().splitlines()[-1])
    steps["probe process tree"] = tree.cpu_s  # the pyspark workers the daemon leaves to the kernel included
    return steps


def run_job(root: Path, inputs: list[str], work: Path, java_options: str) -> dict[str, Any]:
    """spark-submit of the tree's jobs/build_corpus.py on the first two inputs; phases as end_to_end.py's."""
    from benchmarks.end_to_end import is_spark_task, project_phases, spark_jobs, spark_submit
    from benchmarks.measure import TreeCpu, TreeSampler

    output, event_log, folder = work / "job-out", work / "eventlog", work / "job-in"
    for path in (output, event_log, folder):
        shutil.rmtree(path, ignore_errors=True)
    event_log.mkdir()
    folder.mkdir()
    for path in inputs[:2]:
        shutil.copy(path, folder)
    command = [spark_submit(), "--master", "local[2]", "--conf", "spark.ui.enabled=false",
               "--conf", f"spark.executorEnv.PYTHONPATH={root}",  # the workers import the measured tree's code
               "--conf", "spark.eventLog.enabled=true", "--conf", f"spark.eventLog.dir=file://{event_log}",
               "--conf", "spark.eventLog.compress=false", "--driver-java-options", f"{LOG4J} {java_options}".strip(),
               str(root / "jobs" / "build_corpus.py"), "--input", str(folder), "--output", str(output)]
    command += [arg for setting in FINEWEB for arg in ("--set", setting)]
    env = child_env(root, java_options)
    env.pop("PYSPARK_SUBMIT_ARGS")
    start_s = time.time()
    # run from the tree: a pyspark daemon puts its cwd first on sys.path
    with TreeCpu("startup-job") as tree, open(work / "job.log", "w") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root,
                                   preexec_fn=tree.preexec_fn)
        with TreeSampler(process.pid, is_spark_task) as monitor:
            code = process.wait()
        end_s = time.time()
    if code != 0:
        raise RuntimeError(f"{shlex.join(command)} exited {code}:\n{(work / 'job.log').read_text()[-3000:]}")
    phases = project_phases(spark_jobs(event_log), start_s, end_s)
    return {"cpu_s": tree.cpu_s, "cpu_method": tree.method, "wall_s": end_s - start_s,
            "phases": {name: monitor.window(start, end)["cpu_s_approx"] for name, (start, end) in phases.items()}}


def least(runs: list[Any]) -> Any:
    """Element-wise least over runs of equal shape (numbers, dicts of numbers); lists: the first run's."""
    first = runs[0]
    if isinstance(first, dict):
        return {key: least([run[key] for run in runs]) for key in first}
    if isinstance(first, (int, float)) and not isinstance(first, bool):
        return min(runs)
    return first


def measure(root: Path, java_options: str, repeat: int, skip_job: bool) -> dict[str, Any]:
    from benchmarks.measure import become_child_subreaper, loadavg

    become_child_subreaper()  # the JVM's orphaned pyspark daemons are reaped, and counted, here
    with tempfile.TemporaryDirectory(prefix="startup-") as tmp:
        work = Path(tmp)
        inputs = write_inputs(work / "inputs")
        report: dict[str, Any] = {"root": str(root), "java_options": java_options, "repeat": repeat,
                                  "loadavg_before": loadavg()}
        for config_name in CONFIGS:
            runs = [run_probe(root, config_name, inputs, work, java_options) for _ in range(repeat)]
            report[f"steps {config_name}"] = least(runs)
        if not skip_job:
            report["job fineweb"] = least([run_job(root, inputs, work, java_options) for _ in range(repeat)])
        report["loadavg_after"] = loadavg()
    return report


# ------------------------------------------------------------------------------------------ report


def workers_line(tasks: list[dict[str, Any]]) -> str:
    return "; ".join(f"entry {t['entry_cpu_s']:.2f} s, first input {t['task_cpu_s']:.2f} s + sandbox "
                     f"{t['children_cpu_s']:.2f} s" for t in tasks)


def startup_cpu_s(steps: dict[str, Any]) -> float:
    """What the run spends before its first records: the driver's steps, the session, and what the first job
    costs over the same job warm."""
    def total(step: str) -> float:
        return sum(steps[step][kind] for kind in KINDS)

    return (steps["driver import"] + steps["driver stage build"] + total("session") + total("first job")
            - total("warm job"))


LABELS = {  # what each measured tree is (the labels used for this section's runs)
    "before": "HEAD 06aef4c, unchanged (`git worktree add /tmp/c_before HEAD`)",
    "after": "this change: presidio imported without transformers and torch, the quality model checked from its "
             "header on the driver (the working tree at 11:10, with other in-progress work: its job has no stats "
             "phase)",
    "proposed": "after (a copy at 10:33, before the stats rewrite) + the proposed pipeline/spark/job.py diff "
                "(map_inputs from `spark.range`, no Python RDD) and the serial collector for the local driver JVM "
                "(`--java-options -XX:+UseSerialGC`, as the Makefile's `--driver-java-options` would give it)",
    "proposed+cds": "proposed + a class-data-sharing archive of the JVM's classes (`-XX:SharedArchiveFile`, made "
                    "once by a run with `-XX:ArchiveClassesAtExit`)",
    "c1+cds": "proposed+cds with C1 only (`-XX:TieredStopAtLevel=1`): rejected, see the JVM-heavy check",
    "adopted": "the local JVM options now given to every local run (`python -m pipeline.spark.jvm`: serial "
               "collector, C2 thresholds 10x, the class archive `make install` builds in the venv), whole-tree "
               "CPU from a cgroup",
}
JVM_HEAVY_ROWS = 30_000_000
FINDINGS = """Where the startup goes (fineweb, before): the driver JVM is ~17 of ~22 CPU s (its C2 compiler threads
alone ~8 s, then class loading and verification), Python ~5 s: two pyspark daemons and four workers (map_inputs
builds its DataFrame from a Python RDD, whose rows go through a daemon and workers of their own beside the
mapInArrow ones), each worker ~0.6 s to its task (pyspark.worker, pyarrow, pandas, the project's modules) and
~0.5 s on its first input (the heuristics' Unicode classes, pyarrow's pandas import, the lid.176 load) plus
~0.3-0.4 s for its extraction sandbox. The driver's Python is small: import 0.4-0.5 s, stage build 0.00-0.02 s.
With the PII stage ("all") each worker built presidio for 4.7 s (importing transformers and torch it never
uses); after this change 1.4 s. The quality model is no longer loaded on the driver (its labels are read from
the file's dictionary; DCLM's classifier is gigabytes). C1 only (`-XX:TieredStopAtLevel=1`) saves a further
~3 s of startup but costs 1.4x the CPU on JVM-heavy work (table above; 1.9x in an earlier run; dedup's connected
components are such work), so it is not proposed; the serial collector costs nothing there. Class-data sharing
has no steady-state cost.

Adopted (pipeline/spark/jvm.py, label "adopted"): the serial collector, the class archive (built by `make
install`: ~170 MB, ~35 s) and the C2 compiler's thresholds at 10x HotSpot's defaults
(`-XX:Tier4InvocationThreshold=50000 -XX:Tier4MinInvocationThreshold=6000 -XX:Tier4CompileThreshold=150000
-XX:Tier4BackEdgeThreshold=400000`): code that only runs at start stays with C1, the hot loops of JVM work still
reach C2. On the JVM-heavy check (table above, all three with the archive) that costs nothing (30.7 CPU s
against 34.2 tiered), where C1 alone took 58.7; on the sample's corpus job the JVM took 8.3 CPU s tiered, 5.6
with these thresholds, 4.1 C1 alone (one run each, /proc samples of the JVM). The probe process tree and the
job totals of the runs before "adopted" were measured with getrusage, which misses the pyspark workers (see
the job table): compare the "adopted" totals with the phase sums, not with those totals."""


def jvm_heavy() -> dict[str, float]:
    """CPU of the Spark tree for a JVM-only workload (a groupBy and a window over JVM_HEAVY_ROWS generated rows,
    the kind of work dedup's connected components do) after a warm-up job: the steady-state cost of JVM options
    that save startup."""
    from pyspark.sql import SparkSession, Window
    from pyspark.sql import functions as F

    builder = SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
    builder = builder.config("spark.sql.shuffle.partitions", "4").config("spark.log.level", "WARN")
    spark = builder.getOrCreate()  # the JVM options come with PYSPARK_SUBMIT_ARGS (child_env)
    spark.range(1000).count()  # the session's and first job's startup are not what is measured here
    before, start = sum(tree_cpu_by_kind().values()), time.time()
    rows = spark.range(JVM_HEAVY_ROWS).select((F.col("id") % 100_003).alias("k"),
                                              (F.col("id") * 7 % 1_000_003).alias("v"))
    groups = rows.groupBy("k").agg(F.min("v"), F.max("v"), F.count("*")).count()
    above = rows.withColumn("m", F.min("v").over(Window.partitionBy("k"))).where(F.col("v") > F.col("m")).count()
    result = {"cpu_s": sum(tree_cpu_by_kind().values()) - before, "wall_s": time.time() - start,
              "groups": groups, "above_min": above}
    spark.stop()
    return result


def render(results: dict[str, Any]) -> str:
    labels = [label for label in LABELS if label in results]
    labels += [label for label in results if label not in LABELS and label != "jvm heavy"]
    lines = [SECTION_TITLE, "", "CPU seconds, the least of the runs (`--repeat`), 2-core machine shared with other "
             "work (load averages before/after each measurement below: CPU seconds grow on a loaded machine, so "
             "compare runs of similar load). Runs and commands:", ""]
    lines += [f"- {label}: {LABELS.get(label, '')} (load {results[label]['loadavg_before'][0]:.1f}/"
              f"{results[label]['loadavg_after'][0]:.1f}): `{results[label]['command']}`" for label in labels]
    lines += ["", "Steps of the driver up to its first records (`--probe`; tree CPU split by process kind):", "",
              "| step | " + " | ".join(f"{label} {config}" for label in labels for config in CONFIGS) + " |",
              "|---|" + "---|" * (len(labels) * len(CONFIGS))]

    def cell(steps: dict[str, Any], step: str) -> str:
        value = steps[step]
        if isinstance(value, dict):
            parts = [f"{kind} {value[kind]:.2f}" for kind in KINDS if value[kind] >= 0.005]
            return f"**{sum(value[kind] for kind in KINDS):.2f}** ({', '.join(parts)})"
        return f"{value:.2f}"

    for step in ("interpreter", "driver import", "driver stage build", "session", "first job", "warm job",
                 "probe process tree"):
        lines.append(f"| {step} | " + " | ".join(cell(results[label][f"steps {config}"], step)
                                                 for label in labels for config in CONFIGS) + " |")
    lines += ["", "Startup up to the first records = driver import + stage build + session + (first job - warm job), "
                  "whole tree:", "", "| run | " + " | ".join(CONFIGS) + " |", "|---|" + "---|" * len(CONFIGS)]
    for label in labels:
        lines.append(f"| {label} | " + " | ".join(f"{startup_cpu_s(results[label][f'steps {config}']):.1f}"
                                                  for config in CONFIGS) + " |")
    lines += ["", "Per worker in the first job (CPU at the task's entry = fork, `pyspark.worker`, unpickling the "
                  "task and the project imports it pulls; then the first input with its model loads; the "
                  "extraction sandbox child):", ""]
    for label in labels:
        for config in CONFIGS:
            lines.append(f"- {label} {config}: {workers_line(results[label][f'steps {config}']['first job']['tasks'])}")
    if "jvm heavy" in results:
        lines += ["", f"Steady state of the JVM options (`{results['jvm heavy']['command']}`): a JVM-only groupBy and "
                      f"window over {JVM_HEAVY_ROWS:,} generated rows after a warm-up job, CPU of the Spark tree:", "",
                  "| driver JVM options | CPU s | wall s |", "|---|---|---|"]
        lines += [f"| `{run['java_options'] or '(none)'}` | {run['cpu_s']:.1f} | {run['wall_s']:.1f} |"
                  for run in results["jvm heavy"]["runs"]]
    lines += ["", FINDINGS]
    jobs = [label for label in labels if "job fineweb" in results[label]]
    if jobs:
        order = ("startup", "read+extract+filters", "dedup", "commit", "stats", "shutdown")
        phases = [p for p in order if any(p in results[label]["job fineweb"]["phases"] for label in jobs)]
        lines += ["", "Whole job (`spark-submit` of jobs/build_corpus.py, fineweb stages, the two inputs): total CPU "
                      "and phase CPU (approximate, /proc samples). The total's method: `cgroup` counts every process "
                      "of the run; `getrusage` (the runs before the cgroup measure) misses the pyspark workers, which "
                      "their daemon leaves to the kernel to reap (it ignores SIGCHLD), so it reads low:", "",
                  "| run | total CPU s (method) | " + " | ".join(phases) + " |", "|---|---|" + "---|" * len(phases)]
        for label in jobs:
            job = results[label]["job fineweb"]
            lines.append(f"| {label} | {job['cpu_s']:.1f} ({job.get('cpu_method', 'getrusage')}) | "
                         + " | ".join(f"{job['phases'].get(p, 0):.1f}" for p in phases) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout of the project to measure")
    parser.add_argument("--label", help="name of this measurement in benchmarks/results/startup.json")
    parser.add_argument("--java-options", default="", help="extra driver JVM options")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-job", action="store_true", help="steps only, no spark-submit run")
    parser.add_argument("--render", action="store_true", help="write the RESULTS.md section from the saved runs")
    parser.add_argument("--jvm-heavy", nargs="+", metavar="OPTIONS",
                        help="steady-state check: the JVM-only workload once per driver JVM option set ('' = none)")
    parser.add_argument("--jvm-heavy-child", help=argparse.SUPPRESS)
    parser.add_argument("--probe", choices=CONFIGS, help=argparse.SUPPRESS)
    parser.add_argument("--output", help=argparse.SUPPRESS)
    parser.add_argument("--inputs", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.jvm_heavy_child is not None:
        sys.path.insert(0, str(ROOT))
        print(json.dumps(jvm_heavy()))
        return 0
    if args.probe:
        sys.path.insert(0, str(args.root.resolve()))
        print(json.dumps(probe(args.probe, args.inputs, args.output)))
        return 0
    sys.path.insert(0, str(ROOT))
    from benchmarks.measure import write_section

    results = json.loads(RESULTS_JSON.read_text()) if RESULTS_JSON.exists() else {}
    if args.label:
        report = measure(args.root.resolve(), args.java_options, args.repeat, args.no_job)
        report["command"] = ".venv/bin/python benchmarks/startup.py " + shlex.join(
            (argv if argv is not None else sys.argv[1:]))
        results[args.label] = report
        RESULTS_JSON.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
        print(json.dumps(report, indent=1))
    if args.jvm_heavy:
        checks = []
        for options in (options.strip() for options in args.jvm_heavy):  # " -XX:..." gets an option past argparse
            command = [sys.executable, str(Path(__file__).resolve()), f"--jvm-heavy-child={options}"]
            done = subprocess.run(command, env=child_env(ROOT, options), cwd=ROOT, capture_output=True, text=True,
                                  check=True)
            checks.append({"java_options": options} | json.loads(done.stdout.strip().splitlines()[-1]))
            print(checks[-1])
        results["jvm heavy"] = {"command": ".venv/bin/python benchmarks/startup.py " + shlex.join(
            argv if argv is not None else sys.argv[1:]), "runs": checks}
        RESULTS_JSON.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    if args.render:
        write_section(RESULTS_MD, render(results), SECTION_TITLE)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
