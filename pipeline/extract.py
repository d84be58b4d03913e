"""Extraction: WARC records -> Documents with main text (trafilatura), every failure a named reason.
A WET file's conversion records are already text: `conversion_document` makes their rows without extraction.

trafilatura runs in a child process (`ExtractorSandbox`): a page that loops, recurses or allocates
without bound is cut off after `timeout_seconds` of the child's CPU time (`extract:timeout`) or by a
memory cap (`extract:failed`), and the task carries on with a fresh child. datatrove's `ExtractorSandbox`
does the same for the same reason; signal-based timeouts cannot interrupt lxml's C code.

The limit counts CPU seconds, not wall-clock seconds, so that a page kept on an idle machine is not
`extract:timeout` on a busy one: the child reports the CPU time of each page and the kernel stops it
(RLIMIT_CPU, SIGXCPU) within a second after the limit. What remains load-dependent: the CPU time of the
same work still varies between runs and machines (shared caches, clock frequency, busy SMT siblings or
hypervisor neighbours: on the shared 2-vCPU machine of benchmarks/extraction_under_load.py the same job
took 3.5 CPU seconds idle and 4.9 with two CPU hogs), so a page within that margin of the limit can
change outcome; the default limit (10 s) is ~300 times a typical page's CPU (~30 ms). And the
wall-clock backstop (`wall_timeout_seconds`, by default max(60 s, 10 x the CPU limit)), which catches a
child that blocks without using CPU, names its drops `extract:wall_timeout` so that they stand apart.
"""
from __future__ import annotations

import atexit
import json
import os
import re
import select
import signal
import subprocess
import sys
from dataclasses import dataclass
from typing import Any, Protocol

import pyarrow as pa

from contract.bounds import bounded
from contract.stage import Rule
from pipeline.extract_worker import REPLY_HEAD, REQUEST_HEAD
from pipeline.http import PayloadError, decode_html, decoded_body, looks_like_html, media_type, parse_response
from pipeline.warc import WarcRecord

EXTRACT_FIELDS: tuple[pa.Field, ...] = (
    pa.field("payload_bytes", pa.int64()),  # HTTP body size after transfer/content decoding
    pa.field("charset", pa.string()),  # Python codec used to decode the HTML
    pa.field("charset_source", pa.string()),  # bom, header, meta, detected or fallback
    # Signals of the cheap-first cascade (pipeline/cascade.py), filled only on the rows it dropped before
    # trafilatura: every row it lets through is identical to a run with the cascade off.
    pa.field("cascade_visible_words", pa.int32()),  # words in all visible text (resiliparse), estimated
    pa.field("cascade_lang", pa.string()),  # fastText's top label on the fast main-content text
    pa.field("cascade_lang_score", pa.float64()),  # its probability
    pa.field("cascade_kept_lang_prob", pa.float64()),  # total probability of the kept languages (langid.languages)
)
CRAWL_IN_PATH = re.compile(r"CC-MAIN-\d{4}-\d{2}")


# Reasons decided while a record is read and its text extracted (declared for the statistics and the report).
WARC, EXTRACT = "warc", "extract"
WARC_RULES = (
    Rule("corrupt_record", "a record or HTTP response that cannot be parsed"),
    Rule("truncated_record", "a record cut off before its declared length (a truncated file)"),
    Rule("payload_too_large", "a payload over extract.max_payload_bytes (never held in memory)"),
    Rule("non_200_status", "an HTTP status other than 200 (redirects, errors)"),
    Rule("duplicate_record_id", "the record id of an earlier record of the same input"),
    Rule("no_refers_to", "a WET conversion record without WARC-Refers-To (no response id to key it by)"),
    Rule("not_utf8", "a WET conversion record whose text is not valid UTF-8"),
)
EXTRACT_RULES = (
    Rule("not_html", "a media type other than extract.html_content_types (PDF, images, JSON)"),
    Rule("no_text", "trafilatura found no main text"),
    Rule("timeout", "extraction used more than extract.timeout_seconds of CPU"),
    Rule("wall_timeout", "extraction took longer than extract.wall_timeout_seconds of wall time"),
    Rule("failed", "the extraction process failed (a crash, or out of memory)"),
)
(CORRUPT_RECORD, TRUNCATED_RECORD, PAYLOAD_TOO_LARGE, NON_200_STATUS, DUPLICATE_RECORD_ID, NO_REFERS_TO,
 NOT_UTF8) = (f"{WARC}:{rule.name}" for rule in WARC_RULES)
NO_TEXT = f"{EXTRACT}:no_text"


