"""Table inputs (JSON Lines and Parquet) read as streams of rows with bounded memory, engine-free.

Every line or row becomes exactly one row of the document schema's core columns, or a named drop; nothing
a file holds can abort the run (datatrove's JsonlReader and Dolma read the same files; unlike them a bad
line here is data, not an exception):

- `.jsonl`, `.jsonl.gz` (any number of gzip members), `.jsonl.zst` (any number of zstd frames): bytes are
  decompressed in bounded pieces and split on `\\n` only (U+2028, U+2029 and U+0085 are characters inside
  a line, not line breaks); a trailing `\\r` and a UTF-8 BOM at the start of a line are ignored; blank
  lines are skipped and not counted (they hold no record), but still advance the line number.
- `.json`: a file whose first character is `[` is one JSON array of records, read whole up to the line
  cap (`max_line_bytes`, 41 MiB with the default `max_text_bytes`) and refused past it with a one-line
  error telling how to convert it to JSON Lines; any other `.json` file is read as JSON Lines.
- `.parquet`: only the core columns are read, one row group at a time, in batches of at most
  `PARQUET_BATCH_ROWS` rows and about `PARQUET_BATCH_BYTES`, through a buffered stream: neither the file
  nor a row group is held whole. A 200 MB value is decoded by Arrow before it can be measured (~750 MB
  peak in benchmarks/RESULTS.md); JSON lines over the cap are never held.

A line longer than the line cap is never held: its first `HEAD_BYTES` are kept and its top-level members
are recovered from them (the id, url, ... that precede the long value), the rest is skipped to the next
`\\n`. The drop is `input:text_too_large` when the long value is `text`, else `input:line_too_large`.

The row's lineage is always the input's: `warc_path` is the path read, `warc_offset` the 1-based line
(JSONL) or row (JSON array, Parquet) number, and a row's own `warc_path`/`warc_offset` columns are
discarded, so the accounting counts every row under the file that held it. A row that cannot be a
document gets the id `<path#number>` (unless its own id is usable) and a null text. A row that arrives
with a non-empty `drop_reason` (a `documents.parquet` fed back in) keeps it; input checks still null
what cannot be carried. A file that cannot be read (not gzip, truncated, corrupt Parquet footer) raises
`TableReadError` after the rows read before the fault.
"""
from __future__ import annotations

import codecs
import json
import os
import zlib
from itertools import chain
from json.decoder import scanstring
from typing import Any, BinaryIO, Iterable, Iterator

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import zstandard

from contract.stage import Rule
from pipeline.inputs import is_uri, open_input
from pipeline.schema import CORE_FIELDS

READ_CHUNK_BYTES = 1 << 20  # compressed or plain bytes read at once, and decompressed bytes made at once
ZSTD_FEED_BYTES = 4096  # zstd input per call: zstd's ratio is at most ~32768, so at most ~128 MiB out
LINE_BYTES_PER_TEXT_BYTE = 4  # escapes make JSON longer than its text (é -> \u00e9 is 3x); 4x fits real text
LINE_SLACK_BYTES = 1 << 20  # room for the other members of a line whose text is just under the cap
HEAD_BYTES = 64 * 1024  # what an over-long line keeps, to recover its id and other leading members
PARQUET_BATCH_ROWS = 64  # rows per Parquet read at most
PARQUET_BATCH_BYTES = 32 << 20  # ... and fewer where the row group's metadata says its rows are larger
PARQUET_BUFFER_BYTES = 1 << 20  # buffered column reads: a row group is read page by page, not whole
BOM = codecs.BOM_UTF8
JSON_WHITESPACE = b" \t\r\n"

INPUT = "input"  # reason prefix of a JSONL/JSON/Parquet record that cannot become a document
INPUT_RULES = (
    Rule("malformed_json", "a JSONL line that is not JSON"),
    Rule("not_an_object", "a JSON value that is not an object"),
    Rule("bad_encoding", "text that is not UTF-8 (or holds lone surrogates)"),
    Rule("missing_id_or_text", "no id or no text"),
    Rule("text_too_large", "text over pipeline.max_text_bytes"),
    Rule("line_too_large", "a JSONL line too long to hold, skipped unread"),
    Rule("wrong_type", "a column of the wrong type (the reason ends with the column's name)"),
    Rule("duplicate_id", "the id of an earlier record of the same input"),
)
(MALFORMED_JSON, NOT_AN_OBJECT, BAD_ENCODING, MISSING_ID_OR_TEXT, TEXT_TOO_LARGE, LINE_TOO_LARGE, WRONG_TYPE,
 DUPLICATE_ID) = (f"{INPUT}:{rule.name}" for rule in INPUT_RULES)
