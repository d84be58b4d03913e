"""Child process that runs trafilatura for `pipeline.extract.ExtractorSandbox`.

Protocol on stdin/stdout, one request at a time: the parent sends the words of resiliparse's main-content
text of the page where it has counted them (4-byte big-endian signed, -1: not counted; the length check
then counts them here), a 4-byte big-endian length and the UTF-8 HTML; the child answers one status byte
(b"T" text, b"N" nothing extracted, b"E" error), the CPU seconds it spent on this request (8-byte
big-endian double), a 4-byte length and the UTF-8 payload (the text, or the error message). The settings arrive once, as JSON in argv[1]; argv[2] is the address-space cap
in bytes and argv[3] the CPU limit per request in seconds.

Limits: RLIMIT_AS turns runaway allocations into MemoryError instead of killing the executor. Before each
request RLIMIT_CPU's soft limit is set to the CPU used so far plus the per-request limit, rounded up to the
whole second the kernel counts in, so a page that never ends dies by SIGXCPU (the parent names it
`extract:timeout`); a page that ends within that last second but over the limit is named the same by the
parent from the reported CPU seconds. Counting CPU instead of wall-clock time keeps the outcome the same on
a busy machine.
"""
from __future__ import annotations

import json
import math
import resource
import struct
import sys
import time
from typing import BinaryIO

from pipeline.extract_strategy import PageExtractor

REQUEST_HEAD = struct.Struct(">iI")  # main-content words (-1: not counted), HTML length
REPLY_HEAD = struct.Struct(">cdI")  # status, CPU seconds of the request, payload length


def _read_exactly(stream: BinaryIO, size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise EOFError("parent closed the pipe")
    return data


def _answer(stream: BinaryIO, status: bytes, cpu_seconds: float, payload: str) -> None:
    data = payload.encode("utf-8", errors="replace")
    stream.write(REPLY_HEAD.pack(status, cpu_seconds, len(data)) + data)
    stream.flush()


def _arm_cpu_limit(cpu_limit_seconds: float) -> None:
    """Let the kernel stop this process `cpu_limit_seconds` of CPU from now, rounded up to the whole second
    of the process's total that RLIMIT_CPU counts in."""
    used_seconds = time.process_time()
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = math.ceil(used_seconds + cpu_limit_seconds)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def serve(settings: dict, memory_limit_bytes: int, cpu_limit_seconds: float) -> None:
    # SIGXCPU's default action dumps core: a killed page must not leave a core file in the working directory.
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if memory_limit_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit_bytes, memory_limit_bytes))
    extractor = PageExtractor(settings)  # imports trafilatura after the cap so that its allocations count too

    requests, replies = sys.stdin.buffer, sys.stdout.buffer
    while True:
        try:
            main_words, size = REQUEST_HEAD.unpack(_read_exactly(requests, REQUEST_HEAD.size))
            data = _read_exactly(requests, size)
        except EOFError:
            return
        _arm_cpu_limit(cpu_limit_seconds)
        # The thread's CPU clock measures the page: once RLIMIT_CPU is armed, the kernel may serve the process
        # clock at tick granularity (a few ms), while the thread clock stays exact. The child has one thread.
        start_seconds = time.thread_time()
        try:
            text = extractor.extract(data.decode("utf-8"), None if main_words < 0 else main_words)
        except MemoryError:
            _answer(replies, b"E", time.thread_time() - start_seconds, "MemoryError")
            continue
        except (ValueError, TypeError, AttributeError, RecursionError, LookupError) as error:
            _answer(replies, b"E", time.thread_time() - start_seconds, f"{type(error).__name__}: {error}")
            continue
        _answer(replies, b"T" if text else b"N", time.thread_time() - start_seconds, text or "")


if __name__ == "__main__":
    serve(json.loads(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]))
