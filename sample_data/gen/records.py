"""WARC records of one exchange (request, response or revisit, optional metadata) in Common Crawl's layout,
and one WARC file of them, written atomically, with its expected.jsonl rows and compressed offsets.
"""
from __future__ import annotations

import base64
import hashlib
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from testkit.warc_writer import gzip_member, http_response, record_id_for, warc_record, warcinfo_record, write_warc

from .exchange import Exchange

CRAWLER_USER_AGENT = "ExampleBot/1.0 (+https://crawler.example/bot; fixture crawler)"
HTTP_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
HTTP_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
REVISIT_PROFILE = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"


def warc_date(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def http_date(t: datetime) -> str:
    """RFC 7231 date, spelled out by hand so that the locale cannot change it."""
    return f"{HTTP_DAYS[t.weekday()]}, {t.day:02d} {HTTP_MONTHS[t.month - 1]} {t.year} {t:%H:%M:%S} GMT"


def payload_digest(data: bytes) -> str:
    """Common Crawl style `sha1:<base32>` digest."""
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


def server_ip(host: str) -> str:
    """A documentation-range address (RFC 5737) that depends only on the host name."""
    return f"203.0.113.{hashlib.sha1(host.encode()).digest()[0] % 254 + 1}"


def split_url(url: str) -> tuple[str, str]:
    rest = url.split("://", 1)[1]
    host, _, path = rest.partition("/")
    return host, "/" + path


def request_block(url: str) -> bytes:
    host, path = split_url(url)
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}", f"User-Agent: {CRAWLER_USER_AGENT}",
             "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
             "Accept-Language: en-US,en;q=0.5", "Accept-Encoding: br,gzip", "Connection: Keep-Alive"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


def response_block(ex: Exchange, t: datetime) -> bytes:
    headers = [("Date", http_date(t)), ("Server", "nginx")]
    if ex.content_type:
        headers.append(("Content-Type", ex.content_type))
    headers += ex.extra_headers
    if ex.transfer_body is None:
        headers.append(("Content-Length", str(len(ex.body))))
    headers.append(("Connection", "close"))
    return http_response(ex.status, ex.transfer_body if ex.transfer_body is not None else ex.body, headers)


def metadata_block(ex: Exchange, rng: random.Random) -> bytes:
    fields = [f"fetchTimeMs: {rng.randint(40, 900)}"]
    if ex.payload_type == "text/html":
        encoding = str(ex.labels.get("charset", "utf-8")).upper()
        fields.append(f"charset-detected: {encoding}")
    return ("\r\n".join(fields) + "\r\n").encode("ascii")


def base_row(warc_file: str, crawl: str, record_id: str, record_type: str, url: str | None, kind: str) -> dict:
    return {"warc_file": warc_file, "warc_offset": None, "record_id": record_id, "record_type": record_type,
            "url": url, "kind": kind, "lang": None, "expected_reason": None, "crawl": crawl}


@dataclass
class FileContext:
    """What every record of one WARC file shares."""
    warc_file: str
    crawl: str
    warcinfo_id: str
    fetched: dict[str, datetime]              # exchange name -> fetch time, across files (for revisits)


