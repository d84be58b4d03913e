"""The local-mode JVM's options, and the class-data-sharing archive that makes its start cheap.

In local mode one JVM is driver and executor, and with every file read and written by the Python tasks
(pipeline/spark/files.py) it only schedules: its CPU is startup, not work. Measured on the corpus job
(benchmarks/RESULTS.md, "Startup cost (issue 22)"), most of that startup is the JIT compiling Spark's
planner and scheduler (C2 threads) and loading and verifying its ~20,000 classes. Hence, for local mode only:
- `-XX:+UseSerialGC`: no parallel GC threads fighting the Python workers for a few cores;
- the C2 compiler's thresholds 10x HotSpot's: code that runs for the job's start, not its work, stays with
  C1 (startup CPU ~8 -> ~6 s of the JVM on the sample), while the work's hot loops still reach C2. C1 alone
  (`-XX:TieredStopAtLevel=1`) starts cheaper still (~4 s) but costs 1.7x the CPU on JVM-heavy work such as
  dedup's joins and connected components (a groupBy and a window over 30M rows: 34 s tiered, 59 s C1 only,
  31 s with these thresholds; benchmarks/RESULTS.md, "Startup cost (issue 22)");
- `-XX:SharedArchiveFile=<venv>/spark-cds.jsa` when it exists: the classes of a corpus job, parsed and
  verified once at install (`python -m pipeline.spark.jvm --build-archive`, run by `make install`). The
  archive belongs to one JVM build and one set of Spark jars; a JVM that does not match it, or finds no
  file, warns (or not) and starts without it, so a stale archive costs time, never a run.

A cluster's JVMs are left alone: an executor starts once for hours of work, and the archive is this machine's.
    spark-submit --driver-java-options "$(python -m pipeline.spark.jvm)" jobs/build_corpus.py ...
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ARCHIVE = Path(sys.prefix) / "spark-cds.jsa"  # in the virtual environment that holds the Spark jars
LOG4J_OPTION = f"-Dlog4j2.configurationFile=file:{ROOT / 'configs' / 'log4j2.properties'}"
LOCAL_OPTIONS = ("-XX:+UseSerialGC", "-XX:Tier4InvocationThreshold=50000", "-XX:Tier4MinInvocationThreshold=6000",
                 "-XX:Tier4CompileThreshold=150000", "-XX:Tier4BackEdgeThreshold=400000")


def local_java_options(archive: Path = ARCHIVE) -> str:
    """The driver JVM options of a local-mode run: LOCAL_OPTIONS, and the class archive where one was built."""
    return " ".join([*LOCAL_OPTIONS, *([f"-XX:SharedArchiveFile={archive}"] if archive.is_file() else [])])


def build_archive(archive: Path = ARCHIVE) -> None:
    """Run the corpus job once on sample_data/ (every default stage, dedup's joins included) with the JVM
    writing the classes it loaded to `archive` at exit; written beside it and renamed, so a failed run
    leaves no half archive."""
    partial = archive.with_name(archive.name + ".partial")
    partial.unlink(missing_ok=True)
    spark_submit = Path(sys.executable).parent / "spark-submit"
    with tempfile.TemporaryDirectory(prefix="spark-cds-") as output:
        java_options = [*LOCAL_OPTIONS, f"-XX:ArchiveClassesAtExit={partial}", LOG4J_OPTION]
        command = [str(spark_submit), "--master", "local[2]", "--conf", "spark.ui.enabled=false",
                   "--driver-java-options", " ".join(java_options),
                   str(ROOT / "jobs" / "build_corpus.py"), "--input", str(ROOT / "sample_data" / "warc"),
                   "--output", str(Path(output) / "out")]
        env = dict(os.environ, PYSPARK_PYTHON=sys.executable, PYSPARK_DRIVER_PYTHON=sys.executable)
        run = subprocess.run(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if run.returncode != 0 or not partial.is_file():
        raise RuntimeError(f"the archive's run exited {run.returncode} and wrote {'an' if partial.is_file() else 'no'} "
                           f"archive to {partial}:\n{run.stdout[-3000:]}")
    partial.replace(archive)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build-archive", action="store_true", help=f"(re)build {ARCHIVE}")
    args = parser.parse_args()
    if args.build_archive:
        build_archive()
        print(f"class archive: {ARCHIVE} ({ARCHIVE.stat().st_size / 1e6:.0f} MB)")
    else:
        print(local_java_options())


if __name__ == "__main__":
    main()