WRONG_TYPE += ":"  # + the column's name

LINEAGE = ("warc_path", "warc_offset")  # always the input's own, never the row's
INT_BOUNDS = {"warc_offset": 1 << 63, "http_status": 1 << 31}  # |value| < bound fits the Arrow type
STRING_COLUMNS = tuple(f.name for f in CORE_FIELDS if f.type == pa.string() and f.name not in LINEAGE)
INPUT_COLUMNS = tuple(f.name for f in CORE_FIELDS if f.name not in LINEAGE)


class TableReadError(Exception):
    """The file cannot be read (further); the message is its `failed_inputs` entry."""


class _Undecodable:
    """A Parquet string value that is not valid UTF-8."""


class _TooLarge:
    """A Parquet text over `max_text_bytes`, replaced before it became a Python string."""


UNDECODABLE, TOO_LARGE = _Undecodable(), _TooLarge()


def error_line(error: BaseException) -> str:
    """`Type: message` on one line (Arrow's messages span several), for the failed_inputs ledger."""
    return " ".join(f"{type(error).__name__}: {error}".split())


def max_line_bytes(max_text_bytes: int) -> int:
    """The longest JSON line (or `.json` array file) that is parsed; longer ones are dropped unread."""
    return LINE_BYTES_PER_TEXT_BYTE * max_text_bytes + LINE_SLACK_BYTES


# ---- one record -> one row ----------------------------------------------------------------------------

def synthetic_id(path: str, number: int) -> str:
    return f"<{path}#{number}>"


def problem_row(path: str, number: int, reason: str) -> dict[str, Any]:
    """The row of a line that holds no usable record."""
    return {"id": synthetic_id(path, number), "warc_path": path, "warc_offset": number, "text": None,
            "drop_reason": reason}


def value_problem(name: str, value: Any, max_text_bytes: int) -> str | None:
    """Why a non-null core column value cannot be written, or None."""
    if value is UNDECODABLE:
        return BAD_ENCODING
    if value is TOO_LARGE:
        return TEXT_TOO_LARGE
    if name in INT_BOUNDS:
        ok = isinstance(value, int) and not isinstance(value, bool) and -INT_BOUNDS[name] <= value < INT_BOUNDS[name]
        return None if ok else WRONG_TYPE + name
    if not isinstance(value, str):
        return WRONG_TYPE + name
    try:
        encoded_bytes = len(value.encode("utf-8"))  # lone surrogates ("\ud800") cannot be UTF-8
    except UnicodeEncodeError:
        return BAD_ENCODING
    if name == "text" and encoded_bytes > max_text_bytes:
        return TEXT_TOO_LARGE
    return None


def record_row(record: dict[str, Any], path: str, number: int, max_text_bytes: int,
               first_problem: str | None = None) -> dict[str, Any]:
    """A row from a record's core columns (other keys are ignored).

    The first problem names the drop, in this order: `first_problem`, the id's, the text's, a missing id
    or text, then the other columns' in schema order; every value that cannot be written is nulled.
    """
    row: dict[str, Any] = {"warc_path": path, "warc_offset": number}
    problems = [first_problem] if first_problem else []
    later = []
    for name in INPUT_COLUMNS:
        value = record.get(name)
        if value is None:
            continue
        problem = value_problem(name, value, max_text_bytes)
        if problem is None:
            row[name] = value
        else:
            (problems if name in ("id", "text") else later).append(problem)
    if "id" not in row or "text" not in row:
        problems.append(MISSING_ID_OR_TEXT)
    problems += later
    prior = row.pop("drop_reason", None) or None  # an earlier run's decision; "" is no decision
    if problems:
        row["id"] = row.get("id", synthetic_id(path, number))
        row["text"] = None
    row["drop_reason"] = prior or (problems[0] if problems else None)
    return row


# ---- bytes -> decompressed chunks ---------------------------------------------------------------------

def _read(stream: BinaryIO, size: int) -> bytes:
    try:
        return stream.read(size)
    except OSError as error:
        raise TableReadError(error_line(error)) from error


