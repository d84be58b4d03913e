"""Shared fixtures: one local Spark session and one local Ray per test run, and builders for small WARC files."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from pipeline.warc_writer import http_response, record_id_for, warc_record, warcinfo_record, write_warc

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_WARCS = ROOT / "sample_data" / "warc"
DATE = "2026-02-10T12:00:00Z"

ARTICLE = (
    "<html><head><title>Notes from the allotment</title></head><body>"
    "<nav><a href='/'>Home</a> <a href='/about'>About</a></nav><article><h1>Notes from the allotment</h1>"
    + "".join(
        f"<p>In week {i} of the season we planted beans along the south fence, watered the young leeks "
        f"before sunrise and wrote down how each row of carrots was doing after the cold nights.</p>"
        for i in range(1, 7)
    )
    + "</article><footer>Contact the garden club</footer></body></html>"
)


def heavy_page(n_paragraphs: int) -> str:
    """A page that costs trafilatura seconds of CPU (about 10 s at 12,000 paragraphs on the 2-core machine);
    tests/test_extract.py and benchmarks/extraction_under_load.py time the extraction limit with it."""
    return "<html><body><article>" + "".join(
        f"<div class='c{i % 7}'><p>Paragraph {i} tells how the garden club planted row {i} of beans and "
        f"<a href='/p{i}'>link {i}</a> near the fence, with <b>notes</b> on soil {i % 13}.</p></div>"
        for i in range(n_paragraphs)
    ) + "</article></body></html>"


def response(name: str, body: bytes | str, status: int = 200, content_type: str | None = "text/html; charset=utf-8",
             headers: list[tuple[str, str]] | None = None, payload_type: str | None = None) -> bytes:
    """A WARC response record for https://site.example/<name> with a stable id derived from `name`."""
    body = body.encode("utf-8") if isinstance(body, str) else body
    http_headers = ([("Content-Type", content_type)] if content_type else []) + (headers or [])
    extra = [("WARC-Identified-Payload-Type", payload_type)] if payload_type else []
    return warc_record("response", http_response(status, body, http_headers), record_id=record_id_for(name),
                       date=DATE, target_uri=f"https://site.example/{name}",
                       content_type="application/http; msgtype=response", extra_headers=extra)


def request(name: str) -> bytes:
    block = f"GET /{name} HTTP/1.1\r\nHost: site.example\r\n\r\n".encode()
    return warc_record("request", block, record_id=record_id_for("req-" + name), date=DATE,
                       target_uri=f"https://site.example/{name}", content_type="application/http; msgtype=request")


def info(crawl: str = "CC-MAIN-2026-08") -> bytes:
    return warcinfo_record(crawl, record_id=record_id_for("info-" + crawl), date=DATE, filename="test.warc.gz")


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