def exchange_records(ex: Exchange, t: datetime, ctx: FileContext, rng: random.Random,
                     with_metadata: bool) -> list[tuple[bytes, dict]]:
    """request, then response (or revisit), then optionally metadata, each with its expected.jsonl row."""
    host, _ = split_url(ex.url)
    date = warc_date(t)
    request_id = record_id_for(f"sample/{ex.name}/request")
    common = [("WARC-Warcinfo-ID", ctx.warcinfo_id), ("WARC-IP-Address", server_ip(host))]
    request = warc_record("request", request_block(ex.url), record_id=request_id, date=date, target_uri=ex.url,
                          content_type="application/http; msgtype=request", extra_headers=common)
    out = [(request, base_row(ctx.warc_file, ctx.crawl, request_id, "request", ex.url, "request"))]

    if ex.revisit_of is not None:
        original = ex.revisit_of
        block = http_response(304, b"", [("Date", http_date(t)), ("Server", "nginx"), ("Connection", "close")],
                              reason="Not Modified")
        headers = common + [("WARC-Concurrent-To", request_id), ("WARC-Profile", REVISIT_PROFILE),
                            ("WARC-Refers-To", original.response_id),
                            ("WARC-Refers-To-Target-URI", original.url),
                            ("WARC-Refers-To-Date", warc_date(ctx.fetched[original.name]))]
        record = warc_record("revisit", block, record_id=ex.response_id, date=date, target_uri=ex.url,
                             content_type="application/http; msgtype=response", extra_headers=headers)
        row = base_row(ctx.warc_file, ctx.crawl, ex.response_id, "revisit", ex.url, "revisit")
        row["refers_to"] = original.response_id
    else:
        # Digest of the payload as stored (chunked coding included), as Heritrix, warcio and fastwarc compute it.
        stored = ex.transfer_body if ex.transfer_body is not None else ex.body
        headers = common + [("WARC-Concurrent-To", request_id), ("WARC-Payload-Digest", payload_digest(stored))]
        if ex.payload_type:
            headers.append(("WARC-Identified-Payload-Type", ex.payload_type))
        record = warc_record("response", response_block(ex, t), record_id=ex.response_id, date=date,
                             target_uri=ex.url, content_type="application/http; msgtype=response",
                             extra_headers=headers)
        row = base_row(ctx.warc_file, ctx.crawl, ex.response_id, "response", ex.url, ex.kind)
        row["lang"], row["expected_reason"] = ex.lang, ex.expected_reason
        row.update(ex.labels)
    out.append((record, row))
    ctx.fetched[ex.name] = t

    if with_metadata:
        metadata_id = record_id_for(f"sample/{ex.name}/metadata")
        metadata = warc_record("metadata", metadata_block(ex, rng), record_id=metadata_id, date=date,
                               target_uri=ex.url, content_type="application/warc-fields",
                               extra_headers=[("WARC-Warcinfo-ID", ctx.warcinfo_id),
                                              ("WARC-Concurrent-To", ex.response_id)])
        out.append((metadata, base_row(ctx.warc_file, ctx.crawl, metadata_id, "metadata", ex.url, "metadata")))
    return out


def write_sample_file(path: Path, crawl: str, start: datetime, exchanges: list[Exchange],
                      fetched: dict[str, datetime], rng: random.Random, truncate_last: bool = False,
                      tail: list[Exchange] | None = None, tail_rng: random.Random | None = None) -> list[dict]:
    """Write one WARC file (atomically) and return its expected.jsonl rows with compressed offsets.

    `tail`: exchanges written after the others, drawing from `tail_rng` (no metadata records), so that adding
    them changes no byte of the records before them nor `rng`'s stream for the files after."""
    warcinfo_id = record_id_for(f"sample/{path.name}/warcinfo")
    ctx = FileContext(path.name, crawl, warcinfo_id, fetched)
    records = [(warcinfo_record(crawl, record_id=warcinfo_id, date=warc_date(start), filename=path.name),
                base_row(path.name, crawl, warcinfo_id, "warcinfo", None, "warcinfo"))]
    t = start
    for ex in exchanges:
        t += timedelta(seconds=rng.randint(3, 95))
        records += exchange_records(ex, t, ctx, rng, with_metadata=not truncate_last and rng.random() < 0.5)
    for ex in tail or ():
        assert tail_rng is not None, "a tail needs its own random stream"
        t += timedelta(seconds=tail_rng.randint(3, 95))
        records += exchange_records(ex, t, ctx, tail_rng, with_metadata=False)
    members = [gzip_member(record) for record, _ in records]
    if truncate_last:  # cut the last member in the middle: its header survives, its body and gzip trailer do not
        members[-1] = members[-1][: len(members[-1]) // 2]
    offset, rows = 0, []
    for member, (_, row) in zip(members, records):
        row["warc_offset"] = offset
        offset += len(member)
        rows.append(row)
    tmp = path.with_name(path.name + ".tmp")
    write_warc(tmp, members, compress=False)  # members are gzip members already
    tmp.replace(path)
    return rows
