"""Coverage-guided fuzzing (atheris, i.e. libFuzzer for Python) of the code that parses crawled bytes.

Targets and the invariants each input must keep (a broken invariant is an AssertionError, which atheris
reports as a crash and saves the input as `crash-<sha1>`):
- `warc`: `pipeline.warc.iter_records` on arbitrary bytes, read as they are, as one gzip member, as one
  gzip member per `WARC/` piece (Common Crawl's layout), or as valid records damaged at one position.
  Only WarcFileError may escape; every record's error is None, "truncated", "too_large" or "corrupt: ...",
  and an untyped record is corrupt; offsets never decrease and lie inside the file; a block never exceeds
  the cap; and every record that ends before the damage is read back exactly (none lost).
- `http`: `parse_response`, `decoded_body`, `media_type`, `looks_like_html`, `decode_html` on arbitrary
  and on well-formed-but-hostile responses (fuzzed charset labels, codings, chunking). Only PayloadError
  may escape, decoded_body only for a bomb, decode_html always returns text with a known source.
- `extract`: `pipeline.extract.response_document` with the trafilatura sandbox on a response record built
  from the input. No exception; the drop reason is one the README lists; the row fits the output schema.
libFuzzer's `-timeout` makes any input slower than that a finding too (regex backtracking, quadratic loops).

Usage (atheris is a benchmark tool, not a dependency: `.venv/bin/pip install atheris`):
    .venv/bin/python benchmarks/fuzz_warc.py all --seconds 100 --json benchmarks/results/fuzz_warc.json
    .venv/bin/python benchmarks/fuzz_warc.py run warc -max_total_time=60 -timeout=10   # one target, libFuzzer flags
`all` seeds each target from the fault corpus (`testkit/faults.py`, the small files) and reports runs, time
and findings per target.
"""
from __future__ import annotations

import argparse
import codecs
import gzip
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGETS = ("warc", "http", "extract")
CAP_BYTES = (64, 4096, 1 << 20)  # block caps the warc target picks from: tiny ones reach the too_large path
KNOWN_REASONS = {
    None, "warc:corrupt_record", "warc:truncated_record", "warc:payload_too_large", "warc:non_200_status",
    "extract:not_html", "extract:no_text", "extract:timeout", "extract:wall_timeout", "extract:failed",
}
CHARSET_SOURCES = {"bom", "header", "meta", "detected", "fallback"}
CODINGS = ("", "gzip", "deflate", "br", "identity", "x-gzip", "compress")


# ---- warc -----------------------------------------------------------------------------------------------

def _check_records(records: list, file_bytes: int, cap: int) -> None:
    last_offset = 0
    for record in records:
        error = record.error
        assert error in (None, "truncated", "too_large") or error.startswith("corrupt: "), error
        assert record.record_type or error.startswith("corrupt: "), (record.record_type, error)
        assert last_offset <= record.offset < max(file_bytes, 1), (last_offset, record.offset, file_bytes)
        last_offset = record.offset
        assert len(record.block) <= cap, (len(record.block), cap)
        if error is None:
            assert len(record.block) == record.block_bytes == int(record.headers["content-length"])


def _read(data: bytes, cap: int) -> tuple[list, str | None]:
    from pipeline.warc import WarcFileError, iter_records

    records, error = [], None
    try:
        for record in iter_records(io.BytesIO(data), cap):
            records.append(record)
    except WarcFileError as exc:
        error = str(exc)
    _check_records(records, len(data), cap)
    return records, error


def _members_per_record(data: bytes) -> bytes:
    pieces = re.split(rb"(?=WARC/)", data)
    return b"".join(gzip.compress(piece, compresslevel=1, mtime=0) for piece in pieces if piece)


def _damaged_records(data: bytes, cap: int) -> None:
    """Valid records from the input, then one byte overwritten, bytes inserted, or the file cut at a
    position: every record that ends before that position must be read back exactly, first and in order."""
    from testkit.warc_writer import gzip_member, warc_record

    if len(data) < 4:
        return
    compress, kind, position_seed = data[0] & 1, data[1] % 3, int.from_bytes(data[2:4], "big")
    blocks = data[4:].split(b"\xff")[:8]
    raw = [warc_record("resource", block, record_id=f"<urn:fuzz:{i}>", date="2026-01-01T00:00:00Z")
           for i, block in enumerate(blocks)]
    stored = [gzip_member(r) if compress else r for r in raw]
    ends = [sum(len(s) for s in stored[: i + 1]) for i in range(len(stored))]
    whole = b"".join(stored)
    position = position_seed % (len(whole) + 1)
    if kind == 0:
        damaged = whole[:position]
    elif kind == 1:
        damaged = whole[:position] + bytes([whole[position] ^ 0x5A]) + whole[position + 1 :] if position < len(whole) else whole
    else:
        damaged = whole[:position] + b"junk\x00" + whole[position:]
    records, _ = _read(damaged, max(cap, 1 << 20))
    intact = [i for i, end in enumerate(ends) if end <= position]
    assert len(records) >= len(intact), (len(records), intact)
    for i in intact:
        got = records[i]
        expected_offset = ends[i] - len(stored[i])
        assert (got.record_id, got.block, got.offset, got.error) == (
            f"<urn:fuzz:{i}>", blocks[i], expected_offset, None), (i, got.record_id, got.offset, got.error)


