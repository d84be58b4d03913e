"""A corpus of bad inputs, one WARC file per kind of fault, each with the outcome the corpus job must give.

`FAULTS` lists them; `write_fault(fault, folder)` writes one file (streamed: the 50 MB payload is never
held in memory); `python -m testkit.faults OUTDIR` writes them all and OUTDIR/expected.json. The expected
outcomes are declared here by construction, independently of the reader: which records each file holds
(by WARC type, "unreadable" for a record the reader cannot parse), which rows they become (URL and drop
reason, None = kept), exact column values where they matter, and the file-level error that puts the file
in `failed_inputs` (a prefix: zlib's own wording follows it).

Every file carries a kept control record where the fault allows one, so a test also sees that good
records next to a fault survive it. The expectations assume the extract-only config with the default
`extract.max_payload_bytes` (10 MiB).
"""
from __future__ import annotations

import argparse
import codecs
import gzip
import json
import random
import sys
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import brotli

from testkit.warc_writer import gzip_member, http_response, record_id_for, warcinfo_record

DATE = "2026-03-01T00:00:00Z"
CRAWL = "CC-MAIN-2026-10"
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # ExtractConfig's default, which the expectations assume
BIG_PAYLOAD_BYTES = 50 * 1024 * 1024
BOMB_BYTES = MAX_PAYLOAD_BYTES + 1024 * 1024  # decodes past the cap from a few KB on disk
DEEP_NESTING_LEVELS = 100_000
READ_CHUNK_BYTES = 1 << 20  # pipeline.warc.READ_CHUNK_BYTES, restated: the boundary fault is built around it
KEPT, CORRUPT, TRUNCATED = None, "warc:corrupt_record", "warc:truncated_record"


@dataclass(frozen=True)
class Fault:
    name: str
    file_name: str
    chunks: Callable[[], Iterator[bytes]]  # the file's bytes in pieces
    records_by_type: dict[str, int]  # what reading it counts ("unreadable": records the reader cannot parse)
    rows: tuple[tuple[str | None, str | None], ...]  # (url, drop_reason) of every row, in file order
    file_error: str | None = None  # prefix of failed_inputs' error; None: the file reads to its end
    columns: dict[str, dict[str, object]] = field(default_factory=dict)  # url -> exact column values
    kept_text: dict[str, str] = field(default_factory=dict)  # url -> a phrase its extracted text holds
    large: bool = False  # over 1 MiB on disk or decoded: not a fuzzing seed


def url(name: str) -> str:
    return f"https://faults.example/{name}"


def article(topic: str) -> str:
    """An HTML page trafilatura extracts: six paragraphs, with navigation and footer boilerplate."""
    paragraphs = "".join(
        f"<p>In week {week} the {topic} group met at the library, compared notes on the last harvest and "
        f"agreed on which seeds to order before the spring frost had passed for good this year.</p>"
        for week in range(1, 7)
    )
    return (f"<html><head><title>{topic}</title></head><body><nav><a href='/'>Home</a></nav>"
            f"<article><h1>Notes of the {topic} group</h1>{paragraphs}</article>"
            f"<footer>Contact us</footer></body></html>")


def phrase(topic: str) -> str:
    return f"the {topic} group met at the library"


def warc_bytes(fields: list[tuple[str, str]], block: bytes) -> bytes:
    """A WARC/1.1 record with exactly `fields` (no field added: faults leave some out)."""
    head = "WARC/1.1\r\n" + "".join(f"{name}: {value}\r\n" for name, value in fields) + "\r\n"
    return head.encode("utf-8") + block + b"\r\n\r\n"


def response_fields(name: str, block: bytes, record_id: str | None = None, warc_type: str = "response",
                    omit: tuple[str, ...] = (), content_length: int | None = None) -> list[tuple[str, str]]:
    fields = [("WARC-Type", warc_type), ("WARC-Record-ID", record_id or record_id_for(f"fault-{name}")),
              ("WARC-Date", DATE), ("WARC-Target-URI", url(name)),
              ("Content-Type", "application/http; msgtype=response"),
              ("Content-Length", str(len(block) if content_length is None else content_length))]
    return [(key, value) for key, value in fields if key not in omit]


