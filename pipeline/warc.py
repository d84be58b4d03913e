"""Streaming WARC reader that accounts for every byte: records, their offsets, and where a file breaks.

Common Crawl writes one gzip member per record, and a record's `warc_offset` is the compressed offset of
the member its header starts in (the offset the CC index gives). Gzip members are decoded with zlib here
rather than by a WARC library because the libraries tried (fastwarc 2.0, warcio) end silently, or read
trailing garbage into the last payload, when a file is cut inside a member; this reader reports it.

`iter_records` yields `WarcRecord`s, never raises for a bad record (the record carries `error`), and
raises `WarcFileError` after the last readable record when the file itself breaks (truncated or corrupt
gzip data, a file that ends inside a record, bytes that are not WARC at all), so the caller keeps what was
readable and ledgers the rest. A record the reader cannot route (no WARC-Type, no usable Content-Length) is
"corrupt" but keeps the header fields it could read; after a corrupt record the reader resumes at the next
`WARC/` that starts a line or a gzip member. Work is linear in the file size whatever the member sizes, and
every record consumes at least one byte, so no input makes the reader loop.

Two hostile cases have a rule of their own (issue 17):
- A header with no blank line in its first MAX_HEADER_BYTES (oversized or endless) is one corrupt record;
  reading resumes at the next record start after its first byte: a gzip member that starts with `WARC/`
  (with one member per record, the next member) or a line that does (plain files). Memory stays bounded
  (the header window plus one read) and each byte is searched for the blank line once.
- A Content-Length over the block cap cannot be checked by holding the block, so its streaming skip watches
  for a record start inside it: a gzip member that starts with a WARC version line (writers put one record
  in a member, or the whole file in one: a block never runs into such a member), or a version line right
  after a record end (`\r\n\r\nWARC/1.1\r\n`). The member start proves the length lies. The other could be
  payload text (a page quoting a WARC), so when the declared end is at most the cap away the bytes up to it
  are held and checked as under the cap: a clean end there means a true over-cap block (`too_large`). If
  the end is not clean, the file ends first, or the end is further (it cannot be held), the length lies:
  one corrupt record ("corrupt: Content-Length does not match the block", as under the cap), and reading
  resumes at the record found. So a true over-cap block that quotes a whole WARC record more than the cap
  before its end is read as a lie; a true over-cap block is never held in memory.
"""
from __future__ import annotations

import re
import zlib
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import BinaryIO, Iterator

READ_CHUNK_BYTES = 1 << 20
SNIFF_BYTES = 64  # bytes read before deciding gzip, plain WARC, or neither
FEED_BYTES = 1 << 14  # compressed bytes given to zlib per call (see _gzip_chunks)
MAX_HEADER_BYTES = 1 << 16  # a WARC header block larger than this is not a header
GZIP_MAGIC = b"\x1f\x8b"
NEXT_RECORD = b"\r\n\r\nWARC/"  # what follows a block whose Content-Length is right
RECORD_END = b"\r\n\r\n"  # the two CRLFs that end every record (WARC 1.1, section 4)
CONTENT_LENGTH = re.compile(r"[0-9]+")  # ASCII digits only: int() would also take "+5", "5_0" and "٥"
VERSION_LINE = re.compile(rb"WARC/[0-9]{1,4}\.[0-9]{1,4}\r?\n")  # how a record inside a lying block must start
LOOKAHEAD_BYTES = 16  # bytes past a candidate record start needed to match VERSION_LINE
HEADER_WINDOW_BYTES = MAX_HEADER_BYTES + len(RECORD_END)  # a header's blank line must start inside this


class WarcFileError(Exception):
    """The file cannot be read (further): not WARC, corrupt or truncated compressed data."""


@dataclass
class WarcRecord:
    offset: int  # compressed offset of the record's gzip member, or byte offset in an uncompressed file
    record_type: str  # WARC-Type, lowercased ("response", "request", ...); "" when unreadable
    headers: dict[str, str] = field(default_factory=dict)  # WARC header names lowercased
    block: bytes = b""  # the record block; empty when over the size cap
    block_bytes: int = 0  # the block's length on disk (Content-Length when it could be read fully)
    error: str | None = None  # None, "truncated", "too_large", or "corrupt: <what>"; "" type => "corrupt: ..."

    @property
    def record_id(self) -> str | None:
        return self.headers.get("warc-record-id")