def fuzz_warc(data: bytes) -> None:
    if len(data) < 2:
        return
    mode, cap, body = data[0] % 4, CAP_BYTES[data[1] % len(CAP_BYTES)], data[2:]
    if mode == 0:
        _read(body, cap)
    elif mode == 1:
        _read(gzip.compress(body, compresslevel=1, mtime=0), cap)
    elif mode == 2:
        _read(_members_per_record(body), cap)
    else:
        _damaged_records(body, cap)


# ---- http -----------------------------------------------------------------------------------------------

def _encode(payload: bytes, coding: str) -> bytes:
    import zlib

    import brotli

    if coding in ("gzip", "x-gzip"):
        return gzip.compress(payload, compresslevel=1, mtime=0)
    if coding == "deflate":
        return zlib.compress(payload, 1)
    if coding == "br":
        return brotli.compress(payload, quality=1)
    return payload


def _hostile_response(fdp) -> bytes:
    """A well-formed response whose status, charset label, codings and chunking come from the input."""
    status = fdp.ConsumeIntInRange(0, 999)
    label = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 24)).decode("latin-1")
    coding = CODINGS[fdp.ConsumeIntInRange(0, len(CODINGS) - 1)]
    chunked = fdp.ConsumeBool()
    encode_body = fdp.ConsumeBool()  # False: the header lies (the body is stored decoded)
    payload = fdp.ConsumeBytes(fdp.remaining_bytes())
    body = _encode(payload, coding) if encode_body else payload
    if chunked:
        body = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:7], body[7:]) if part) + b"0\r\n\r\n"
    head = (f"HTTP/1.1 {status} X\r\nContent-Type: text/html; charset={label}\r\n"
            f"Content-Encoding: {coding}\r\n" + ("Transfer-Encoding: chunked\r\n" if chunked else "") + "\r\n")
    return head.encode("latin-1") + body


def _check_http(block: bytes, max_bytes: int) -> None:
    from pipeline.http import PayloadError, decode_html, decoded_body, looks_like_html, media_type, parse_response

    try:
        response = parse_response(block)
    except PayloadError:
        return
    assert 0 <= response.status <= 999, response.status  # three digits: fits the int32 column
    try:
        body = decoded_body(response, max_bytes)
    except PayloadError as error:
        assert "expands past" in str(error), error
        return
    mime, charset = media_type(response.headers.get("content-type"))
    assert mime is None or mime == mime.lower()
    assert isinstance(looks_like_html(body), bool)
    text, codec, source = decode_html(body, charset)
    assert isinstance(text, str) and source in CHARSET_SOURCES, source
    assert codecs.lookup(codec)._is_text_encoding, codec  # never base64/rot13/zlib: bytes.decode refuses those


def fuzz_http(data: bytes) -> None:
    import atheris

    fdp = atheris.FuzzedDataProvider(data)
    max_bytes = fdp.ConsumeIntInRange(0, 1 << 16)
    if fdp.ConsumeBool():
        _check_http(fdp.ConsumeBytes(fdp.remaining_bytes()), max_bytes)
    else:
        _check_http(_hostile_response(fdp), max_bytes)


# ---- extract --------------------------------------------------------------------------------------------

_EXTRACT: dict = {}