@dataclass(frozen=True)
class ExtractConfig:
    """Extraction settings; the length check and its ratios were chosen on 977 pages of four benchmarks and
    checked on the readability test pages (benchmarks/RESULTS.md, "Extraction quality")."""

    # One trafilatura preset alone (favor_precision or favor_recall), or neither: trafilatura's default preset,
    # with the length check (pipeline/extract_strategy.py) unless length_check is false.
    favor_precision: bool = False
    favor_recall: bool = False
    length_check: bool = True
    # Rerun with favor_recall when the default's words are under this fraction of resiliparse's main-content
    # words, with favor_precision when over the max.
    length_check_min_ratio: float = 0.1
    length_check_max_ratio: float = 1.05
    include_comments: bool = False
    include_tables: bool = True
    fast: bool = False  # trafilatura 2.x: skip the readability/justext fallbacks
    # per document, CPU seconds of the extraction child (see the module docstring)
    timeout_seconds: float = bounded(10.0, gt=0, le=3600)
    # Per document, wall clock: a backstop for a child that stops without using CPU. None: max(60 s, 10 x
    # timeout_seconds), far above what CPU-bound work takes even on a machine shared by many processes.
    wall_timeout_seconds: float | None = bounded(None, gt=0, le=86400)
    # Address-space cap of the extraction child process. At least 256 MB: below it the child cannot hold a
    # 5 MB page (128 MB fails on one, <= 48 MB cannot even import trafilatura) and every page is extract:failed.
    memory_limit_mb: int = bounded(2048, ge=256, le=1 << 20)
    max_payload_bytes: int = bounded(10 * 1024 * 1024, ge=1, le=1 << 31)  # larger payloads: warc:payload_too_large
    html_content_types: tuple[str, ...] = ("text/html", "application/xhtml+xml")
    # Cheap-first cascade (pipeline/cascade.py): before trafilatura, drop what the URL filter drops and pages
    # whose fast resiliparse text is far too short or clearly in a language that is not kept. The margins were
    # tuned on real and generated pages so that the kept set matches a run without it (benchmarks/RESULTS.md,
    # "Cascade margins" and "End-to-end throughput"). Off when pipeline.compute_all_signals asks every stage to
    # measure everything.
    cascade: bool = True
    # Drop when the kept languages' total fastText probability on the fast main-content text is below this
    # (the langid stage keeps a page only above langid.min_score, 0.65 by default).
    cascade_min_kept_lang_prob: float = 0.1
    cascade_lang_prefix_chars: int = 1000  # fast text characters fastText sees (its cost grows with length)
    # fewer non-space characters of fast main text: no language decision
    cascade_min_lang_chars: int = bounded(200, ge=0)
    # Drop when all visible text has fewer words than this fraction of heuristics.gopher_quality.min_words.
    cascade_min_words_fraction: float = 0.5

    def __post_init__(self) -> None:
        if self.favor_precision and self.favor_recall:
            # trafilatura silently lets favor_recall win; say so instead of running something else.
            raise ValueError("favor_precision and favor_recall cannot both be true")
        if not 0.0 <= self.cascade_min_kept_lang_prob < 1.0:
            raise ValueError(f"cascade_min_kept_lang_prob must be in [0, 1), got {self.cascade_min_kept_lang_prob}")
        if not 0.0 <= self.cascade_min_words_fraction <= 1.0:
            raise ValueError(f"cascade_min_words_fraction must be in [0, 1], got {self.cascade_min_words_fraction}")
        if self.cascade_lang_prefix_chars <= 0:
            raise ValueError(f"cascade_lang_prefix_chars must be > 0, got {self.cascade_lang_prefix_chars}")
        if not 0.0 <= self.length_check_min_ratio <= self.length_check_max_ratio < float("inf"):
            raise ValueError("need 0 <= length_check_min_ratio <= length_check_max_ratio < inf, got "
                             f"{self.length_check_min_ratio} and {self.length_check_max_ratio}")

    def wall_limit_seconds(self) -> float:
        """The wall-clock backstop per document (see the module docstring)."""
        if self.wall_timeout_seconds is not None:
            return self.wall_timeout_seconds
        return max(60.0, 10.0 * self.timeout_seconds)

    def uses_length_check(self) -> bool:
        return self.length_check and not (self.favor_precision or self.favor_recall)

    def worker_settings(self) -> dict[str, Any]:
        """What the extraction child needs (pipeline/extract_strategy.PageExtractor)."""
        length_check = None
        if self.uses_length_check():
            length_check = {"min_ratio": self.length_check_min_ratio, "max_ratio": self.length_check_max_ratio}
        return {"trafilatura": self.trafilatura_settings(), "length_check": length_check}

    def trafilatura_settings(self) -> dict[str, Any]:
        # `deduplicate` is never set: trafilatura keeps a process-wide cache for it, which would make a
        # document's text depend on the documents processed before it in the same worker.
        return {
            "output_format": "txt",
            "with_metadata": False,
            "include_images": False,
            "include_links": False,
            "favor_precision": self.favor_precision,
            "favor_recall": self.favor_recall,
            "include_comments": self.include_comments,
            "include_tables": self.include_tables,
            "fast": self.fast,
        }


