"""Shared fixtures: one local Spark session and one local Ray per test run, and WARC files under tmp_path.
The record builders they are made of are in testkit/records.py (shared with the benchmarks)."""
from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import pytest

from testkit.s3 import free_port, s3_environment, start_s3_server
from testkit.warc_writer import write_warc

# S3 (tests/test_s3.py): the endpoint and credentials are set now, before Spark or Ray start, because their
# workers inherit this process's environment once, when they start. Harmless when no server runs: no test
# reaches real S3, and the server starts on this port only when a test asks for `s3_server`. Test modules
# import this file a second time as `tests.conftest`: the port chosen first is kept (S3_PORT_VARIABLE).
S3_PORT_VARIABLE = "CORPUS_PIPELINE_TEST_S3_PORT"
S3_PORT = int(os.environ.get(S3_PORT_VARIABLE) or free_port())
os.environ.update(s3_environment(S3_PORT), **{S3_PORT_VARIABLE: str(S3_PORT)})

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_WARCS = ROOT / "sample_data" / "warc"


def file_digests(root: Path) -> dict[str, str]:
    """sha256 of every file under root, by relative path: two runs of a job must agree on every byte."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*")) if path.is_file()
    }


@pytest.fixture(scope="session")
def spark():
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    from pipeline.spark.jvm import local_java_options

    session = (
        SparkSession.builder.master("local[2]").appName("tests")
        .config("spark.driver.extraJavaOptions", local_java_options())  # as spark_session() starts a local JVM
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


@pytest.fixture(scope="session")
def s3_server():
    """An S3-compatible server (moto) on 127.0.0.1:S3_PORT for the whole run, started on first use."""
    server = start_s3_server(S3_PORT)
    yield server
    server.stop()


@pytest.fixture
def s3_bucket(s3_server) -> str:
    """A fresh, empty bucket on the loopback S3 server: its `s3://NAME` URI."""
    return s3_server.create_bucket()


def read_corpus(out: Path):
    """The kept rows of a corpus run: OUT/corpus/ also holds the dataset card (README.md), which a bare
    `pq.read_table` of the folder would take for a Parquet file."""
    import pyarrow.parquet as pq

    return pq.read_table(Path(out) / "corpus", ignore_prefixes=[".", "_", "README"])


@pytest.fixture
def make_warc(tmp_path):
    """make_warc(records, name=..., compress=True) -> path of a WARC file under tmp_path."""
    def make(records: list[bytes], name: str = "test.warc.gz", compress: bool = True) -> str:
        return str(write_warc(tmp_path / name, records, compress=compress))
    return make
