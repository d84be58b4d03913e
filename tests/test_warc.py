"""The WARC reader: record types, offsets, and every way a file can break."""
from __future__ import annotations

import gzip
import io

import pytest

from pipeline.warc import WarcFileError, iter_records
from pipeline.warc_writer import gzip_member
from tests.conftest import ARTICLE, info, request, response

CAP = 10_000_000


def read_all(data: bytes, cap: int = CAP) -> tuple[list, str | None]:
    records, error = [], None
    try:
        for record in iter_records(io.BytesIO(data), cap):
            records.append(record)
    except WarcFileError as exc:
        error = str(exc)
    return records, error


def test_gzip_members_give_types_ids_and_member_offsets():
    members = [gzip_member(r) for r in (info(), request("a"), response("a", ARTICLE))]
    records, error = read_all(b"".join(members))
    assert error is None
    assert [r.record_type for r in records] == ["warcinfo", "request", "response"]
    assert [r.offset for r in records] == [0, len(members[0]), len(members[0]) + len(members[1])]
    assert records[2].block.endswith(ARTICLE.encode())
    assert records[2].block_bytes == int(records[2].headers["content-length"])


def test_plain_warc_offsets_are_byte_positions():
    raw = [info(), response("a", ARTICLE)]
    records, error = read_all(b"".join(raw))
    assert error is None
    assert [r.offset for r in records] == [0, len(raw[0])]


def test_one_gzip_member_for_the_whole_file_is_read_record_by_record():
    records, error = read_all(gzip.compress(info() + response("a", ARTICLE) + response("b", "x"), mtime=0))
    assert error is None
    assert [r.record_type for r in records] == ["warcinfo", "response", "response"]
    assert {r.offset for r in records} == {0}


def test_truncated_member_yields_readable_records_then_a_truncated_one_then_the_file_error():
    good = gzip_member(info()) + gzip_member(request("a"))
    cut = gzip_member(response("a", ARTICLE))
    records, error = read_all(good + cut[: len(cut) // 2])
    assert [r.record_type for r in records[:2]] == ["warcinfo", "request"]
    assert records[2].error == "truncated" and records[2].offset == len(good)
    assert error == f"truncated gzip member at byte {len(good)}: the file ends inside it"


def test_garbage_after_members_is_a_file_error_after_the_good_records():
    records, error = read_all(gzip_member(info()) + b"this is not gzip")
    assert [r.record_type for r in records] == ["warcinfo"]
    assert error.startswith("not a gzip member at byte")


@pytest.mark.parametrize("data, message", [
    (b"\x1f\x8b\x08\x00" + b"junk" * 50, "corrupt gzip data in the member at byte 0"),
    (bytes(range(256)) * 4, "neither gzip nor WARC"),
])
def test_unreadable_files_raise_with_the_reason(data, message):
    records, error = read_all(data)
    assert records == [] and error.startswith(message)


def test_empty_file_has_no_records_and_no_error():
    assert read_all(b"") == ([], None)


def test_block_over_the_cap_is_skipped_not_held():
    big = response("big", "<html><body>" + "a" * 5000 + "</body></html>")
    records, error = read_all(gzip_member(big) + gzip_member(request("after")), cap=1000)
    assert error is None
    assert records[0].error == "too_large" and records[0].block == b"" and records[0].block_bytes > 5000
    assert records[1].record_type == "request"


def test_too_long_content_length_is_corrupt_and_the_next_record_survives():
    bad = response("a", ARTICLE).replace(b"Content-Length: ", b"Content-Length: 1", 1)  # 10x too long
    for data in (bad + request("b"), gzip_member(bad) + gzip_member(request("b"))):
        records, error = read_all(data)
        assert [(r.record_type, r.error) for r in records] == [
            ("response", "corrupt: Content-Length does not match the block"), ("request", None)]
        assert error is None


def test_too_short_content_length_is_corrupt_and_the_next_record_survives():
    good = response("a", ARTICLE)
    declared = int(good.split(b"Content-Length: ")[1].split(b"\r\n")[0])
    bad = good.replace(f"Content-Length: {declared}".encode(), f"Content-Length: {declared - 40}".encode())
    records, error = read_all(bad + request("b"))
    assert [(r.record_type, r.error) for r in records] == [
        ("response", "corrupt: Content-Length does not match the block"), ("request", None)]
    assert error is None