class ExtractorSandbox:
    """trafilatura in a child process with a per-document CPU limit, a wall-clock backstop and a memory cap."""

    def __init__(self, config: ExtractConfig) -> None:
        self.config = config
        self.process: subprocess.Popen | None = None
        self.documents_sent = 0  # pages handed to trafilatura by this process (the cascade's savings show here)

    def _start(self) -> subprocess.Popen:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        command = [
            sys.executable, "-m", "pipeline.extract_worker",
            json.dumps(self.config.worker_settings()), str(self.config.memory_limit_mb * 1024 * 1024),
            repr(self.config.timeout_seconds),
        ]
        return subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)

    def close(self) -> int | None:
        """Stop the child; its exit status (negative: the signal that ended it), None if there was none."""
        if self.process is None:
            return None
        self.process.kill()  # a no-op when it has already exited
        returncode = self.process.wait()
        self.process = None
        return returncode

    def extract(self, html: str, main_words: int | None = None) -> tuple[str | None, str | None]:
        """(text, None) on success; (None, rule) with rule no_text, timeout, wall_timeout or failed otherwise.
        `main_words`: the words of resiliparse's main-content text of `html`, where the caller has counted
        them (the cascade), so that the length check need not parse the page again."""
        if self.process is None or self.process.poll() is not None:
            self.process = self._start()
        self.documents_sent += 1
        try:
            data = html.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: the child sees other HTML than was counted, so it counts
            data, main_words = html.encode("utf-8", errors="replace"), None
        try:
            self.process.stdin.write(REQUEST_HEAD.pack(-1 if main_words is None else main_words, len(data)) + data)
            self.process.stdin.flush()
        except BrokenPipeError:
            self.close()
            return None, "failed"
        ready, _, _ = select.select([self.process.stdout], [], [], self.config.wall_limit_seconds())
        if not ready:
            self.close()
            return None, "wall_timeout"
        head = self.process.stdout.read(REPLY_HEAD.size)
        if len(head) != REPLY_HEAD.size:  # the child died: over its CPU limit (SIGXCPU), segfault, OOM kill
            return None, "timeout" if self.close() == -signal.SIGXCPU else "failed"
        status, cpu_seconds, size = REPLY_HEAD.unpack(head)
        data = self.process.stdout.read(size)
        if len(data) != size:  # died while answering: a cut UTF-8 sequence must not raise here
            return None, "timeout" if self.close() == -signal.SIGXCPU else "failed"
        # The kernel's limit has a granularity of one second: the reported CPU time decides, whatever the
        # child managed to return within that second.
        if cpu_seconds > self.config.timeout_seconds:
            return None, "timeout"
        payload = data.decode("utf-8")  # the child encodes with errors="replace": always valid UTF-8
        if status == b"T":
            return payload, None
        return None, "no_text" if status == b"N" else "failed"


_SANDBOXES: dict[ExtractConfig, ExtractorSandbox] = {}


def sandbox_for(config: ExtractConfig) -> ExtractorSandbox:
    """One sandbox per worker process and config, started lazily and stopped at exit."""
    if config not in _SANDBOXES:
        _SANDBOXES[config] = ExtractorSandbox(config)
    return _SANDBOXES[config]


@atexit.register
def _close_sandboxes() -> None:
    for sandbox in _SANDBOXES.values():
        sandbox.close()


def crawl_of(warcinfo_block: bytes) -> str | None:
    """The crawl name from a warcinfo block's `isPartOf` field (Common Crawl writes it there)."""
    for line in warcinfo_block.decode("utf-8", errors="replace").splitlines():
        name, _, value = line.partition(":")
        if name.strip().lower() == "ispartof" and value.strip():
            return value.strip()
    return None


def crawl_from_path(path: str) -> str | None:
    match = CRAWL_IN_PATH.search(path)
    return match.group(0) if match else None


class Prefilter(Protocol):
    """A check that runs before trafilatura (pipeline/cascade.py's `Cascade`)."""

    def check(self, url: str | None, html: str,
              http_headers: tuple[tuple[str, str], ...] = ()) -> tuple[dict[str, Any] | None, int | None]:
        """(columns with `drop_reason` for a page dropped without trafilatura, else None; the words of
        resiliparse's main-content text when the check made it, else None)."""