def plain_chunks(stream: BinaryIO) -> Iterator[bytes]:
    while chunk := _read(stream, READ_CHUNK_BYTES):
        yield chunk


def gzip_chunks(stream: BinaryIO) -> Iterator[bytes]:
    """Decompressed bytes of every gzip member in turn, at most READ_CHUNK_BYTES per piece (bombs stay
    bounded); raises TableReadError where the bytes stop being gzip or the file ends inside a member."""
    decompressor = zlib.decompressobj(31)  # wbits 31: one gzip member
    data, read_bytes, member_start, started = b"", 0, 0, False
    while True:
        if not data:
            data = _read(stream, READ_CHUNK_BYTES)
            read_bytes += len(data)
            if not data:
                break
        try:
            out = decompressor.decompress(data, READ_CHUNK_BYTES)
        except zlib.error as error:
            raise TableReadError(f"not gzip at byte {member_start}: {error_line(error)}") from error
        started = True
        if out:
            yield out
        if decompressor.eof:
            data = decompressor.unused_data
            member_start = read_bytes - len(data)
            decompressor, started = zlib.decompressobj(31), False
        else:
            data = decompressor.unconsumed_tail
    if started:
        yield decompressor.flush()
        raise TableReadError(f"truncated gzip member at byte {member_start}: the file ends inside it")


def zstd_chunks(stream: BinaryIO) -> Iterator[bytes]:
    """Decompressed bytes of every zstd frame in turn; raises TableReadError on bytes that are not zstd
    or a file that ends inside a frame (zstandard's stream_reader reports neither)."""
    context = zstandard.ZstdDecompressor()
    decompressor, started, carry = context.decompressobj(), False, b""
    block, at = b"", 0
    while True:
        if carry:
            piece, carry = carry, b""
        else:
            if at >= len(block):
                block, at = _read(stream, READ_CHUNK_BYTES), 0
                if not block:
                    break
            piece, at = block[at : at + ZSTD_FEED_BYTES], at + ZSTD_FEED_BYTES
        try:
            out = decompressor.decompress(piece)
        except zstandard.ZstdError as error:
            raise TableReadError(error_line(error)) from error
        started = True
        if out:
            yield out
        if decompressor.eof:
            carry = decompressor.unused_data
            decompressor, started = context.decompressobj(), False
    if started:
        raise TableReadError("truncated zstd frame: the file ends inside it")


def decompressed_chunks(path: str, stream: BinaryIO) -> Iterator[bytes]:
    if path.endswith(".gz"):
        return gzip_chunks(stream)
    if path.endswith(".zst"):
        return zstd_chunks(stream)
    return plain_chunks(stream)


def split_lines(chunks: Iterable[bytes], line_cap_bytes: int) -> Iterator[tuple[int, bytes, bool]]:
    """(1-based line number, line, over the cap) for each line split on b"\\n" only. A line over the cap
    is given as its first HEAD_BYTES and never held whole. On TableReadError the partial last line is
    given first, then the error is raised again."""
    number, pieces, size, head = 0, [], 0, None  # head: the kept start of an over-long line

    def take(piece: bytes) -> None:
        nonlocal size, head, pieces
        if head is None:
            pieces.append(piece)
            size += len(piece)
            if size > line_cap_bytes:
                head, pieces = b"".join(pieces)[:HEAD_BYTES], []

    def line() -> tuple[int, bytes, bool]:
        nonlocal number, pieces, size, head
        number += 1
        found = (number, head, True) if head is not None else (number, b"".join(pieces), False)
        pieces, size, head = [], 0, None
        return found

    try:
        for chunk in chunks:
            parts = chunk.split(b"\n")
            for part in parts[:-1]:
                take(part)
                yield line()
            take(parts[-1])
    except TableReadError:
        if pieces or head is not None:
            yield line()
        raise
    if pieces and size or head is not None:
        yield line()


# ---- lines -> rows ------------------------------------------------------------------------------------

def line_row(path: str, number: int, line: bytes, max_text_bytes: int) -> dict[str, Any] | None:
    """The row of one JSON line; None for a blank line."""
    line = line[len(BOM):] if line.startswith(BOM) else line
    if not line.strip(JSON_WHITESPACE):
        return None
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return problem_row(path, number, BAD_ENCODING)
    try:
        # strict=False: raw control characters inside strings (a common producer bug) are kept as text
        record = json.loads(text, strict=False)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than the interpreter's limit
        return problem_row(path, number, MALFORMED_JSON)
    if not isinstance(record, dict):
        return problem_row(path, number, NOT_AN_OBJECT)
    return record_row(record, path, number, max_text_bytes)


