"""Child process that runs trafilatura for `pipeline.extract.ExtractorSandbox`.

Protocol on stdin/stdout, one request at a time: the parent sends a 4-byte big-endian length and the
UTF-8 HTML; the child answers one status byte (b"T" text, b"N" nothing extracted, b"E" error) followed by
a 4-byte length and UTF-8 payload (the text, or the error message). The settings arrive once, as JSON in
argv[1]. A memory cap (RLIMIT_AS) turns runaway pages into MemoryError instead of killing the executor.
"""
from __future__ import annotations

import json
import resource
import struct
import sys
from typing import BinaryIO


def _read_exactly(stream: BinaryIO, size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise EOFError("parent closed the pipe")
    return data


def _answer(stream: BinaryIO, status: bytes, payload: str) -> None:
    data = payload.encode("utf-8", errors="replace")
    stream.write(status + struct.pack(">I", len(data)) + data)
    stream.flush()


def serve(settings: dict, memory_limit_bytes: int) -> None:
    if memory_limit_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit_bytes, memory_limit_bytes))
    import trafilatura  # imported after the cap so that its own allocations count too

    requests, replies = sys.stdin.buffer, sys.stdout.buffer
    while True:
        try:
            (size,) = struct.unpack(">I", _read_exactly(requests, 4))
            html = _read_exactly(requests, size).decode("utf-8")
        except EOFError:
            return
        try:
            text = trafilatura.extract(html, **settings)
        except MemoryError:
            _answer(replies, b"E", "MemoryError")
            continue
        except (ValueError, TypeError, AttributeError, RecursionError, LookupError) as error:
            _answer(replies, b"E", f"{type(error).__name__}: {error}")
            continue
        _answer(replies, b"T" if text else b"N", text or "")


if __name__ == "__main__":
    serve(json.loads(sys.argv[1]), int(sys.argv[2]))