def response_document(
    record: WarcRecord, warc_path: str, crawl: str | None, config: ExtractConfig, sandbox: ExtractorSandbox,
    prefilter: Prefilter | None = None,
) -> dict[str, Any]:
    """A Document row for a response record; problems become `drop_reason`, never exceptions.

    `prefilter` runs on decoded HTML that would otherwise go to trafilatura, with the response's header lines,
    and may drop it first (pipeline/cascade.py: the opt-out stage decides there whether the cascade is on or off).
    """
    headers = record.headers
    url = headers.get("warc-target-uri", "").strip("<>") or None
    doc: dict[str, Any] = {
        "id": headers.get("warc-record-id") or f"<{warc_path}#{record.offset}>",
        "url": url,
        "crawl": crawl,
        "warc_path": warc_path,
        "warc_offset": record.offset,
        "fetch_time": headers.get("warc-date"),
        "drop_reason": None,
    }
    if record.error == "too_large":
        return doc | {"drop_reason": PAYLOAD_TOO_LARGE, "payload_bytes": record.block_bytes}
    if record.error == "truncated":
        return doc | {"drop_reason": TRUNCATED_RECORD}
    try:
        response = parse_response(record.block)
        doc["http_status"] = response.status
    except PayloadError:
        return doc | {"drop_reason": CORRUPT_RECORD}
    try:
        body = decoded_body(response, config.max_payload_bytes)
    except PayloadError:
        return doc | {"drop_reason": PAYLOAD_TOO_LARGE}
    http_mime, header_charset = media_type(response.headers.get("content-type"))
    # Common Crawl's own payload detection beats the server's label when both exist.
    mime = media_type(headers.get("warc-identified-payload-type"))[0] or http_mime
    if mime is None and looks_like_html(body):
        mime = "text/html"
    doc |= {"content_type": mime, "payload_bytes": len(body)}
    if response.status != 200:
        return doc | {"drop_reason": NON_200_STATUS}
    if len(body) > config.max_payload_bytes:
        return doc | {"drop_reason": PAYLOAD_TOO_LARGE}
    if mime not in config.html_content_types:
        return doc | {"drop_reason": f"{EXTRACT}:not_html"}
    html, codec, source = decode_html(body, header_charset)
    doc |= {"charset": codec, "charset_source": source}
    main_words = None
    if prefilter is not None:
        dropped, main_words = prefilter.check(url, html, response.header_lines)
        if dropped is not None:
            return doc | dropped
    text, rule = sandbox.extract(html, main_words)
    if rule is not None:
        return doc | {"drop_reason": f"{EXTRACT}:{rule}"}
    return doc | {"text": text}


def conversion_document(record: WarcRecord, warc_path: str, crawl: str | None, max_payload_bytes: int) -> dict[str, Any]:
    """A Document row for a WET `conversion` record: its block is already the page's text, so nothing is
    extracted. The id is WARC-Refers-To, the response record the text came from, so WET and WARC runs key
    (dedup, join) the same page by the same id; without it the row keeps the record's own id and is dropped
    (`warc:no_refers_to`), since it could never join. Text that is not UTF-8 (Common Crawl writes UTF-8) is
    `warc:not_utf8`, not silently repaired; whitespace-only text is `extract:no_text`, as for a page
    trafilatura finds nothing in.
    """
    headers = record.headers
    refers_to = headers.get("warc-refers-to") or None
    doc: dict[str, Any] = {
        "id": refers_to or headers.get("warc-record-id") or f"<{warc_path}#{record.offset}>",
        "url": headers.get("warc-target-uri", "").strip("<>") or None,
        "crawl": crawl,
        "warc_path": warc_path,
        "warc_offset": record.offset,
        "fetch_time": headers.get("warc-date"),
        "content_type": media_type(headers.get("content-type"))[0],
        "payload_bytes": record.block_bytes,
        "drop_reason": None,
    }
    if record.error == "too_large" or record.block_bytes > max_payload_bytes:
        return doc | {"drop_reason": PAYLOAD_TOO_LARGE}
    if record.error == "truncated":
        return doc | {"drop_reason": TRUNCATED_RECORD}
    if refers_to is None:
        return doc | {"drop_reason": NO_REFERS_TO}
    try:
        text = record.block.decode("utf-8")
    except UnicodeDecodeError:
        return doc | {"drop_reason": NOT_UTF8}
    if not text.strip():
        return doc | {"drop_reason": NO_TEXT}
    return doc | {"text": text, "charset": "utf-8"}
