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
`WARC/` that starts a line or a gzip member. Work is linear in the file size whatever the member sizes.
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


def _find_header_end(data: bytearray) -> tuple[int, int]:
    """Index of the blank line ending a header block and its length; (-1, 0) if not yet seen."""
    crlf = data.find(b"\r\n\r\n", 0, MAX_HEADER_BYTES + 4)
    lf = data.find(b"\n\n", 0, MAX_HEADER_BYTES + 2)
    if crlf >= 0 and (lf < 0 or crlf < lf):
        return crlf, 4
    return (lf, 2) if lf >= 0 else (-1, 0)


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
        end, sep = _find_header_end(buffer.data)
        while end < 0 and len(buffer.data) <= MAX_HEADER_BYTES and buffer.fill():
            end, sep = _find_header_end(buffer.data)
        if end < 0:
            if buffer.exhausted:
                _file_ends_inside(buffer, offset)
                yield _cut_header(offset, bytes(buffer.data))
                buffer.consume(len(buffer.data))
                return
            yield WarcRecord(offset, "", error="corrupt: no end of the WARC header")
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
            remaining = declared
            while remaining:
                if not buffer.data and not buffer.fill():
                    _file_ends_inside(buffer, offset)
                    yield WarcRecord(offset, record_type, headers, b"", declared - remaining,
                                     _typed("truncated", record_type))
                    return
                step = min(remaining, len(buffer.data))
                buffer.consume(step)
                remaining -= step
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
