"""WARC records and pages for small test inputs: a response, request or warcinfo record with a stable id
derived from a name (testkit/warc_writer.py), an ordinary article, and a page that costs seconds to extract.
"""
from __future__ import annotations

from testkit.warc_writer import http_response, record_id_for, warc_record, warcinfo_record

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
    """The WARC request record that goes with `response(name, ...)`."""
    block = f"GET /{name} HTTP/1.1\r\nHost: site.example\r\n\r\n".encode()
    return warc_record("request", block, record_id=record_id_for("req-" + name), date=DATE,
                       target_uri=f"https://site.example/{name}", content_type="application/http; msgtype=request")


def info(crawl: str = "CC-MAIN-2026-08") -> bytes:
    """A warcinfo record naming `crawl`, as Common Crawl files begin."""
    return warcinfo_record(crawl, record_id=record_id_for("info-" + crawl), date=DATE, filename="test.warc.gz")