def fuzz_extract(data: bytes) -> None:
    import atheris
    import pyarrow as pa

    from pipeline.config import load_config
    from pipeline.corpus import output_schema
    from pipeline.extract import response_document, sandbox_for
    from pipeline.warc import WarcRecord

    if not _EXTRACT:
        config = load_config(None, ["pipeline.stages=['extract']", "extract.timeout_seconds=5",
                                    "extract.max_payload_bytes=65536"])
        _EXTRACT.update(config=config.extract, sandbox=sandbox_for(config.extract), schema=output_schema(config))
    fdp = atheris.FuzzedDataProvider(data)
    headers = {"warc-type": "response", "warc-record-id": "<urn:fuzz>", "warc-target-uri": "<https://f.example/>"}
    if fdp.ConsumeBool():
        headers["warc-identified-payload-type"] = fdp.ConsumeBytes(12).decode("latin-1")
    block = _hostile_response(fdp) if fdp.ConsumeBool() else fdp.ConsumeBytes(fdp.remaining_bytes())
    error = (None, "truncated", "too_large")[fdp.ConsumeIntInRange(0, 2)] if fdp.remaining_bytes() else None
    record = WarcRecord(0, "response", headers, block, len(block), error)
    doc = response_document(record, "fuzz.warc.gz", None, _EXTRACT["config"], _EXTRACT["sandbox"])
    assert doc["drop_reason"] in KNOWN_REASONS, doc["drop_reason"]
    assert doc["drop_reason"] is not None or (isinstance(doc["text"], str) and doc["text"])
    pa.RecordBatch.from_pylist([doc], schema=_EXTRACT["schema"])  # e.g. an http_status past int32 raises here


# ---- driver ---------------------------------------------------------------------------------------------

def _seed_corpus(target: str, folder: Path) -> None:
    """Seeds from the fault corpus's small files: whole files for warc, response blocks for http/extract."""
    from pipeline.warc import WarcFileError, iter_records
    from testkit.faults import FAULTS, write_fault

    files = Path(tempfile.mkdtemp(prefix="fuzz-faults-"))
    for fault in FAULTS:
        if fault.large:
            continue  # the 50 MB payload, the bombs, the 1 MiB boundary file: too slow as seeds
        path = write_fault(fault, files)
        raw = path.read_bytes()
        if target == "warc":
            (folder / f"{fault.name}").write_bytes(b"\x00\x02" + raw)
            continue
        try:
            for number, record in enumerate(iter_records(io.BytesIO(raw), 1 << 20)):
                if record.record_type == "response" and record.block:
                    prefix = b"\x00\x00\x01" if target == "http" else b"\x00\x00"
                    (folder / f"{fault.name}-{number}").write_bytes(prefix + record.block[:65536])
        except WarcFileError:
            pass


def run_one(target: str, libfuzzer_args: list[str]) -> None:
    import atheris

    with atheris.instrument_imports():
        import pipeline.extract  # noqa: F401
        import pipeline.http  # noqa: F401
        import pipeline.warc  # noqa: F401
    function = {"warc": fuzz_warc, "http": fuzz_http, "extract": fuzz_extract}[target]
    atheris.Setup([sys.argv[0]] + libfuzzer_args, function)
    atheris.Fuzz()


def run_all(seconds: int, json_path: str | None) -> list[dict]:
    results = []
    for target in TARGETS:
        work = Path(tempfile.mkdtemp(prefix=f"fuzz-{target}-"))
        corpus, artifacts = work / "corpus", work / "artifacts"
        corpus.mkdir()
        artifacts.mkdir()
        _seed_corpus(target, corpus)
        seeds = len(list(corpus.iterdir()))
        command = [sys.executable, __file__, "run", target, str(corpus), f"-max_total_time={seconds}",
                   "-timeout=10", "-rss_limit_mb=3072", "-print_final_stats=1", f"-artifact_prefix={artifacts}/"]
        started = time.monotonic()
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
        wall_s = time.monotonic() - started
        log = done.stdout + done.stderr
        runs = re.search(r"stat::number_of_executed_units:\s*(\d+)", log)
        coverage = re.findall(r"cov: (\d+)", log)
        findings = sorted(p.name for p in artifacts.iterdir())
        result = {"target": target, "seconds": seconds, "wall_s": round(wall_s, 1), "seeds": seeds,
                  "runs": int(runs.group(1)) if runs else None, "coverage_edges": int(coverage[-1]) if coverage else None,
                  "exit_code": done.returncode, "findings": findings, "work_dir": str(work)}
        (work / "log.txt").write_text(log)
        results.append(result)
        print(json.dumps(result), flush=True)
    if json_path:
        Path(json_path).parent.mkdir(parents=True, exist_ok=True)
        Path(json_path).write_text(json.dumps(results, indent=2) + "\n")
    return results


def main() -> int:
    if len(sys.argv) > 2 and sys.argv[1] == "run":
        run_one(sys.argv[2], sys.argv[3:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mode", choices=["all"])
    parser.add_argument("--seconds", type=int, default=100, help="fuzzing time per target")
    parser.add_argument("--json", help="write the per-target results here")
    args = parser.parse_args()
    results = run_all(args.seconds, args.json)
    return 1 if any(r["findings"] or r["exit_code"] for r in results) else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    raise SystemExit(main())