def http_block(body: bytes | str, status: int = 200, content_type: str | None = "text/html; charset=utf-8",
               headers: tuple[tuple[str, str], ...] = ()) -> bytes:
    body = body.encode("utf-8") if isinstance(body, str) else body
    return http_response(status, body, ([("Content-Type", content_type)] if content_type else []) + list(headers))


def response(name: str, body: bytes | str, status: int = 200, content_type: str | None = "text/html; charset=utf-8",
             headers: tuple[tuple[str, str], ...] = (), record_id: str | None = None) -> bytes:
    block = http_block(body, status, content_type, headers)
    return warc_bytes(response_fields(name, block, record_id), block)


def good(name: str) -> bytes:
    return response(name, article(name))


def info() -> bytes:
    return warcinfo_record(CRAWL, record_id=record_id_for("fault-info"), date=DATE, filename="faults.warc.gz")


def members(*records: bytes) -> Callable[[], Iterator[bytes]]:
    """Common Crawl's layout: one gzip member per record."""
    return lambda: (gzip_member(record) for record in records)


def plain(*records: bytes) -> Callable[[], Iterator[bytes]]:
    return lambda: iter(records)


def raw(data_of: Callable[[], bytes]) -> Callable[[], Iterator[bytes]]:
    return lambda: iter([data_of()])


# ---- the faults whose bytes need more than a list of records ------------------------------------------