def _gzip_chunks(stream: BinaryIO) -> Iterator[tuple[bytes, int]]:
    """Decompressed chunks with the compressed offset of the member each comes from.

    A member start is signalled by an empty chunk carrying its offset, so the parser can map a record's
    first byte to its member even when members are tiny. Raises WarcFileError on corrupt or cut data.
    The decoder is fed at most FEED_BYTES at a time: zlib copies the bytes after a member's end
    (`unused_data`), and feeding it whole 1 MiB reads cost a copy of the rest of the read per member.
    """
    pending = b""  # compressed bytes read and not yet decoded start at pending[start]
    start = 0
    base = 0  # compressed offset of pending[0]
    while True:
        if len(pending) - start < len(GZIP_MAGIC):  # the magic may straddle two reads
            base += start
            pending, start = pending[start:], 0
            while len(pending) < len(GZIP_MAGIC) and (more := stream.read(READ_CHUNK_BYTES)):
                pending += more
            if not pending:
                return
        if pending[start : start + len(GZIP_MAGIC)] != GZIP_MAGIC:
            if pending[start:].strip(b"\x00\r\n\t ") == b"" and not stream.read(1):
                return  # padding after the last member
            raise WarcFileError(f"not a gzip member at byte {base + start}: the file has non-gzip data after its last member")
        member_offset = base + start
        yield b"", member_offset
        decoder = zlib.decompressobj(wbits=31)
        while not decoder.eof:
            if start == len(pending):
                base += len(pending)
                pending, start = stream.read(READ_CHUNK_BYTES), 0
                if not pending:
                    raise WarcFileError(f"truncated gzip member at byte {member_offset}: the file ends inside it")
            piece = memoryview(pending)[start : start + FEED_BYTES]
            try:
                out = decoder.decompress(piece, READ_CHUNK_BYTES)
            except zlib.error as error:
                raise WarcFileError(f"corrupt gzip data in the member at byte {member_offset}: {error}") from error
            # After the member's end zlib reports the rest as unused_data (and, when the output limit was
            # hit in the same call, as unconsumed_tail too): count it once.
            start += len(piece) - len(decoder.unused_data if decoder.eof else decoder.unconsumed_tail)
            if out:
                yield out, member_offset


def _plain_chunks(stream: BinaryIO, first: bytes) -> Iterator[tuple[bytes, int]]:
    """Chunks of an uncompressed WARC (offsets are tracked by the buffer)."""
    chunk = first
    while chunk:
        yield chunk, 0
        chunk = stream.read(READ_CHUNK_BYTES)


class _Buffer:
    """Decoded bytes not yet parsed, and the record offset of each position in them.

    `consumed` counts the decoded bytes already parsed, so `consumed + i` is the stream position of
    `data[i]`: for plain input that is the file offset; for gzip input, `member_positions` (ascending) and
    `member_offsets` map the stream positions where members begin to their compressed offsets, and
    `first_member` skips those already passed (a list kept by index, because files of many tiny or empty
    members would make re-building it per record quadratic). A file-level error met while filling is kept
    in `error` so the records before it are still parsed and yielded.
    """

    def __init__(self, chunks: Iterator[tuple[bytes, int]], compressed: bool) -> None:
        self.chunks = chunks
        self.compressed = compressed
        self.data = bytearray()
        self.consumed = 0
        self.member_positions: list[int] = []
        self.member_offsets: list[int] = []
        self.first_member = 0  # index of the member `data[0]` is in; earlier ones are done with
        self.exhausted = False
        self.error: WarcFileError | None = None
        self.no_header_end_before = 0  # stream position: no blank line starts before it (see _header_end)

    def fill(self) -> bool:
        """Append one more decoded chunk; False at the end of the stream or at a file-level error."""
        if self.exhausted:
            return False
        try:
            for chunk, member_offset in self.chunks:
                if self.compressed and not chunk:
                    self.member_positions.append(self.consumed + len(self.data))
                    self.member_offsets.append(member_offset)
                    continue
                self.data += chunk
                return True
        except WarcFileError as error:
            self.error = error
        self.exhausted = True
        return False

    def ensure(self, size: int) -> bool:
        while len(self.data) < size:
            if not self.fill():
                return False
        return True

    def _member_index(self, position: int) -> int:
        """Index of the member that holds buffer position `position` (-1 before the first member)."""
        return bisect_right(self.member_positions, self.consumed + position, lo=self.first_member) - 1

    def offset_at(self, position: int) -> int:
        if not self.compressed:
            return self.consumed + position
        index = self._member_index(position)
        return self.member_offsets[index] if index >= 0 else 0

    def member_starts(self, position: int) -> Iterator[int]:
        """Buffer positions at or after `position` where a gzip member begins (none for plain input)."""
        start = bisect_right(self.member_positions, self.consumed + position - 1, lo=self.first_member)
        for stream_position in self.member_positions[start:]:
            yield stream_position - self.consumed

    def consume(self, count: int) -> None:
        del self.data[:count]  # O(1) amortized: bytearray drops its head without copying
        self.consumed += count
        if not self.compressed:
            return
        self.first_member = max(self.first_member, self._member_index(0))
        if self.first_member > 4096 and self.first_member * 2 > len(self.member_positions):
            del self.member_positions[: self.first_member]  # amortized O(1): half the list at a time
            del self.member_offsets[: self.first_member]
            self.first_member = 0

    def skip_newlines(self) -> None:
        count = 0
        while count < len(self.data) and self.data[count] in b"\r\n":
            count += 1
        self.consume(count)


