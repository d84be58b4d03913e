"""A minimal WARC/1.1 writer for the project's own fixtures, sample data and benchmarks.

Each record is written as its own gzip member, as Common Crawl does, so a record's compressed offset is
where its member starts. Everything is deterministic: callers pass record ids and dates explicitly.
"""
from __future__ import annotations

import gzip
import hashlib
import uuid
from pathlib import Path
from typing import Iterable


def record_id_for(name: str) -> str:
    """A stable `<urn:uuid:...>` record id derived from a name (uuid5), so fixtures are reproducible."""
    return f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, name)}>"


def http_response(status: int, body: bytes, headers: Iterable[tuple[str, str]] = (), reason: str = "") -> bytes:
    """HTTP/1.1 response bytes as a crawler stores them in a WARC `response` block."""
    reasons = {200: "OK", 301: "Moved Permanently", 302: "Found", 404: "Not Found", 500: "Internal Server Error"}
    head = [f"HTTP/1.1 {status} {reason or reasons.get(status, 'Status')}"]
    head += [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


def warc_record(
    record_type: str,
    block: bytes,
    *,
    record_id: str,
    date: str,
    target_uri: str | None = None,
    content_type: str | None = None,
    extra_headers: Iterable[tuple[str, str]] = (),
) -> bytes:
    """One uncompressed WARC/1.1 record: header lines, a blank line, the block, and two CRLFs."""
    headers = [("WARC-Type", record_type), ("WARC-Record-ID", record_id), ("WARC-Date", date)]
    if target_uri is not None:
        headers.append(("WARC-Target-URI", target_uri))
    if content_type is not None:
        headers.append(("Content-Type", content_type))
    headers.append(("WARC-Block-Digest", "sha1:" + hashlib.sha1(block).hexdigest()))
    headers += list(extra_headers)
    headers.append(("Content-Length", str(len(block))))
    head = "WARC/1.1\r\n" + "".join(f"{name}: {value}\r\n" for name, value in headers) + "\r\n"
    return head.encode("utf-8") + block + b"\r\n\r\n"


def warcinfo_record(crawl: str, *, record_id: str, date: str, filename: str) -> bytes:
    """A Common Crawl style `warcinfo` record naming the crawl in `isPartOf`."""
    block = f"isPartOf: {crawl}\r\nsoftware: corpus-pipeline fixture writer\r\nformat: WARC File Format 1.1\r\n"
    return warc_record(
        "warcinfo",
        block.encode("utf-8"),
        record_id=record_id,
        date=date,
        content_type="application/warc-fields",
        extra_headers=[("WARC-Filename", filename)],
    )


def gzip_member(data: bytes) -> bytes:
    """One gzip member with a zero mtime, so the bytes depend on the data alone."""
    return gzip.compress(data, compresslevel=6, mtime=0)


def write_warc(path: str | Path, records: Iterable[bytes], compress: bool = True) -> Path:
    """Write records to `path`, one gzip member per record when `compress`; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as out:
        for record in records:
            out.write(gzip_member(record) if compress else record)
    return path


def conversion_record(
    text: bytes, *, record_id: str, date: str, target_uri: str, refers_to: str | None,
    content_type: str = "text/plain",
) -> bytes:
    """A Common Crawl WET `conversion` record: the page's text, pointing at its response by WARC-Refers-To
    (None leaves the header out)."""
    extra = [("WARC-Refers-To", refers_to)] if refers_to is not None else []
    return warc_record("conversion", text, record_id=record_id, date=date, target_uri=target_uri,
                       content_type=content_type, extra_headers=extra)
