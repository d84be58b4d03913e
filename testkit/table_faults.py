"""A corpus of bad table inputs (JSON Lines, JSON arrays, Parquet), one file per kind of fault, each with the
outcome the corpus job must give: the sibling of testkit/faults.py (the WARC corpus).

`TABLE_FAULTS` lists them; `write_table_fault(fault, folder)` writes one file; `python -m testkit.table_faults
OUTDIR` writes them all and OUTDIR/expected.json. Expectations are declared here by construction,
independently of the reader: every row of a file in order as (id, drop_reason) (None = kept; `{path}` in
an id stands for the input path, as in the synthetic `<{path}#3>`), exact column values where they matter
(by id), and the prefix of the file-level error that puts the file in `failed_inputs`. Every record a file
holds is one row, so the file's records read are its number of rows. Every file carries a kept control
row where the fault allows one.

The expectations assume the extract-only config with `pipeline.max_text_bytes = MAX_TEXT_BYTES` (64 KiB,
so that the line cap, 4 x 64 KiB + 1 MiB, is crossed by a 1.5 MiB line instead of a 41 MiB one).
"""
from __future__ import annotations

import gzip
import io
import json
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pyarrow as pa
import pyarrow.parquet as pq
import zstandard

from testkit.faults import corpus_main

MAX_TEXT_BYTES = 64 * 1024
LINE_CAP_BYTES = 4 * MAX_TEXT_BYTES + (1 << 20)  # pipeline.tables.max_line_bytes, restated
CONFIG_OVERRIDES = ["pipeline.stages=['extract']", f"pipeline.max_text_bytes={MAX_TEXT_BYTES}"]
KEPT = None
MALFORMED, NOT_OBJECT, BAD_ENCODING = "input:malformed_json", "input:not_an_object", "input:bad_encoding"
MISSING, TOO_LARGE, LINE_TOO_LARGE = "input:missing_id_or_text", "input:text_too_large", "input:line_too_large"
DUPLICATE = "input:duplicate_id"
DEEP_NESTING_LEVELS = 100_000


def wrong(column: str) -> str:
    return f"input:wrong_type:{column}"


def at(number: int) -> str:
    """The synthetic id of the record on line (or row) `number`; `{path}` is filled in by the test."""
    return f"<{{path}}#{number}>"


@dataclass(frozen=True)
class TableFault:
    name: str
    file_name: str
    data: Callable[[], bytes]  # the file's bytes
    rows: tuple[tuple[str, str | None], ...]  # (id, drop_reason) of every row, in file order
    file_error: str | None = None  # prefix of failed_inputs' error; None: the file reads to its end
    columns: dict[str, dict[str, object]] = field(default_factory=dict)  # id -> exact column values


def doc(id_: str, text: str, **columns: object) -> dict[str, object]:
    return {"id": id_, "text": text, **columns}


def line(record: object) -> bytes:
    return json.dumps(record).encode("utf-8")


def jsonl(*lines: bytes, end: bytes = b"\n") -> Callable[[], bytes]:
    return lambda: b"\n".join(lines) + end


def good(name: str) -> bytes:
    return line(doc(name, f"The control document {name} sits next to the fault and must be kept."))


def parquet_bytes(table: pa.Table, row_group_rows: int | None = None) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, row_group_size=row_group_rows)
    return sink.getvalue()


def long_value(length: int) -> str:
    return "x" * length


# ---- the faults whose bytes need more than a list of lines --------------------------------------------

SEPARATORS_TEXT = "line\u2028separator, paragraph\u2029separator, next\u0085line, vertical\x0btab, form\x0cfeed"
CONTROL_TEXT = "tab\there, bell\x07, escape\x1b, unit\x1fseparator"


def _separators() -> bytes:  # json.dumps(ensure_ascii=False) writes U+2028/2029/0085 raw, as many producers do
    return jsonl(json.dumps(doc("separators", SEPARATORS_TEXT), ensure_ascii=False).encode("utf-8"), good("sep-next"))()


def _control_chars() -> bytes:
    raw = b'{"id": "control", "text": "' + CONTROL_TEXT.encode("utf-8") + b'"}'  # raw, unescaped, in a string
    return jsonl(raw, b'\x01{"id": "outside", "text": "a control byte before the object"}', good("control-next"))()


