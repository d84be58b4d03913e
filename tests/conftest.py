"""Shared fixtures: one local Spark session and one local Ray per test run, and WARC files under tmp_path.
The record builders they are made of are in testkit/records.py (shared with the benchmarks)."""
from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import pytest

from testkit.warc_writer import write_warc

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_WARCS = ROOT / "sample_data" / "warc"


def file_digests(root: Path) -> dict[str, str]:
    """sha256 of every file under root, by relative path (engine scratch included, unlike
    testkit.kill_trials.file_digests): two runs of a job in one process must agree on every byte."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*")) if path.is_file()
    }


@pytest.fixture(scope="session")
def spark():
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]").appName("tests")
        .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.log.level", "ERROR").getOrCreate()
    )
    yield session
    session.stop()


def start_local_ray(num_cpus: int = 2) -> None:
    """Start a Ray of this process's own (no dashboard). `address="local"`: ray.init() without an address
    attaches to whatever cluster RAY_ADDRESS names, so a variable left in a shell would run the tests there."""
    import ray

    ray.init(address="local", num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)
    ray.data.DataContext.get_current().enable_progress_bars = False


@pytest.fixture(scope="session")
def ray_local():
    """One local Ray for the whole test run (2 CPUs), started on first use."""
    ray = pytest.importorskip("ray")
    start_local_ray()
    yield ray
    ray.shutdown()


@pytest.fixture
def make_warc(tmp_path):
    """make_warc(records, name=..., compress=True) -> path of a WARC file under tmp_path."""
    def make(records: list[bytes], name: str = "test.warc.gz", compress: bool = True) -> str:
        return str(write_warc(tmp_path / name, records, compress=compress))
    return make
