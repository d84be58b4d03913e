"""Streaming WARC reader that accounts for every byte: records, their offsets, and where a file breaks.

Common Crawl writes one gzip member per record, and a record's `warc_offset` is the compressed offset of
the member its header starts in (the offset the CC index gives). Gzip members are decoded with zlib here
rather than by a WARC library because the libraries tried (fastwarc 2.0, warcio) end silently, or read
trailing garbage into the last payload, when a file is cut inside a member; this reader reports it.

`iter_records` yields `WarcRecord`s, never raises for a bad record (the record carries `error`), and
raises `WarcFileError` after the last readable record when the file itself breaks (truncated or corrupt
gzip data, bytes that are not WARC at all), so the caller keeps what was readable and ledgers the rest.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import BinaryIO, Iterator

READ_CHUNK_BYTES = 1 << 20
MAX_HEADER_BYTES = 1 << 16  # a WARC header block larger than this is not a header
GZIP_MAGIC = b"\x1f\x8b"
NEXT_RECORD = b"\r\n\r\nWARC/"  # what follows a block whose Content-Length is right


class WarcFileError(Exception):
    """The file cannot be read (further): not WARC, corrupt or truncated compressed data."""


@dataclass
class WarcRecord:
    offset: int  # compressed offset of the record's gzip member, or byte offset in an uncompressed file
    record_type: str  # WARC-Type, lowercased ("response", "request", ...); "" when unreadable
    headers: dict[str, str] = field(default_factory=dict)  # WARC header names lowercased
    block: bytes = b""  # the record block; empty when over the size cap
    block_bytes: int = 0  # the block's length on disk (Content-Length when it could be read fully)
    error: str | None = None  # None, "truncated", "too_large", or "corrupt: <what>"

    @property
    def record_id(self) -> str | None:
        return self.headers.get("warc-record-id")


def _gzip_chunks(stream: BinaryIO) -> Iterator[tuple[bytes, int]]:
    """Decompressed chunks with the compressed offset of the member each comes from.

    A member start is signalled by an empty chunk carrying its offset, so the parser can map a record's
    first byte to its member even when members are tiny. Raises WarcFileError on corrupt or cut data.
    """
    pending = b""
    offset = 0  # compressed offset of `pending[0]`
    while True:
        if not pending:
            pending = stream.read(READ_CHUNK_BYTES)
            if not pending:
                return
        if pending[:2] != GZIP_MAGIC:
            if pending.strip(b"\x00\r\n\t ") == b"" and not stream.read(1):
                return  # padding after the last member
            raise WarcFileError(f"not a gzip member at byte {offset}: the file has non-gzip data after its last member")
        member_offset = offset
        yield b"", member_offset
        decoder = zlib.decompressobj(wbits=31)
        fed = 0  # compressed bytes of this member given to the decoder so far
        data = pending
        while True:
            try:
                out = decoder.decompress(data, READ_CHUNK_BYTES)
            except zlib.error as error:
                raise WarcFileError(f"corrupt gzip data in the member at byte {member_offset}: {error}") from error
            if out:
                yield out, member_offset
            if decoder.eof:
                fed += len(data) - len(decoder.unused_data)
                pending = decoder.unused_data
                offset = member_offset + fed
                break
            if decoder.unconsumed_tail:
                fed += len(data) - len(decoder.unconsumed_tail)
                data = decoder.unconsumed_tail
                continue
            fed += len(data)
            data = stream.read(READ_CHUNK_BYTES)
            if not data:
                raise WarcFileError(f"truncated gzip member at byte {member_offset}: the file ends inside it")


def _plain_chunks(stream: BinaryIO, first: bytes) -> Iterator[tuple[bytes, int]]:
    """Chunks of an uncompressed WARC (offsets are tracked by the buffer)."""
    chunk = first
    while chunk:
        yield chunk, 0
        chunk = stream.read(READ_CHUNK_BYTES)


class _Buffer:
    """Decoded bytes not yet parsed, and the record offset of each position in them.

    For gzip input, `starts` maps buffer positions where a member begins to the member's compressed
    offset; for plain input, `base` is the file offset of `data[0]`. A file-level error met while
    filling is kept in `error` so the records before it are still parsed and yielded.
    """

    def __init__(self, chunks: Iterator[tuple[bytes, int]], compressed: bool) -> None:
        self.chunks = chunks
        self.compressed = compressed
        self.data = bytearray()
        self.base = 0
        self.starts: list[tuple[int, int]] = []
        self.exhausted = False
        self.error: WarcFileError | None = None

    def fill(self) -> bool:
        """Append one more decoded chunk; False at the end of the stream or at a file-level error."""
        if self.exhausted:
            return False
        try:
            for chunk, member_offset in self.chunks:
                if self.compressed and not chunk:
                    self.starts.append((len(self.data), member_offset))
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

    def offset_at(self, position: int) -> int:
        if not self.compressed:
            return self.base + position
        found = 0
        for start, member_offset in self.starts:
            if start > position:
                break
            found = member_offset
        return found

    def consume(self, count: int) -> None:
        del self.data[:count]  # O(1) amortized: bytearray drops its head without copying
        if not self.compressed:
            self.base += count
            return
        shifted: list[tuple[int, int]] = []
        for start, member_offset in self.starts:
            shifted = [(0, member_offset)] if start <= count else shifted + [(start - count, member_offset)]
        self.starts = shifted

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


def _resync(buffer: _Buffer) -> bool:
    """Skip to the next `WARC/` at a line start after a corrupt record; False if none is left."""
    buffer.skip_newlines()
    buffer.ensure(5)
    if bytes(buffer.data[:5]) == b"WARC/":
        return True
    while True:
        found = buffer.data.find(b"\nWARC/", 1)
        if found >= 0:
            buffer.consume(found + 1)
            return True
        keep = min(len(buffer.data), 5)
        buffer.consume(len(buffer.data) - keep)
        if not buffer.fill():
            buffer.consume(len(buffer.data))
            return False


def iter_records(stream: BinaryIO, max_block_bytes: int) -> Iterator[WarcRecord]:
    """Every record of a WARC stream (gzip or plain) in file order.

    Blocks over `max_block_bytes` are skipped, not held in memory (error "too_large"). Raises
    WarcFileError when the file is not WARC, or after the last readable record when it breaks.
    """
    first = stream.read(READ_CHUNK_BYTES)
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
                yield WarcRecord(offset, "", error="truncated")
                return
            yield WarcRecord(offset, "", error="corrupt: no end of the WARC header")
            if not _resync(buffer):
                return
            continue
        try:
            _version, headers = _parse_header(bytes(buffer.data[:end]))
            declared = int(headers.get("content-length", ""))
            if declared < 0:
                raise ValueError(f"negative Content-Length {declared}")
        except ValueError as error:
            buffer.consume(end + sep)
            yield WarcRecord(offset, "", error=f"corrupt: {error}")
            if not _resync(buffer):
                return
            continue
        record_type = headers.get("warc-type", "").lower()
        buffer.consume(end + sep)
        if declared > max_block_bytes:
            remaining = declared
            while remaining:
                if not buffer.data and not buffer.fill():
                    yield WarcRecord(offset, record_type, headers, b"", declared - remaining, "truncated")
                    return
                step = min(remaining, len(buffer.data))
                buffer.consume(step)
                remaining -= step
            yield WarcRecord(offset, record_type, headers, b"", declared, "too_large")
            continue
        buffer.ensure(declared + len(NEXT_RECORD))
        if len(buffer.data) < declared or not _ends_cleanly(buffer, declared):
            # The block does not end where Content-Length says: recover the records after it.
            found = buffer.data.find(b"\nWARC/")
            if found >= 0:
                buffer.consume(found + 1)
                yield WarcRecord(offset, record_type, headers, error="corrupt: Content-Length does not match the block")
                continue
            if len(buffer.data) < declared:
                block = bytes(buffer.data)
                buffer.consume(len(block))
                yield WarcRecord(offset, record_type, headers, block, len(block), "truncated")
                return
            yield WarcRecord(offset, record_type, headers, error="corrupt: Content-Length does not match the block")
            if not _resync(buffer):
                return
            continue
        block = bytes(buffer.data[:declared])
        buffer.consume(declared)
        yield WarcRecord(offset, record_type, headers, block, declared, None)


def _ends_cleanly(buffer: _Buffer, declared: int) -> bool:
    """After the block come only CR/LF and then the next `WARC/` header or the end of the file."""
    rest = bytes(buffer.data[declared : declared + len(NEXT_RECORD)]).lstrip(b"\r\n")
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