def _deep_nesting() -> bytes:
    deep_array = b"[" * DEEP_NESTING_LEVELS + b"]" * DEEP_NESTING_LEVELS
    deep_member = b'{"id": "deep-member", "text": "t", "meta": ' + deep_array + b"}"
    return jsonl(deep_array, deep_member, good("deep-next"))()


def _long_lines() -> bytes:
    size = LINE_CAP_BYTES + (256 << 10)  # past the cap, so never parsed
    return jsonl(
        line({"id": "long-text", "url": "https://tables.example/long", "http_status": 200, "text": long_value(size)}),
        line({"id": "long-meta", "text": "a short text", "meta": long_value(size)}),
        line({"text": long_value(size), "id": "after-the-text"}),
        b"not json at all " * (size // 16),
        good("long-next"),
    )()


def _multibyte_sizes() -> bytes:
    return jsonl(
        line(doc("at-cap", long_value(MAX_TEXT_BYTES))),
        line(doc("over-cap", long_value(MAX_TEXT_BYTES + 1))),
        line(doc("accents-at-cap", "é" * (MAX_TEXT_BYTES // 2))),  # 2 bytes each in UTF-8
        line(doc("accents-over-cap", "é" * (MAX_TEXT_BYTES // 2 + 1))),  # fewer characters than the cap
    )()


TRUNCATED_LINES = (good("gz-one"), good("gz-two"))
CUT_LINE = line(doc("gz-cut", "".join(random.Random(5).choices("abcdefghij klmnop", k=40_000))))


def _gzip_members() -> bytes:
    return gzip.compress(good("member-one") + b"\n", mtime=0) + gzip.compress(good("member-two") + b"\n", mtime=0)


def _truncated_gzip() -> bytes:
    cut = gzip.compress(CUT_LINE + b"\n", mtime=0)
    return _truncated_gzip_head() + cut[: len(cut) // 2]


def _truncated_gzip_head() -> bytes:
    return gzip.compress(b"\n".join(TRUNCATED_LINES) + b"\n", mtime=0)


def _garbage_after_gzip() -> bytes:
    return _garbage_after_gzip_head() + b"this is not gzip\n"


def _garbage_after_gzip_head() -> bytes:
    return gzip.compress(good("gz-before-garbage") + b"\n", mtime=0)


def _zstd_frames() -> bytes:
    compressor = zstandard.ZstdCompressor()
    return compressor.compress(good("zstd-one") + b"\n") + compressor.compress(good("zstd-two") + b"\n")


def _truncated_zstd() -> bytes:
    compressor = zstandard.ZstdCompressor()
    second = compressor.compress(good("zstd-cut") + b"\n")
    return compressor.compress(good("zstd-kept") + b"\n") + second[: len(second) // 2]


def _json_array() -> bytes:
    return json.dumps([doc("array-one", "The first element of an array file."), 7,
                       doc("array-three", "The third element, after a number.")], indent=2).encode("utf-8")


def _big_json_array() -> bytes:
    return json.dumps([doc(f"big-{i}", long_value(60_000)) for i in range(25)]).encode("utf-8")  # 1.5 MB


def _typed_parquet() -> bytes:
    text = pa.array([b"A kept Parquet row.", b"bad \xff\xfe utf-8", long_value(MAX_TEXT_BYTES + 1).encode(),
                     b"status as text", None, b"A plain row."], pa.binary()).view(pa.string())  # view: no UTF-8 check
    return parquet_bytes(pa.table({
        "id": ["pq-kept", "pq-bad-utf8", "pq-too-large", "pq-status", "pq-no-text", "pq-plain"],
        "text": text,
        "http_status": pa.array([None, None, None, "200", None, None], pa.string()),
        "signal": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],  # not a core column: ignored
    }))


def _url_number_parquet() -> bytes:
    return parquet_bytes(pa.table({"id": ["pq-url-number", "pq-url-ok"], "text": ["Some text.", "Other text."],
                                   "url": pa.array([5, None], pa.int64())}))


def _large_strings_parquet() -> bytes:
    return parquet_bytes(pa.table({
        "id": pa.array(["large-one", "large-two"], pa.large_string()),
        "text": pa.array(["A large_string text.", "Another one."], pa.large_string()),
        "url": pa.array(["https://tables.example/a", "https://tables.example/a"]).dictionary_encode(),
        "http_status": pa.array([200, 404], pa.int64()),
    }))


def _lineage_parquet() -> bytes:
    return parquet_bytes(pa.table({
        "id": ["lineage-kept", "lineage-dropped"],
        "text": ["A row that an earlier run kept.", None],
        "warc_path": ["s3://elsewhere/CC-MAIN-x.warc.gz", "s3://elsewhere/CC-MAIN-x.warc.gz"],
        "warc_offset": pa.array([77, 99], pa.int64()),
        "drop_reason": [None, "extract:no_text"],
    }))


def _corrupt_footer_parquet() -> bytes:
    whole = parquet_bytes(pa.table({"id": ["a"], "text": ["b"]}))
    return whole[:-12] + b"\x00" * 8 + b"PAR1"


def _corrupt_page_parquet() -> bytes:
    """Two row groups of 64 rows (one read batch each); the second group's data pages are overwritten."""
    rows = 128
    table = pa.table({"id": [f"page-{i}" for i in range(rows)],
                      "text": [f"Row {i} of a file whose second half is damaged." for i in range(rows)]})
    data = bytearray(parquet_bytes(table, row_group_rows=64))
    group = pq.ParquetFile(io.BytesIO(bytes(data))).metadata.row_group(1)
    for column in range(group.num_columns):
        chunk = group.column(column)
        start = chunk.dictionary_page_offset if chunk.has_dictionary_page else chunk.data_page_offset
        data[start : start + chunk.total_compressed_size] = b"\xee" * chunk.total_compressed_size
    return bytes(data)


TABLE_FAULTS: tuple[TableFault, ...] = (
    TableFault("unicode_separators", "unicode_separators.jsonl", _separators,
               (("separators", KEPT), ("sep-next", KEPT)),
               columns={"separators": {"text": SEPARATORS_TEXT, "warc_offset": 1}}),
    TableFault("bom_crlf_blank_lines", "bom_crlf_blank_lines.jsonl",
               lambda: b"\xef\xbb\xbf" + good("bom-first") + b"\r\n\r\n   \r\n" + good("crlf-fourth") + b"\r\n\n",
               (("bom-first", KEPT), ("crlf-fourth", KEPT)),
               columns={"bom-first": {"warc_offset": 1}, "crlf-fourth": {"warc_offset": 4}}),
    TableFault("no_final_newline", "no_final_newline.jsonl", jsonl(good("nl-one"), good("nl-two"), end=b""),
               (("nl-one", KEPT), ("nl-two", KEPT))),
    TableFault("invalid_utf8", "invalid_utf8.jsonl",
               jsonl(good("utf8-before"), b'{"id": "latin1", "text": "caf\xe9 cr\xe8me"}', good("utf8-after")),
               (("utf8-before", KEPT), (at(2), BAD_ENCODING), ("utf8-after", KEPT)),
               columns={at(2): {"text": None, "warc_offset": 2}}),
    TableFault("control_characters", "control_characters.jsonl", _control_chars,
               (("control", KEPT), (at(2), MALFORMED), ("control-next", KEPT)),
               columns={"control": {"text": CONTROL_TEXT}}),
    TableFault("not_objects", "not_objects.jsonl",
               jsonl(b"42", b"[1, 2]", b'"a string"', b"null", b"true", good("object-next")),
               tuple((at(n), NOT_OBJECT) for n in range(1, 6)) + (("object-next", KEPT),)),
    TableFault("malformed_json", "malformed_json.jsonl",
               jsonl(b'{"id": "unterminated", "text": "no end', b"{bad}", b'{"id": "a", "text": "b"} trailing',
                     b'{"id": "nan-status", "text": "t", "http_status": NaN}', good("malformed-next")),
               ((at(1), MALFORMED), (at(2), MALFORMED), (at(3), MALFORMED), ("nan-status", wrong("http_status")),
                ("malformed-next", KEPT))),
    TableFault("deep_nesting", "deep_nesting.jsonl", _deep_nesting,
               ((at(1), MALFORMED), (at(2), MALFORMED), ("deep-next", KEPT))),
    TableFault("lone_surrogates", "lone_surrogates.jsonl",
               jsonl(b'{"id": "surrogate-text", "text": "half \\ud800 a pair"}',
                     b'{"id": "\\udfff", "text": "the id is half a pair"}',
                     b'{"id": "surrogate-url", "text": "t", "url": "https://x.example/\\ud83d"}',
                     b'{"id": "whole-pair", "text": "a smile \\ud83d\\ude00"}'),
               (("surrogate-text", BAD_ENCODING), (at(2), BAD_ENCODING), ("surrogate-url", BAD_ENCODING),
                ("whole-pair", KEPT)),
               columns={"surrogate-text": {"text": None}, "surrogate-url": {"url": None},
                        "whole-pair": {"text": "a smile \U0001F600"}}),
    TableFault("wrong_types", "wrong_types.jsonl", jsonl(
        line(doc("status-string", "t", http_status="200")), line(doc("url-number", "t", url=5)),
        line({"id": 123, "text": "an integer id"}), line({"id": "text-list", "text": ["a", "b"]}),
        line(doc("status-too-big", "t", http_status=2**31)), line(doc("status-bool", "t", http_status=True)),
        line(doc("status-float", "t", http_status=200.0)), line(doc("crawl-object", "t", crawl={})),
        line(doc("fetch-number", "t", fetch_time=1.5)), line(doc("reason-number", "t", drop_reason=3)),
        line(doc("all-typed", "t", url="https://tables.example/t", crawl="CC-MAIN-2026-10", http_status=404,
                 fetch_time="2026-03-01T00:00:00Z", content_type="text/html"))),
        (("status-string", wrong("http_status")), ("url-number", wrong("url")), (at(3), wrong("id")),
         ("text-list", wrong("text")), ("status-too-big", wrong("http_status")), ("status-bool", wrong("http_status")),
         ("status-float", wrong("http_status")), ("crawl-object", wrong("crawl")), ("fetch-number", wrong("fetch_time")),
         ("reason-number", wrong("drop_reason")), ("all-typed", KEPT)),
        columns={"status-string": {"http_status": None, "text": None}, "url-number": {"url": None},
                 "all-typed": {"url": "https://tables.example/t", "crawl": "CC-MAIN-2026-10", "http_status": 404,
                               "fetch_time": "2026-03-01T00:00:00Z", "content_type": "text/html", "text": "t"}}),
    TableFault("missing_id_or_text", "missing_id_or_text.jsonl",
               jsonl(b'{"id": "no-text"}', b'{"text": "no id"}', b'{"id": null, "text": null}', b"{}", good("missing-next")),
               (("no-text", MISSING), (at(2), MISSING), (at(3), MISSING), (at(4), MISSING), ("missing-next", KEPT))),
    TableFault("duplicate_ids", "duplicate_ids.jsonl",
               jsonl(good("twice"), good("twice"), b'{"id": "twice"}'),
               (("twice", KEPT), ("twice", DUPLICATE), ("twice", MISSING))),
    TableFault("text_sizes", "text_sizes.jsonl", _multibyte_sizes,
               (("at-cap", KEPT), ("over-cap", TOO_LARGE), ("accents-at-cap", KEPT), ("accents-over-cap", TOO_LARGE))),
    TableFault("long_lines", "long_lines.jsonl", _long_lines,
               (("long-text", TOO_LARGE), ("long-meta", LINE_TOO_LARGE), (at(3), TOO_LARGE), (at(4), LINE_TOO_LARGE),
                ("long-next", KEPT)),
               columns={"long-text": {"url": "https://tables.example/long", "http_status": 200, "text": None}}),
    TableFault("gzip_members", "gzip_members.jsonl.gz", _gzip_members, (("member-one", KEPT), ("member-two", KEPT))),
    TableFault("truncated_gzip", "truncated_gzip.jsonl.gz", _truncated_gzip,
               (("gz-one", KEPT), ("gz-two", KEPT), (at(3), MALFORMED)),
               file_error=f"truncated gzip member at byte {len(_truncated_gzip_head())}: the file ends inside it"),
    TableFault("not_gzip", "not_gzip.jsonl.gz", jsonl(good("plain-named-gz")), (), file_error="not gzip at byte 0: "),
    TableFault("garbage_after_gzip", "garbage_after_gzip.jsonl.gz", _garbage_after_gzip,
               (("gz-before-garbage", KEPT),), file_error=f"not gzip at byte {len(_garbage_after_gzip_head())}: "),
    TableFault("zstd_frames", "zstd_frames.jsonl.zst", _zstd_frames, (("zstd-one", KEPT), ("zstd-two", KEPT))),
    TableFault("truncated_zstd", "truncated_zstd.jsonl.zst", _truncated_zstd, (("zstd-kept", KEPT),),
               file_error="truncated zstd frame: the file ends inside it"),
    TableFault("not_zstd", "not_zstd.jsonl.zst", jsonl(good("plain-named-zst")), (), file_error="ZstdError: "),
    TableFault("json_array", "json_array.json", _json_array,
               (("array-one", KEPT), (at(2), NOT_OBJECT), ("array-three", KEPT)),
               columns={"array-three": {"warc_offset": 3}}),
    TableFault("json_lines_named_json", "json_lines_named_json.json", jsonl(good("json-one"), good("json-two")),
               (("json-one", KEPT), ("json-two", KEPT))),
    TableFault("malformed_json_array", "malformed_json_array.json", lambda: b'[{"id": "a", "text": "b"},',
               (), file_error="malformed JSON array: JSONDecodeError: "),
    TableFault("json_array_over_cap", "json_array_over_cap.json", _big_json_array, (),
               file_error=f"JSON array file over {LINE_CAP_BYTES} bytes"),
    TableFault("empty_jsonl", "empty_jsonl.jsonl", lambda: b"", (), file_error="empty input: 0 bytes"),
    TableFault("blank_lines_only", "blank_lines_only.jsonl", lambda: b"\n\n   \n\r\n", (),
               file_error="empty input: no records"),
    TableFault("typed_parquet", "typed_parquet.parquet", _typed_parquet,
               (("pq-kept", KEPT), ("pq-bad-utf8", BAD_ENCODING), ("pq-too-large", TOO_LARGE),
                ("pq-status", wrong("http_status")), ("pq-no-text", MISSING), ("pq-plain", KEPT)),
               columns={"pq-kept": {"text": "A kept Parquet row.", "warc_offset": 1}, "pq-too-large": {"text": None}}),
    TableFault("url_number_parquet", "url_number_parquet.parquet", _url_number_parquet,
               (("pq-url-number", wrong("url")), ("pq-url-ok", KEPT))),
    TableFault("large_strings_parquet", "large_strings_parquet.parquet", _large_strings_parquet,
               (("large-one", KEPT), ("large-two", KEPT)),
               columns={"large-two": {"url": "https://tables.example/a", "http_status": 404, "text": "Another one."}}),
    TableFault("lineage_parquet", "lineage_parquet.parquet", _lineage_parquet,
               (("lineage-kept", KEPT), ("lineage-dropped", "extract:no_text")),
               columns={"lineage-kept": {"warc_path": "{path}", "warc_offset": 1},
                        "lineage-dropped": {"warc_path": "{path}", "warc_offset": 2}}),
    TableFault("no_core_columns_parquet", "no_core_columns_parquet.parquet",
               lambda: parquet_bytes(pa.table({"a": [1, 2]})), ((at(1), MISSING), (at(2), MISSING))),
    TableFault("corrupt_footer_parquet", "corrupt_footer_parquet.parquet", _corrupt_footer_parquet, (),
               file_error="OSError: "),
    TableFault("corrupt_page_parquet", "corrupt_page_parquet.parquet", _corrupt_page_parquet,
               tuple((f"page-{i}", KEPT) for i in range(64)), file_error="OSError: "),
    TableFault("empty_parquet", "empty_parquet.parquet", lambda: b"", (), file_error="empty input: 0 bytes"),
    TableFault("zero_rows_parquet", "zero_rows_parquet.parquet",
               lambda: parquet_bytes(pa.table({"id": pa.array([], pa.string()), "text": pa.array([], pa.string())})),
               (), file_error="empty input: no records"),
)


def write_table_fault(fault: TableFault, folder: Path) -> Path:
    path = Path(folder) / fault.file_name
    path.write_bytes(fault.data())
    return path


def expectation(fault: TableFault) -> dict[str, object]:
    return {"file": fault.file_name, "rows": [list(row) for row in fault.rows], "file_error": fault.file_error,
            "columns": fault.columns}


def main(argv: list[str] | None = None) -> int:
    return corpus_main(argv, "table fault", TABLE_FAULTS, write_table_fault, expectation)


if __name__ == "__main__":
    sys.exit(main())