def _truncated_gzip() -> bytes:
    cut = gzip_member(response("truncated-gzip-cut", article("cut")))
    return gzip_member(info()) + gzip_member(good("truncated-gzip-ok")) + cut[: len(cut) // 2]


def _truncated_gzip_at() -> int:
    return len(gzip_member(info())) + len(gzip_member(good("truncated-gzip-ok")))


def _random_bytes() -> bytes:
    data = bytearray(random.Random(11).randbytes(64 * 1024))
    data[0] = 0x00  # neither a gzip magic nor "WARC/" by chance
    return bytes(data)


def _big_payload_chunks() -> Iterator[bytes]:
    """One gzip member holding a 50 MB HTML payload, compressed piece by piece (1 MiB in memory at most)."""
    http_head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
    fields = response_fields("payload-50mb", b"", content_length=len(http_head) + BIG_PAYLOAD_BYTES)
    head = warc_bytes(fields, b"")[: -len(b"\r\n\r\n")]
    compressor = zlib.compressobj(1, zlib.DEFLATED, 31)  # wbits 31: a gzip member
    yield gzip_member(info())
    yield compressor.compress(head + http_head)
    line = b"<p>" + b"a long page of nothing but the same words " * 20 + b"</p>\n"
    piece = line * (READ_CHUNK_BYTES // len(line))
    remaining = BIG_PAYLOAD_BYTES
    while remaining:
        step = min(remaining, len(piece))
        yield compressor.compress(piece[:step])
        remaining -= step
    yield compressor.compress(b"\r\n\r\n") + compressor.flush()
    yield gzip_member(good("payload-50mb-next"))


def _big_payload_block_bytes() -> int:
    return len(b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n") + BIG_PAYLOAD_BYTES


def _deep_html() -> str:
    text = "<p>" + "This paragraph sits a hundred thousand elements deep in the page. " * 3 + "</p>"
    return "<html><body>" + "<div>" * DEEP_NESTING_LEVELS + text + "</div>" * DEEP_NESTING_LEVELS + "</body></html>"


def _length_off_by(name: str, delta: int) -> bytes:
    block = http_block(article(name))
    return warc_bytes(response_fields(name, block, content_length=len(block) + delta), block)


def _trailing_garbage_in_member() -> bytes:
    # The junk follows a complete record inside the same member and has no line break before the next
    # member's "WARC/": only the member boundary shows where the next record starts.
    return (gzip_member(good("member-junk-ok") + b"\x00\x17junk after the record")
            + gzip_member(good("member-junk-next")))


def _garbage_after_members() -> bytes:
    return gzip_member(info()) + gzip_member(good("after-members-ok")) + b"this is not gzip\n"


def _garbage_after_members_at() -> int:
    return len(gzip_member(info())) + len(gzip_member(good("after-members-ok")))


def _member_boundary() -> bytes:
    """A member that ends one byte before the reader's first 1 MiB read ends: the next member's gzip
    magic straddles two reads (the reader once took its first byte for trailing garbage)."""
    first = gzip_member(info())
    target = READ_CHUNK_BYTES - 1 - len(first)

    def member(block_bytes: int) -> bytes:  # stored (level 0) deflate: the size follows the block size
        record = warc_bytes([("WARC-Type", "resource"), ("WARC-Record-ID", record_id_for("boundary-filler")),
                             ("WARC-Date", DATE), ("Content-Length", str(block_bytes))], bytes(block_bytes))
        return gzip.compress(record, compresslevel=0, mtime=0)

    block_bytes = target - 1000
    filler = member(block_bytes)
    while len(filler) != target:
        block_bytes += target - len(filler)
        filler = member(block_bytes)
    return first + filler + gzip_member(good("boundary-next"))


def _cut_in_header() -> bytes:
    cut = response("cut-in-header", article("header"))
    end_of_uri_line = cut.index(b"WARC-Target-URI:")
    end_of_uri_line = cut.index(b"\r\n", end_of_uri_line) + 2
    return info() + good("cut-in-header-ok") + cut[: end_of_uri_line + 5]


def _cut_in_header_at() -> int:
    return len(info()) + len(good("cut-in-header-ok"))


def _not_warc_in_gzip() -> bytes:
    return gzip.compress(b"name,value\n" * 200, mtime=0)


def _chunked(body: bytes) -> bytes:
    parts = [body[i : i + 500] for i in range(0, len(body), 500)]
    return b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in parts) + b"0\r\n\r\n"


def _revisit() -> bytes:
    block = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n"  # a revisit stores the HTTP header only
    fields = [("WARC-Type", "revisit"), ("WARC-Record-ID", record_id_for("fault-revisit")), ("WARC-Date", DATE),
              ("WARC-Target-URI", url("revisit")), ("WARC-Refers-To", record_id_for("fault-revisit-original")),
              ("WARC-Profile", "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"),
              ("Content-Length", str(len(block)))]
    return warc_bytes(fields, block)


def _status_line(name: str, line: bytes) -> bytes:
    block = line + b"\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + article(name).encode()
    return warc_bytes(response_fields(name, block), block)


def _request(name: str) -> bytes:
    block = f"GET /{name} HTTP/1.1\r\nHost: faults.example\r\n\r\n".encode()
    return warc_bytes([("WARC-Type", "request"), ("WARC-Record-ID", record_id_for(f"fault-req-{name}")),
                       ("WARC-Date", DATE), ("WARC-Target-URI", url(name)), ("Content-Length", str(len(block)))], block)


def _oversized_header(name: str) -> bytes:
    """A response whose header block is over the reader's 64 KiB cap (one 70 KB header line)."""
    record = good(name)
    return record.replace(b"\r\n", b"\r\nX-Oversized: " + b"o" * 70_000 + b"\r\n", 1)


def _endless_header_chunks() -> Iterator[bytes]:
    """A kept record, then a header of 10 MB of lines that never ends before the end of the file (streamed)."""
    yield info() + good("endless-header-ok") + b"WARC/1.1\r\nWARC-Type: response\r\n"
    line = b"X-Endless: " + b"e" * 40 + b"\r\n"
    for _ in range(10):
        yield line * (READ_CHUNK_BYTES // len(line))


LIE_PAST_CAP_BYTES = 2 * MAX_PAYLOAD_BYTES  # a Content-Length that lies above the cap


FRENCH = "Le café crème coûte deux euros à la gare, déjà très cher pour un matin d'été au bord du lac. "
DUPLICATE_ID = record_id_for("fault-duplicate")
PNG = b"\x89PNG\r\n\x1a\n" + random.Random(3).randbytes(6000)


FAULTS: tuple[Fault, ...] = (
    Fault("truncated_gzip", "truncated_gzip.warc.gz", raw(_truncated_gzip),
          {"warcinfo": 1, "response": 2}, ((url("truncated-gzip-ok"), KEPT), (url("truncated-gzip-cut"), TRUNCATED)),
          file_error=f"WarcFileError: truncated gzip member at byte {_truncated_gzip_at()}: the file ends inside it"),
    Fault("random_bytes", "random_bytes.warc.gz", raw(_random_bytes), {}, (),
          file_error="WarcFileError: neither gzip nor WARC"),
    Fault("empty_file", "empty_file.warc.gz", raw(lambda: b""), {}, (), file_error="empty input: no WARC records"),
    Fault("plain_warc_named_gz", "plain_warc_named_gz.warc.gz", plain(info(), good("plain-named-gz")),
          {"warcinfo": 1, "response": 1}, ((url("plain-named-gz"), KEPT),)),
    Fault("content_length_too_long", "content_length_too_long.warc.gz",
          members(info(), _length_off_by("length-too-long", 5000), good("length-too-long-next")),
          {"warcinfo": 1, "unreadable": 1, "response": 1},
          ((url("length-too-long"), CORRUPT), (url("length-too-long-next"), KEPT))),
    Fault("content_length_too_short", "content_length_too_short.warc.gz",
          members(info(), _length_off_by("length-too-short", -40), good("length-too-short-next")),
          {"warcinfo": 1, "unreadable": 1, "response": 1},
          ((url("length-too-short"), CORRUPT), (url("length-too-short-next"), KEPT))),
    Fault("missing_warc_type", "missing_warc_type.warc.gz",
          members(warc_bytes(response_fields("no-type", http_block(article("t")), omit=("WARC-Type",)),
                             http_block(article("t"))), good("no-type-next")),
          {"unreadable": 1, "response": 1}, ((url("no-type"), CORRUPT), (url("no-type-next"), KEPT))),
    Fault("missing_content_length", "missing_content_length.warc.gz",
          members(warc_bytes(response_fields("no-length", http_block(article("l")), omit=("Content-Length",)),
                             http_block(article("l"))), good("no-length-next")),
          {"unreadable": 1, "response": 1}, ((url("no-length"), CORRUPT), (url("no-length-next"), KEPT)),
          columns={url("no-length"): {"id": record_id_for("fault-no-length")}}),  # the readable header is kept
    Fault("missing_record_id", "missing_record_id.warc.gz",
          members(warc_bytes(response_fields("no-id", http_block(article("no id")), omit=("WARC-Record-ID",)),
                             http_block(article("no id")))),
          {"response": 1}, ((url("no-id"), KEPT),),
          columns={url("no-id"): {"id": "<{warc_path}#0>"}}, kept_text={url("no-id"): phrase("no id")}),
    Fault("payload_50mb", "payload_50mb.warc.gz", _big_payload_chunks, {"warcinfo": 1, "response": 2},
          ((url("payload-50mb"), "warc:payload_too_large"), (url("payload-50mb-next"), KEPT)),
          columns={url("payload-50mb"): {"payload_bytes": _big_payload_block_bytes()}}, large=True),
    Fault("deep_nesting", "deep_nesting.warc.gz", members(response("deep", _deep_html()), good("deep-next")),
          {"response": 2}, ((url("deep"), "extract:no_text"), (url("deep-next"), KEPT)), large=True),
    Fault("charsets", "charsets.warc.gz", members(
        response("utf8-label-on-cp1252", article("label").replace("library", FRENCH)
                 .replace("<head>", "<head><meta charset='windows-1252'>").encode("cp1252")),
        response("unknown-label", article("unknown"), content_type="text/html; charset=x-no-such-charset"),
        response("base64-label", article("base64"), content_type="text/html; charset=base64"),
        response("meta-rot13", article("rot").replace("<head>", "<head><meta charset='rot13'>"), content_type="text/html"),
        response("invalid-utf8", article("invalid").encode("utf-8").replace(b"library", b"lib\xff\xfe\xc3(rary")),
        response("meta-utf16", article("sixteen").replace("<head>", '<head><meta charset="utf-16">'), content_type="text/html"),
        response("bom-over-label", codecs.BOM_UTF8 + article("bom").encode("utf-8"), content_type="text/html; charset=koi8-r"),
    ), {"response": 7}, tuple((url(n), KEPT) for n in (
        "utf8-label-on-cp1252", "unknown-label", "base64-label", "meta-rot13", "invalid-utf8", "meta-utf16", "bom-over-label")),
        columns={
            url("utf8-label-on-cp1252"): {"charset": "cp1252", "charset_source": "meta"},
            url("unknown-label"): {"charset": "utf-8", "charset_source": "detected"},
            url("base64-label"): {"charset": "utf-8", "charset_source": "detected"},
            url("meta-rot13"): {"charset": "utf-8", "charset_source": "detected"},
            url("invalid-utf8"): {"charset_source": "detected"},
            url("meta-utf16"): {"charset": "utf-8", "charset_source": "meta"},
            url("bom-over-label"): {"charset": "utf-8", "charset_source": "bom"},
        },
        kept_text={url("utf8-label-on-cp1252"): "Le café crème coûte deux euros", url("unknown-label"): phrase("unknown"),
                   url("base64-label"): phrase("base64"), url("meta-rot13"): phrase("rot"),
                   url("invalid-utf8"): "the invalid group met", url("meta-utf16"): phrase("sixteen"),
                   url("bom-over-label"): phrase("bom")}),
    Fault("binary_as_html", "binary_as_html.warc.gz", members(
        response("png-as-html", PNG), response("random-as-html", random.Random(9).randbytes(4000)), good("binary-next")),
        {"response": 3}, ((url("png-as-html"), "extract:no_text"), (url("random-as-html"), "extract:no_text"),
                          (url("binary-next"), KEPT))),
    Fault("content_encodings", "content_encodings.warc.gz", members(
        response("gzip-encoded", gzip.compress(article("gzip").encode(), mtime=0), headers=(("Content-Encoding", "gzip"),)),
        response("br-encoded", brotli.compress(article("brotli").encode()), headers=(("Content-Encoding", "br"),)),
        response("deflate-encoded", zlib.compress(article("deflate").encode()), headers=(("Content-Encoding", "deflate"),)),
        response("gzip-bomb", gzip.compress(bytes(BOMB_BYTES), mtime=0), headers=(("Content-Encoding", "gzip"),)),
        response("br-bomb", brotli.compress(bytes(BOMB_BYTES), quality=1), headers=(("Content-Encoding", "br"),)),
    ), {"response": 5}, ((url("gzip-encoded"), KEPT), (url("br-encoded"), KEPT), (url("deflate-encoded"), KEPT),
                         (url("gzip-bomb"), "warc:payload_too_large"), (url("br-bomb"), "warc:payload_too_large")),
        kept_text={url("gzip-encoded"): phrase("gzip"), url("br-encoded"): phrase("brotli"),
                   url("deflate-encoded"): phrase("deflate")}, large=True),
    Fault("chunked", "chunked.warc.gz", members(
        response("chunked", _chunked(article("chunked").encode()), headers=(("Transfer-Encoding", "chunked"),)),
        response("chunked-gzip", _chunked(gzip.compress(article("both").encode(), mtime=0)),
                 headers=(("Transfer-Encoding", "chunked"), ("Content-Encoding", "gzip"))),
        response("chunked-but-stored-plain", article("stored"), headers=(("Transfer-Encoding", "chunked"),)),
    ), {"response": 3}, ((url("chunked"), KEPT), (url("chunked-gzip"), KEPT), (url("chunked-but-stored-plain"), KEPT)),
        kept_text={url("chunked"): phrase("chunked"), url("chunked-gzip"): phrase("both"),
                   url("chunked-but-stored-plain"): phrase("stored")}),
    Fault("revisit", "revisit.warc.gz", members(info(), _request("revisit"), _revisit(), good("revisit-next")),
          {"warcinfo": 1, "request": 1, "revisit": 1, "response": 1}, ((url("revisit-next"), KEPT),)),
    Fault("duplicate_record_ids", "duplicate_record_ids.warc.gz", members(
        response("duplicate-first", article("first"), record_id=DUPLICATE_ID),
        response("duplicate-second", article("second"), record_id=DUPLICATE_ID),
        response("duplicate-third-404", "<html><body>gone</body></html>", status=404, record_id=DUPLICATE_ID),
    ), {"response": 3}, ((url("duplicate-first"), KEPT), (url("duplicate-second"), "warc:duplicate_record_id"),
                         (url("duplicate-third-404"), "warc:non_200_status")),
        columns={url("duplicate-first"): {"id": DUPLICATE_ID}}),
    Fault("empty_extraction", "empty_extraction.warc.gz", members(
        response("only-script", "<html><head><script>var a = 1;</script></head><body><div></div></body></html>"),
        response("empty-body", b""), good("empty-extraction-next")),
        {"response": 3}, ((url("only-script"), "extract:no_text"), (url("empty-body"), "extract:no_text"),
                          (url("empty-extraction-next"), KEPT))),
    Fault("trailing_garbage_in_member", "trailing_garbage_in_member.warc.gz", raw(_trailing_garbage_in_member),
          {"response": 2, "unreadable": 1},
          ((url("member-junk-ok"), KEPT), (None, CORRUPT), (url("member-junk-next"), KEPT))),
    Fault("garbage_after_members", "garbage_after_members.warc.gz", raw(_garbage_after_members),
          {"warcinfo": 1, "response": 1}, ((url("after-members-ok"), KEPT),),
          file_error=f"WarcFileError: not a gzip member at byte {_garbage_after_members_at()}"),
    Fault("plain_warc", "plain_warc.warc", plain(info(), _request("plain"), good("plain")),
          {"warcinfo": 1, "request": 1, "response": 1}, ((url("plain"), KEPT),)),
    Fault("http_statuses", "http_statuses.warc.gz", members(*(
        [response(f"status-{status}", "<html><body>not here</body></html>", status=status) for status in (404, 301, 500, 204)]
        + [_status_line("status-superscript", "HTTP/1.1 ²00 OK".encode("latin-1")),  # str.isdigit("²") is True
           _status_line("status-too-long", b"HTTP/1.1 2000000000000 OK"),  # past the int32 column
           good("status-200")])),
        {"response": 7}, tuple([(url(f"status-{s}"), "warc:non_200_status") for s in (404, 301, 500, 204)]
                               + [(url("status-superscript"), CORRUPT), (url("status-too-long"), CORRUPT),
                                  (url("status-200"), KEPT)]),
        columns={url("status-404"): {"http_status": 404}, url("status-200"): {"http_status": 200}}),
    Fault("member_boundary", "member_boundary.warc.gz", raw(_member_boundary),
          {"warcinfo": 1, "resource": 1, "response": 1}, ((url("boundary-next"), KEPT),), large=True),
    Fault("cut_in_header", "cut_in_header.warc", raw(_cut_in_header), {"warcinfo": 1, "response": 2},
          ((url("cut-in-header-ok"), KEPT), (url("cut-in-header"), TRUNCATED)),
          file_error=f"WarcFileError: truncated WARC record at byte {_cut_in_header_at()}: the file ends inside it"),
    Fault("not_warc_in_gzip", "not_warc_in_gzip.warc.gz", raw(_not_warc_in_gzip), {"unreadable": 1}, ((None, CORRUPT),)),
    # Issue 17: inputs that once stopped the reader making progress or threw the rest of the file away.
    Fault("oversized_header_gzip", "oversized_header_gzip.warc.gz",
          members(info(), _oversized_header("oversized-header-gz"), good("oversized-header-gz-next")),
          {"warcinfo": 1, "unreadable": 1, "response": 1}, ((None, CORRUPT), (url("oversized-header-gz-next"), KEPT))),
    Fault("oversized_header_plain", "oversized_header_plain.warc",
          plain(info(), _oversized_header("oversized-header"), good("oversized-header-next")),
          {"warcinfo": 1, "unreadable": 1, "response": 1}, ((None, CORRUPT), (url("oversized-header-next"), KEPT))),
    Fault("endless_header", "endless_header.warc", _endless_header_chunks, {"warcinfo": 1, "response": 1, "unreadable": 1},
          ((url("endless-header-ok"), KEPT), (None, CORRUPT)), kept_text={url("endless-header-ok"): phrase("endless-header-ok")},
          large=True),
    Fault("lying_length_past_cap_gzip", "lying_length_past_cap_gzip.warc.gz",
          members(info(), _length_off_by("lie-past-cap-gz", LIE_PAST_CAP_BYTES), good("lie-past-cap-gz-next"),
                  good("lie-past-cap-gz-last")),
          {"warcinfo": 1, "unreadable": 1, "response": 2},
          ((url("lie-past-cap-gz"), CORRUPT), (url("lie-past-cap-gz-next"), KEPT), (url("lie-past-cap-gz-last"), KEPT)),
          columns={url("lie-past-cap-gz"): {"id": record_id_for("fault-lie-past-cap-gz")}}),
    Fault("lying_length_past_cap_plain", "lying_length_past_cap_plain.warc",
          plain(info(), _length_off_by("lie-past-cap", LIE_PAST_CAP_BYTES), good("lie-past-cap-next"),
                good("lie-past-cap-last")),
          {"warcinfo": 1, "unreadable": 1, "response": 2},
          ((url("lie-past-cap"), CORRUPT), (url("lie-past-cap-next"), KEPT), (url("lie-past-cap-last"), KEPT)),
          columns={url("lie-past-cap"): {"id": record_id_for("fault-lie-past-cap")}},
          kept_text={url("lie-past-cap-last"): phrase("lie-past-cap-last")}),
)


def write_fault(fault: Fault, folder: Path) -> Path:
    """Write one fault's file under `folder`, piece by piece; returns its path."""
    path = Path(folder) / fault.file_name
    with open(path, "wb") as out:
        for chunk in fault.chunks():
            out.write(chunk)
    return path


def expectation(fault: Fault) -> dict[str, object]:
    """A fault's expected outcome as plain JSON."""
    return {"file": fault.file_name, "records_by_type": fault.records_by_type,
            "rows": [list(row) for row in fault.rows], "file_error": fault.file_error,
            "columns": fault.columns, "kept_text": fault.kept_text}


def corpus_main(argv: list[str] | None, what: str, faults: Sequence[Any], write: Callable[[Any, Path], Path],
                expect: Callable[[Any], dict[str, object]]) -> int:
    """The command line of a fault corpus: write every fault's file and expected.json into OUTDIR."""
    parser = argparse.ArgumentParser(description=f"Write the {what} corpus and its expected outcomes.")
    parser.add_argument("outdir")
    folder = Path(parser.parse_args(argv).outdir)
    folder.mkdir(parents=True, exist_ok=True)
    for fault in faults:
        write(fault, folder)
    (folder / "expected.json").write_text(json.dumps({f.name: expect(f) for f in faults}, indent=2) + "\n")
    print(f"Wrote {len(faults)} {what} files and expected.json to {folder}")
    return 0


def main(argv: list[str] | None = None) -> int:
    return corpus_main(argv, "fault", FAULTS, write_fault, expectation)


if __name__ == "__main__":
    sys.exit(main())