def _parse_header(raw: bytes) -> tuple[str, dict[str, str]]:
    """Version line and header fields of a WARC header block (field names lowercased)."""
    lines = raw.decode("utf-8", errors="replace").split("\n")
    version = lines[0].strip()
    headers: dict[str, str] = {}
    last = None
    for line in lines[1:]:
        line = line.rstrip("\r")
        if not line:
            continue
        if line[0] in " \t" and last is not None:  # folded continuation line
            headers[last] += " " + line.strip()
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise ValueError(f"header line without a colon: {line[:80]!r}")
        last = name.strip().lower()
        headers[last] = value.strip()
    return version, headers


def _header_end(buffer: _Buffer) -> tuple[int, int]:
    """The blank line ending the header at buffer[0] (index, length), filling as needed; (-1, 0) if none is
    in HEADER_WINDOW_BYTES or the input ends first. Bytes searched for an earlier header are not searched
    again: after an oversized header the next one may start a line later (quadratic if re-searched)."""
    while True:
        start = max(buffer.no_header_end_before - buffer.consumed - (len(RECORD_END) - 1), 0)
        stop = min(len(buffer.data), HEADER_WINDOW_BYTES)
        crlf, lf = buffer.data.find(b"\r\n\r\n", start, stop), buffer.data.find(b"\n\n", start, stop)
        end, sep = (crlf, 4) if crlf >= 0 and (lf < 0 or crlf < lf) else (lf, 2)
        if end >= 0:  # a blank line that starts past the header cap ends an oversized header
            return (end, sep) if end <= MAX_HEADER_BYTES else (-1, 0)
        buffer.no_header_end_before = max(buffer.no_header_end_before, buffer.consumed + stop)
        if stop >= HEADER_WINDOW_BYTES or not buffer.fill():
            return -1, 0


def _next_header(buffer: _Buffer, position: int) -> int:
    """Buffer position at or after `position` of the next `WARC/` that starts a line or a gzip member; -1
    if none is buffered. Member starts count because a record's junk need not end with a line break."""
    found = buffer.data.find(b"\nWARC/", max(position - 1, 0))
    line_start = found + 1 if found >= 0 else -1
    for start in buffer.member_starts(position):
        if line_start >= 0 and start >= line_start:
            break
        if buffer.data[start : start + 5] == b"WARC/":
            return start
    return line_start


def _resync(buffer: _Buffer) -> bool:
    """Skip to the next record start after a corrupt record; False if none is left."""
    buffer.skip_newlines()
    buffer.ensure(5)
    if bytes(buffer.data[:5]) == b"WARC/":
        return True
    while True:
        found = _next_header(buffer, 1)
        if found >= 0:
            buffer.consume(found)
            return True
        keep = min(len(buffer.data), 5)  # a `\nWARC/` may straddle the next chunk
        buffer.consume(len(buffer.data) - keep)
        if not buffer.fill():
            buffer.consume(len(buffer.data))
            return False


def _content_length(headers: dict[str, str]) -> int:
    """The block size a WARC header declares; ValueError naming what is wrong."""
    value = headers.get("content-length")
    if value is None:
        raise ValueError("no Content-Length header")
    if not CONTENT_LENGTH.fullmatch(value):
        raise ValueError(f"Content-Length is not a non-negative integer: {value[:40]!r}")
    return int(value)


def _typed(error: str | None, record_type: str) -> str | None:
    """A record without a WARC-Type cannot be routed (response? request?): it is corrupt whatever else."""
    if record_type or (error or "").startswith("corrupt"):
        return error
    return "corrupt: no WARC-Type header"