def _skip_whitespace(text: str, at: int) -> int:
    while at < len(text) and text[at] in " \t\r\n":
        at += 1
    return at


def leading_members(head: str) -> tuple[dict[str, Any], str | None]:
    """The top-level members of a JSON object that are complete within `head`, and the key whose value
    did not end there (None if the object's start is not a plain `{"key": value, ...}`)."""
    decoder = json.JSONDecoder(strict=False)
    members: dict[str, Any] = {}
    at = _skip_whitespace(head, 0)
    if not head.startswith("{", at):
        return members, None
    at += 1
    while True:
        at = _skip_whitespace(head, at)
        if not head.startswith('"', at):
            return members, None
        try:
            key, at = scanstring(head, at + 1, False)
        except ValueError:
            return members, None
        at = _skip_whitespace(head, at)
        if not head.startswith(":", at):
            return members, None
        at = _skip_whitespace(head, at + 1)
        try:
            value, at = decoder.raw_decode(head, at)
        except (ValueError, RecursionError):
            return members, key
        if at >= len(head):  # a number cut by the head's end would parse as a shorter number
            return members, key
        members[key] = value
        at = _skip_whitespace(head, at)
        if not head.startswith(",", at):
            return members, None
        at += 1


def long_line_row(path: str, number: int, head: bytes, max_text_bytes: int) -> dict[str, Any]:
    """The row of a line over the cap, from the members its first bytes hold."""
    head = head[len(BOM):] if head.startswith(BOM) else head
    text = head.decode("utf-8", errors="ignore")  # at most the last, cut character is lost
    members, long_key = leading_members(text)
    members.pop("text", None)
    return record_row(members, path, number, max_text_bytes, TEXT_TOO_LARGE if long_key == "text" else LINE_TOO_LARGE)


def jsonl_rows(path: str, chunks: Iterable[bytes], max_text_bytes: int) -> Iterator[dict[str, Any]]:
    for number, line, too_long in split_lines(chunks, max_line_bytes(max_text_bytes)):
        read = long_line_row if too_long else line_row
        row = read(path, number, line, max_text_bytes)
        if row is not None:
            yield row


def json_array_rows(path: str, data: bytes, max_text_bytes: int) -> Iterator[dict[str, Any]]:
    """Rows of a `.json` file holding one array (`data`: the whole file, at most the line cap)."""
    try:
        records = json.loads(data.decode("utf-8").lstrip("\ufeff"), strict=False)
    except UnicodeDecodeError as error:
        raise TableReadError(f"JSON array file is not UTF-8: {error}") from error
    except (ValueError, RecursionError) as error:
        raise TableReadError(f"malformed JSON array: {error_line(error)}") from error
    if not isinstance(records, list):
        raise TableReadError("malformed JSON array: the file holds more than one value")
    for number, record in enumerate(records, start=1):
        yield (record_row(record, path, number, max_text_bytes) if isinstance(record, dict)
               else problem_row(path, number, NOT_AN_OBJECT))


def json_rows(path: str, stream: BinaryIO, max_text_bytes: int) -> Iterator[dict[str, Any]]:
    """`.json`: one array when the first character is `[`, else JSON Lines."""
    first = _read(stream, READ_CHUNK_BYTES)
    if not first.lstrip(JSON_WHITESPACE).removeprefix(BOM).lstrip(JSON_WHITESPACE).startswith(b"["):
        yield from jsonl_rows(path, chain([first], plain_chunks(stream)), max_text_bytes)
        return
    cap = max_line_bytes(max_text_bytes)
    pieces, size = [first], len(first)
    while size <= cap and (chunk := _read(stream, READ_CHUNK_BYTES)):
        pieces.append(chunk)
        size += len(chunk)
    if size > cap:
        raise TableReadError(f"JSON array file over {cap} bytes (4 x pipeline.max_text_bytes + 1 MiB): "
                             "convert it to JSON Lines, e.g. jq -c '.[]' FILE > FILE.jsonl")
    yield from json_array_rows(path, b"".join(pieces), max_text_bytes)