def iter_records(stream: BinaryIO, max_block_bytes: int) -> Iterator[WarcRecord]:
    """Every record of a WARC stream (gzip or plain) in file order.

    Blocks over `max_block_bytes` are skipped, not held in memory (error "too_large"). Raises
    WarcFileError when the file is not WARC, or after the last readable record when it breaks.
    """
    first = stream.read(READ_CHUNK_BYTES)
    while 0 < len(first) < SNIFF_BYTES:  # a stream may return short reads: sniff on enough bytes
        more = stream.read(READ_CHUNK_BYTES)
        if not more:
            break
        first += more
    if not first:
        return
    compressed = first[:2] == GZIP_MAGIC
    if compressed:
        chunks = _gzip_chunks(_Prepend(first, stream))
    elif first.lstrip(b"\r\n")[:5] == b"WARC/":
        chunks = _plain_chunks(stream, first)
    else:
        raise WarcFileError("neither gzip nor WARC: the file does not start with a gzip member or 'WARC/'")
    buffer = _Buffer(chunks, compressed)
    yield from _records(buffer, max_block_bytes)
    if buffer.error is not None:
        raise buffer.error


def _records(buffer: _Buffer, max_block_bytes: int) -> Iterator[WarcRecord]:
    while True:
        while True:  # skip the blank lines between records
            buffer.skip_newlines()
            if buffer.data:
                break
            if not buffer.fill():
                return
        buffer.ensure(5)
        offset = buffer.offset_at(0)
        if bytes(buffer.data[:5]) != b"WARC/":
            yield WarcRecord(offset, "", error="corrupt: bytes where a WARC header should start")
            if not _resync(buffer):
                return
            continue
        end, sep = _header_end(buffer)
        if end < 0:
            if buffer.exhausted and len(buffer.data) < HEADER_WINDOW_BYTES:  # the input ends inside a header
                _file_ends_inside(buffer, offset)
                yield _cut_header(offset, bytes(buffer.data))
                buffer.consume(len(buffer.data))
                return
            yield WarcRecord(offset, "", error=f"corrupt: no end of the WARC header in its first {MAX_HEADER_BYTES} bytes")
            buffer.consume(1)  # resume after this record's start, not at it
            if not _resync(buffer):
                return
            continue
        try:
            _version, headers = _parse_header(bytes(buffer.data[:end]))
        except ValueError as error:
            buffer.consume(end + sep)
            yield WarcRecord(offset, "", error=f"corrupt: {error}")
            if not _resync(buffer):
                return
            continue
        record_type = headers.get("warc-type", "").lower()
        buffer.consume(end + sep)
        try:
            declared = _content_length(headers)
        except ValueError as error:  # the header is readable: keep it (id, URL) for the unreadable row
            yield WarcRecord(offset, record_type, headers, error=f"corrupt: {error}")
            if not _resync(buffer):
                return
            continue
        if declared > max_block_bytes:
            skipped, lies = _skip_block(buffer, declared, max_block_bytes)
            if lies:
                yield WarcRecord(offset, record_type, headers, error="corrupt: Content-Length does not match the block")
                continue
            if skipped < declared:
                _file_ends_inside(buffer, offset)
                yield WarcRecord(offset, record_type, headers, b"", skipped, _typed("truncated", record_type))
                return
            yield WarcRecord(offset, record_type, headers, b"", declared, _typed("too_large", record_type))
            continue
        buffer.ensure(declared + len(NEXT_RECORD))
        if len(buffer.data) < declared or not _ends_cleanly(buffer, declared):
            # The block does not end where Content-Length says: recover the records after it.
            found = _next_header(buffer, 0)
            if found >= 0:
                buffer.consume(found)
                yield WarcRecord(offset, record_type, headers, error="corrupt: Content-Length does not match the block")
                continue
            if len(buffer.data) < declared:
                _file_ends_inside(buffer, offset)
                block = bytes(buffer.data)
                buffer.consume(len(block))
                yield WarcRecord(offset, record_type, headers, block, len(block), _typed("truncated", record_type))
                return
            yield WarcRecord(offset, record_type, headers, error="corrupt: Content-Length does not match the block")
            if not _resync(buffer):
                return
            continue
        block = bytes(buffer.data[:declared])
        buffer.consume(declared)
        yield WarcRecord(offset, record_type, headers, block, declared, _typed(None, record_type))


def _record_start_inside(buffer: _Buffer, start: int, stop: int) -> tuple[int, bool]:
    """First index in [start, stop) where a record starts inside a block, and whether a gzip member starts
    there; (-1, False) if none. Needs data[start - 4:] and LOOKAHEAD_BYTES past `stop` (or the input end)."""
    data = buffer.data
    found = -1
    search = max(start - len(RECORD_END), 0)
    while (at := data.find(RECORD_END + b"WARC/", search, stop + len(RECORD_END))) >= 0:
        if VERSION_LINE.match(data, at + len(RECORD_END)):
            found = at + len(RECORD_END)
            break
        search = at + 1
    for member_start in buffer.member_starts(start):
        if member_start >= stop or (found >= 0 and member_start > found):
            break
        if VERSION_LINE.match(data, member_start):
            return member_start, True
    return found, False


def _skip_block(buffer: _Buffer, declared: int, hold_bytes: int) -> tuple[int, bool]:
    """Consume a block over the cap without holding it, unless a record starts inside it (see the module
    docstring). Returns the bytes consumed (< `declared`: the input ended) and whether the length lies; on
    a lie the buffer starts at the record found."""
    skipped = 0  # block bytes consumed
    start = 0  # buffer index from which record starts are still to be searched
    while True:
        end = declared - skipped  # buffer index where the declared block ends
        ready = len(buffer.data) - (0 if buffer.exhausted else LOOKAHEAD_BYTES)
        stop = min(end, ready)
        if stop > start:
            found, at_member = _record_start_inside(buffer, start, stop)
            if found >= 0:
                buffer.consume(found)
                if not at_member and _block_ends_at(buffer, end - found, hold_bytes):
                    return declared, False
                return skipped + found, True
            start = stop
        if end <= ready or buffer.exhausted:  # searched to the declared end, or to the end of the input
            step = min(end, len(buffer.data))
            buffer.consume(step)
            return skipped + step, False
        drop = max(start - len(RECORD_END), 0)  # keep a tail: a record end may straddle the next read
        buffer.consume(drop)
        skipped += drop
        start -= drop
        buffer.fill()


def _block_ends_at(buffer: _Buffer, end: int, hold_bytes: int) -> bool:
    """Whether a block whose declared end is at index `end`, past a record start found at index 0, really
    ends there (checked as under the cap, if at most `hold_bytes` away). True consumes it to its end."""
    if end > hold_bytes or not buffer.ensure(end):
        return False
    buffer.ensure(end + len(NEXT_RECORD))
    if not _ends_cleanly(buffer, end):
        return False
    if any(VERSION_LINE.match(buffer.data, m) for m in buffer.member_starts(1) if m < end):
        return False  # a gzip member start inside proves the length wrong whatever the end looks like
    buffer.consume(end)
    return True


def _file_ends_inside(buffer: _Buffer, offset: int) -> None:
    """A file that ends inside a record is broken whatever its compression: for gzip input the cut
    member has usually said so already; a plain file, or one whole gzip stream of a cut WARC, has not."""
    if buffer.error is None:
        buffer.error = WarcFileError(f"truncated WARC record at byte {offset}: the file ends inside it")


def _cut_header(offset: int, partial: bytes) -> WarcRecord:
    """The record whose header the file ends in: typed "truncated" if its WARC-Type line was read, so a
    cut response still becomes a row; unroutable (corrupt) otherwise."""
    complete_lines = partial[: partial.rfind(b"\n") + 1]
    try:
        _version, headers = _parse_header(complete_lines)
    except ValueError:
        headers = {}
    record_type = headers.get("warc-type", "").lower()
    if not record_type:
        return WarcRecord(offset, "", headers, error="corrupt: the file ends inside the WARC header")
    return WarcRecord(offset, record_type, headers, error="truncated")


def _ends_cleanly(buffer: _Buffer, declared: int) -> bool:
    """After the block comes the record terminator (CRLF CRLF; whatever follows it is the next record's
    business), or only line breaks and then the next `WARC/` header or the end of the file."""
    after = bytes(buffer.data[declared : declared + len(NEXT_RECORD)])
    if after.startswith(RECORD_END):
        return True
    rest = after.lstrip(b"\r\n")
    return rest == b"" or rest.startswith(b"WARC/")


class _Prepend:
    """A read-only stream that first returns `head`, then the rest of `stream`."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        self.head = head
        self.stream = stream

    def read(self, size: int = -1) -> bytes:
        if self.head:
            head, self.head = self.head, b""
            return head
        return self.stream.read(size)