# ---- Parquet ------------------------------------------------------------------------------------------

def _open_random_access(path: str) -> Any:
    if not is_uri(path):
        return open(path, "rb")
    fs, inner = pafs.FileSystem.from_uri(path)
    return fs.open_input_file(inner)


def batch_records(batch: pa.RecordBatch, max_text_bytes: int) -> list[dict[str, Any]]:
    """A batch's rows as dicts; a text over the cap is TOO_LARGE and invalid UTF-8 is UNDECODABLE, each
    found before a Python string is made (an over-long text is never copied)."""
    columns: dict[str, list[Any]] = {}
    for name, column in zip(batch.schema.names, batch.columns):
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            columns[name] = column.to_pylist()
            continue
        binary = column.view(pa.large_binary() if pa.types.is_large_string(column.type) else pa.binary())
        too_large = []
        if name == "text":
            too_large = pc.fill_null(pc.greater(pc.binary_length(column), max_text_bytes), False).to_pylist()
        if any(too_large):  # value by value, so that the long ones are never made into Python objects
            columns[name] = [TOO_LARGE if flag else _decoded(binary[i].as_py()) for i, flag in enumerate(too_large)]
        else:
            columns[name] = [_decoded(raw) for raw in binary.to_pylist()]
    return [dict(zip(columns, values)) for values in zip(*columns.values())] if columns else []


def _decoded(raw: bytes | None) -> str | _Undecodable | None:
    if raw is None:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return UNDECODABLE


def batch_rows(group: pq.RowGroupMetaData, names: list[str]) -> int:
    """Rows per read batch in a row group: at most PARQUET_BATCH_ROWS, and about PARQUET_BATCH_BYTES of
    decoded data by the group's average row (one row at a time for a group of 200 MB texts: Arrow then
    holds one such value, not two)."""
    decoded_bytes = sum(group.column(i).total_uncompressed_size for i in range(group.num_columns)
                        if group.column(i).path_in_schema.split(".")[0] in names)
    return max(1, min(PARQUET_BATCH_ROWS, PARQUET_BATCH_BYTES * group.num_rows // max(decoded_bytes, 1)))


def parquet_rows(path: str, max_text_bytes: int) -> Iterator[dict[str, Any]]:
    number = 0
    try:
        with _open_random_access(path) as source:
            parquet = pq.ParquetFile(source, buffer_size=PARQUET_BUFFER_BYTES, pre_buffer=False)
            names = [name for name in parquet.schema_arrow.names if name in INPUT_COLUMNS]
            if not names:  # no core column at all: every row is one missing id and text
                for number in range(1, parquet.metadata.num_rows + 1):
                    yield problem_row(path, number, MISSING_ID_OR_TEXT)
                return
            for group in range(parquet.num_row_groups):  # one group at a time: a damaged one spares those before
                rows = batch_rows(parquet.metadata.row_group(group), names)
                for batch in parquet.iter_batches(batch_size=rows, row_groups=[group], columns=names, use_threads=False):
                    for record in batch_records(batch, max_text_bytes):
                        number += 1
                        yield record_row(record, path, number, max_text_bytes)
    except (pa.ArrowException, OSError) as error:
        raise TableReadError(error_line(error)) from error


# ---- any table input ----------------------------------------------------------------------------------

def input_bytes(path: str) -> int:
    if not is_uri(path):
        return os.path.getsize(path)
    fs, inner = pafs.FileSystem.from_uri(path)
    return fs.get_file_info(inner).size or 0


def read_table_rows(path: str, max_text_bytes: int) -> Iterator[dict[str, Any]]:
    """Rows of a JSON Lines, JSON array or Parquet input, one per record, in file order; raises
    TableReadError (after the rows read before it) when the file cannot be read on."""
    try:
        if input_bytes(path) == 0:
            raise TableReadError("empty input: 0 bytes")
        if path.endswith(".parquet"):
            yield from parquet_rows(path, max_text_bytes)
            return
        with open_input(path) as stream:
            if path.endswith(".json"):
                yield from json_rows(path, stream, max_text_bytes)
            else:
                yield from jsonl_rows(path, decompressed_chunks(path, stream), max_text_bytes)
    except OSError as error:  # opening failed (permissions, a vanished file)
        raise TableReadError(error_line(error)) from error
