"""Read + extract throughput of this project's WARC -> text path against datatrove's (FineWeb's), one file.

Both paths read the same generated WARC (`sample_data/generate.py --benchmark-pages N`) in one process
each, on one core:

- project: `pipeline.corpus.process_input` with the default config: our gzip/WARC reader
  (`pipeline.warc.iter_records`), HTTP and charset decoding, trafilatura 2.3 in a sandbox child process.
  Run twice: with the default config's trafilatura flags, and with FineWeb's focus (favor_precision on,
  favor_recall off: trafilatura ignores favor_precision when favor_recall is set), so that settings and
  pipeline costs can be told apart.
- datatrove 0.10.1: `WarcReader` (warcio, utf-8 then cchardet decoding) feeding `Trafilatura()` with the
  settings FineWeb used (its defaults: favour_precision=True, deduplicate=True, 1 s timeout in a forked
  `ExtractorSandbox` child), and again with deduplicate=False to show what that flag costs.

Read-only costs are measured alone too: `iter_records`, `iter_records` + our HTTP/charset decoding
(everything of the project path except trafilatura), datatrove's `WarcReader`, and fastwarc's
`ArchiveIterator` for reference.

Every measurement runs in a fresh Python subprocess (`--worker NAME`), so imports, trafilatura's caches and
sandbox children do not leak between them. CPU time is the worker's own plus its children's: reaped
children from `getrusage(RUSAGE_CHILDREN)`, live ones from `/proc/<pid>/stat` (utime + stime and their own
reaped children). The first `--warmup-docs` documents (sandbox start, trafilatura import, first-call
caches) are excluded from the headline numbers; whole-run numbers are kept in the JSON too. The window's
compressed bytes run from the WARC offset of the first document after the warm-up to the end of the file.

Agreement: for each response record, whether both paths keep non-empty text, and the token F1 of the two
texts (bags of lowercased `\\w+` tokens, as in `benchmarks/extraction_quality.py`).

Usage:
    .venv/bin/python benchmarks/read_extract_throughput.py [--warc PATH | --pages 3000] [--repeats 1]
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere: `pipeline` is importable
from benchmarks.measure import MB, cpu_seconds, live_children_cpu_seconds, loadavg, machine_facts, write_section

GENERATOR = ROOT / "sample_data" / "generate.py"
RESULTS_JSON = ROOT / "benchmarks" / "results" / "read_extract_throughput.json"
RESULTS_MD = ROOT / "benchmarks" / "RESULTS.md"
SECTION_TITLE = "## Read + extract throughput (issue 2)"
WORD_RE = re.compile(r"\w+")
PACKAGES = ("trafilatura", "datatrove", "warcio", "fastwarc", "lxml")  # versions recorded with the results

# --------------------------------------------------------------------------------------------------
# Worker side: one measurement in this process, CPU of this process and its children.
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    wall: float  # perf_counter seconds
    cpu_self: float  # user + system seconds of this process
    cpu_children: float  # user + system seconds of its children, reaped and live


def snapshot() -> Snapshot:
    children = cpu_seconds(resource.RUSAGE_CHILDREN) + live_children_cpu_seconds()
    return Snapshot(time.perf_counter(), cpu_seconds(resource.RUSAGE_SELF), children)


@dataclass
class Meter:
    """Counts documents as they finish and snapshots CPU once `warmup_docs` of them are done."""

    warmup_docs: int
    docs: int = 0
    kept: int = 0
    begin: Snapshot | None = None
    window_start: Snapshot | None = None
    end: Snapshot | None = None
    warmup_done_docs: int = 0  # documents before the window (>= warmup_docs when counted in batches)
    window_first_id: str | None = None  # record id of the window's first document: where its bytes start
    texts: dict[str, str] = field(default_factory=dict)  # record id -> non-empty extracted text

    def start(self) -> None:
        self.begin = snapshot()

    def done(self, ids: list[str]) -> None:
        """`ids` finished (read, or read and extracted); call before the next document is started."""
        if self.window_start is not None and self.window_first_id is None and ids:
            self.window_first_id = ids[0]
        self.docs += len(ids)
        if self.window_start is None and self.docs >= self.warmup_docs:
            self.window_start = snapshot()
            self.warmup_done_docs = self.docs

    def finish(self) -> dict[str, Any]:
        self.end = snapshot()
        if self.window_first_id is None:
            raise ValueError(f"no document after the warm-up: {self.docs=} <= {self.warmup_docs=}")
        return {
            "docs": self.docs,
            "kept": self.kept,
            "warmup_done_docs": self.warmup_done_docs,
            "window_first_id": self.window_first_id,
            "begin": asdict(self.begin),
            "window_start": asdict(self.window_start),
            "end": asdict(self.end),
        }


def measure_project_read(warc: Path, meter: Meter) -> None:
    """`iter_records` alone: gzip members and WARC headers; documents = response records."""
    from pipeline.config import load_config
    from pipeline.warc import iter_records

    max_bytes = load_config(None, []).extract.max_payload_bytes
    meter.start()
    with open(warc, "rb") as stream:
        for record in iter_records(stream, max_bytes):
            if record.record_type == "response":
                meter.done([record.record_id or ""])


class _NoExtraction:
    """Stands in for `ExtractorSandbox` so that `response_document` does everything but trafilatura."""

    def extract(self, html: str) -> tuple[str | None, str | None]:
        return None, "no_text"


def measure_project_decode(warc: Path, meter: Meter) -> None:
    """`iter_records` + `response_document` (HTTP parsing, content decoding, charset) without trafilatura."""
    from pipeline.config import load_config
    from pipeline.extract import response_document
    from pipeline.warc import iter_records

    config = load_config(None, []).extract
    sandbox = _NoExtraction()
    meter.start()
    with open(warc, "rb") as stream:
        for record in iter_records(stream, config.max_payload_bytes):
            if record.record_type == "response":
                doc = response_document(record, str(warc), None, config, sandbox)  # type: ignore[arg-type]
                meter.done([doc["id"]])


def _project_extract(warc: Path, meter: Meter, overrides: list[str]) -> None:
    """`process_input` over the file; a batch's documents are done when the batch arrives."""
    from pipeline.config import load_config
    from pipeline.corpus import InputTally, process_input

    config = load_config(None, overrides)
    tally = InputTally(str(warc))
    meter.start()
    for batch in process_input(str(warc), config, tally):
        ids, texts, reasons = (batch.column(name).to_pylist() for name in ("id", "text", "drop_reason"))
        for id_, text, reason in zip(ids, texts, reasons):
            if reason is None and text:
                meter.texts[id_] = text
                meter.kept += 1
        meter.done(ids)
    if tally.error is not None:
        raise RuntimeError(f"the project reader failed on {warc}: {tally.error}")


def measure_project_extract(warc: Path, meter: Meter) -> None:
    _project_extract(warc, meter, [])


FINEWEB_FOCUS = ["extract.favor_precision=true", "extract.favor_recall=false"]


def measure_project_extract_fineweb(warc: Path, meter: Meter) -> None:
    _project_extract(warc, meter, FINEWEB_FOCUS)


def _datatrove_reader(warc: Path) -> Any:
    from datatrove.pipeline.readers import WarcReader

    return WarcReader(str(warc.parent), glob_pattern=warc.name)


def measure_datatrove_read(warc: Path, meter: Meter) -> None:
    """datatrove's `WarcReader`: warcio, HTML by payload type (or libmagic), utf-8 / cchardet decoding."""
    reader = _datatrove_reader(warc)
    meter.start()
    for doc in reader.run(data=None, rank=0, world_size=1):
        meter.done([doc.id])


def _metered(docs: Iterable[Any], meter: Meter) -> Iterator[Any]:
    """Pass documents on; a document is done when the next step asks for the one after it."""
    for doc in docs:
        yield doc
        meter.done([doc.id])


def _datatrove_extract(warc: Path, meter: Meter, deduplicate: bool) -> None:
    from datatrove.pipeline.extractors import Trafilatura

    reader = _datatrove_reader(warc)
    extractor = Trafilatura(favour_precision=True, timeout=1.0, deduplicate=deduplicate)
    meter.start()
    for doc in extractor.run(_metered(reader.run(data=None, rank=0, world_size=1), meter), rank=0, world_size=1):
        meter.texts[doc.id] = doc.text
        meter.kept += 1


def measure_datatrove_extract(warc: Path, meter: Meter) -> None:
    """`WarcReader` -> `Trafilatura()` as FineWeb ran it (favour_precision=True, deduplicate=True, 1 s)."""
    _datatrove_extract(warc, meter, deduplicate=True)


def measure_datatrove_extract_nodedup(warc: Path, meter: Meter) -> None:
    """The same with deduplicate=False: what trafilatura's cross-document cache costs (diagnostic)."""
    _datatrove_extract(warc, meter, deduplicate=False)


def measure_fastwarc_read(warc: Path, meter: Meter) -> None:
    """fastwarc's `ArchiveIterator` over response records, HTTP parsed and payload read (reference)."""
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    meter.start()
    with open(warc, "rb") as stream:
        for record in ArchiveIterator(stream, record_types=WarcRecordType.response, parse_http=True):
            record.reader.read()
            meter.done([record.headers.get("WARC-Record-ID", "")])


# name -> (group, description, function)
MEASUREMENTS: dict[str, tuple[str, str, Callable[[Path, Meter], None]]] = {
    "project_read": ("read", "project iter_records (WARC only)", measure_project_read),
    "project_read_decode": ("read", "project iter_records + HTTP/charset decode", measure_project_decode),
    "datatrove_read": ("read", "datatrove WarcReader (warcio + decode)", measure_datatrove_read),
    "fastwarc_read": ("read", "fastwarc ArchiveIterator (reference)", measure_fastwarc_read),
    "project_extract": ("extract", "project process_input (default config)", measure_project_extract),
    "project_extract_fineweb": (
        "extract", "project process_input (favor_precision, no favor_recall)", measure_project_extract_fineweb),
    "datatrove_extract": ("extract", "datatrove WarcReader + Trafilatura (FineWeb)", measure_datatrove_extract),
    "datatrove_extract_nodedup": (
        "extract", "datatrove WarcReader + Trafilatura (deduplicate=False)", measure_datatrove_extract_nodedup),
}


def run_worker(name: str, warc: Path, warmup_docs: int, out_dir: Path) -> None:
    """Run one measurement here; write its counters to `<name>.json` and its texts to `<name>.texts.json`."""
    meter = Meter(warmup_docs)
    MEASUREMENTS[name][2](warc, meter)
    result = meter.finish()
    if meter.texts:
        (out_dir / f"{name}.texts.json").write_text(json.dumps(meter.texts), encoding="utf-8")
    (out_dir / f"{name}.json").write_text(json.dumps(result), encoding="utf-8")


def run_profile(warc: Path, warmup_docs: int, profile_docs: int, out_dir: Path, top: int = 10) -> None:
    """cProfile of the project path's parent process over `profile_docs` documents after a warm-up batch."""
    from pipeline.config import load_config
    from pipeline.corpus import InputTally, process_input

    config = load_config(None, [f"pipeline.batch_rows={warmup_docs}"])
    batches = process_input(str(warc), config, InputTally(str(warc)))
    next(batches)  # warm-up: the sandbox child starts and imports trafilatura
    profiler = cProfile.Profile()
    docs = 0
    before = snapshot()
    profiler.enable()
    while docs < profile_docs:
        docs += next(batches).num_rows
    profiler.disable()
    after = snapshot()
    stats = pstats.Stats(profiler, stream=io.StringIO())

    def top_by(column: int) -> list[dict[str, Any]]:  # pstats rows: (primitive calls, calls, tottime, cumtime, _)
        rows = sorted(stats.stats.items(), key=lambda item: item[1][column], reverse=True)[:top]
        return [{"function": f"{Path(file).name}:{line}({func})", "ncalls": ncalls, "tottime_s": round(tottime, 3),
                 "cumtime_s": round(cumtime, 3)} for (file, line, func), (_, ncalls, tottime, cumtime, _) in rows]

    result = {
        "docs": docs,
        "parent_cpu_s": round(after.cpu_self - before.cpu_self, 3),
        "child_cpu_s": round(after.cpu_children - before.cpu_children, 3),
        "wall_s": round(after.wall - before.wall, 3),
        "top_cumulative": top_by(3),
        "top_tottime": top_by(2),
    }
    (out_dir / "profile.json").write_text(json.dumps(result), encoding="utf-8")


# --------------------------------------------------------------------------------------------------
# Orchestrator side: input, subprocesses, metrics, agreement, report.
# --------------------------------------------------------------------------------------------------


def generate_warc(pages: int, out: Path) -> None:
    """The benchmark WARC from the sample-data generator (deterministic for a given page count)."""
    command = [sys.executable, str(GENERATOR), "--benchmark-pages", str(pages), "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-2000:]}")


@dataclass(frozen=True)
class WarcFacts:
    path: str
    bytes: int  # compressed file size
    records_by_type: dict[str, int]
    offset_of: dict[str, int]  # response record id -> compressed offset of its gzip member
    html_offsets: list[int]  # offsets of responses with an HTML content type (any HTTP status)
    html_200_responses: int  # of those, the ones with HTTP status 200 (what the project extracts)

    def html_from(self, offset: int) -> int:
        """HTML responses at or after `offset`: the documents of a window, counted alike for every path."""
        return sum(1 for start in self.html_offsets if start >= offset)


def scan_warc(path: Path) -> WarcFacts:
    """Record counts and response offsets, read with the project's reader (not timed)."""
    from pipeline.config import load_config
    from pipeline.extract import response_document
    from pipeline.warc import iter_records

    config = load_config(None, []).extract
    by_type: Counter = Counter()
    offset_of: dict[str, int] = {}
    html_offsets: list[int] = []
    html_200 = 0
    with open(path, "rb") as stream:
        for record in iter_records(stream, config.max_payload_bytes):
            by_type[record.record_type or "unreadable"] += 1
            if record.record_type == "response":
                offset_of[record.record_id or ""] = record.offset
                doc = response_document(record, str(path), None, config, _NoExtraction())  # type: ignore[arg-type]
                if doc.get("content_type") in config.html_content_types:
                    html_offsets.append(record.offset)
                    html_200 += doc["drop_reason"] == "extract:no_text"
    return WarcFacts(str(path), path.stat().st_size, dict(sorted(by_type.items())), offset_of, html_offsets, html_200)


def run_measurement(name: str, warc: Path, warmup_docs: int, out_dir: Path) -> dict[str, Any]:
    """One measurement in a fresh interpreter; returns its counters."""
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", name, "--warc", str(warc),
               "--warmup-docs", str(warmup_docs), "--worker-out", str(out_dir)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"worker {name} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads((out_dir / f"{name}.json").read_text(encoding="utf-8"))


def metrics(raw: dict[str, Any], facts: WarcFacts) -> dict[str, Any]:
    """Headline numbers over the post-warm-up window, plus whole-run numbers.

    Documents are HTML responses (by content type, any status) for every path, counted from the file, so
    that the per-document rates of two paths differ only by their CPU time for the same bytes.
    """
    begin, start, end = raw["begin"], raw["window_start"], raw["end"]
    window_offset = facts.offset_of[raw["window_first_id"]]
    docs = facts.html_from(window_offset)
    window_bytes = facts.bytes - window_offset
    wall = end["wall"] - start["wall"]
    cpu_self = end["cpu_self"] - start["cpu_self"]
    cpu_children = end["cpu_children"] - start["cpu_children"]
    cpu = cpu_self + cpu_children
    total_cpu = end["cpu_self"] - begin["cpu_self"] + end["cpu_children"] - begin["cpu_children"]
    total_wall = end["wall"] - begin["wall"]
    return {
        "docs_handed_on": raw["docs"],  # project: response rows; datatrove reader: HTML documents
        "kept_with_text": raw["kept"],  # whole file
        "warmup_docs_handed_on": raw["warmup_done_docs"],
        "window_html_docs": docs,
        "window_mb": window_bytes / MB,
        "wall_s": wall,
        "cpu_s": cpu,
        "cpu_parent_s": cpu_self,
        "cpu_children_s": cpu_children,
        "docs_per_cpu_s": docs / cpu,
        "mb_per_cpu_s": window_bytes / MB / cpu,
        "docs_per_wall_s": docs / wall,
        "mb_per_wall_s": window_bytes / MB / wall,
        "whole_run": {"wall_s": total_wall, "cpu_s": total_cpu,
                      "docs_per_cpu_s": len(facts.html_offsets) / total_cpu,
                      "mb_per_cpu_s": facts.bytes / MB / total_cpu},
    }


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median window CPU time (the run itself, so its numbers stay consistent)."""
    ordered = sorted(runs, key=lambda run: run["cpu_s"])
    chosen = dict(ordered[len(ordered) // 2])
    chosen["runs_cpu_s"] = [round(run["cpu_s"], 3) for run in runs]
    chosen["runs_docs_per_cpu_s"] = [round(run["docs_per_cpu_s"], 1) for run in runs]
    return chosen


def tokens(text: str) -> Counter:
    return Counter(WORD_RE.findall(text.lower()))


def token_f1(a: str, b: str) -> float:
    bag_a, bag_b = tokens(a), tokens(b)
    n_a, n_b = sum(bag_a.values()), sum(bag_b.values())
    if n_a == 0 or n_b == 0:
        return 1.0 if n_a == n_b else 0.0
    overlap = sum((bag_a & bag_b).values())
    return 0.0 if overlap == 0 else 2 * overlap / (n_a + n_b)


def agreement(ids: Iterable[str], ours: dict[str, str], theirs: dict[str, str]) -> dict[str, Any]:
    """How often both keep text, and how alike the texts are, over the given response record ids."""
    ids = list(ids)
    both = [i for i in ids if ours.get(i) and theirs.get(i)]
    f1_both = [token_f1(ours[i], theirs[i]) for i in both]
    f1_all = [token_f1(ours.get(i, ""), theirs.get(i, "")) for i in ids]
    return {
        "responses": len(ids),
        "both_text": len(both),
        "only_project": sum(1 for i in ids if ours.get(i) and not theirs.get(i)),
        "only_datatrove": sum(1 for i in ids if theirs.get(i) and not ours.get(i)),
        "neither": sum(1 for i in ids if not ours.get(i) and not theirs.get(i)),
        "fraction_both_text": len(both) / len(ids),
        "mean_f1_where_both": statistics.fmean(f1_both) if f1_both else None,
        "median_f1_where_both": statistics.median(f1_both) if f1_both else None,
        "exact_token_bag_match_where_both": sum(1 for f in f1_both if f == 1.0),
        "mean_f1_all_responses": statistics.fmean(f1_all),  # one empty side scores 0, both empty 1
    }


def fmt_load(values: list[float]) -> str:
    return " ".join(f"{x:.2f}" for x in values)


def format_table(results: dict[str, dict[str, Any]], baseline: dict[str, str]) -> str:
    """Markdown table; `baseline` maps a project row to the datatrove row its ratio is taken against."""
    head = ("| measurement | HTML docs | kept with text (whole file) | wall s | CPU s (parent + children) "
            "| docs/s per core (runs' range) | MB/s per core | ratio vs datatrove |")
    lines = [head, "|" + "---|" * 8]
    for name, row in results.items():
        ratio = ""
        if name in baseline:
            ratio = f"{row['docs_per_cpu_s'] / results[baseline[name]]['docs_per_cpu_s']:.2f}x"
        kept = str(row["kept_with_text"]) if MEASUREMENTS[name][0] == "extract" else "-"
        lines.append(
            f"| {MEASUREMENTS[name][1]} | {row['window_html_docs']} | {kept} | {row['wall_s']:.2f} | "
            f"{row['cpu_s']:.2f} ({row['cpu_parent_s']:.2f} + {row['cpu_children_s']:.2f}) | "
            f"{row['docs_per_cpu_s']:.1f} ({min(row['runs_docs_per_cpu_s']):.0f}-"
            f"{max(row['runs_docs_per_cpu_s']):.0f}) "
            f"| {row['mb_per_cpu_s']:.2f} | {ratio} |")
    return "\n".join(lines)


BASELINES = {
    "project_read": "datatrove_read",
    "project_read_decode": "datatrove_read",
    "fastwarc_read": "datatrove_read",
    "project_extract": "datatrove_extract",
    "project_extract_fineweb": "datatrove_extract",
    "datatrove_extract_nodedup": "datatrove_extract",
}


def markdown_section(report: dict[str, Any], command: str) -> str:
    m, facts, agree = report["machine"], report["warc"], report["agreement"]
    results = report["results"]
    ratio = results["project_extract"]["docs_per_cpu_s"] / results["datatrove_extract"]["docs_per_cpu_s"]
    ratio_f = results["project_extract_fineweb"]["docs_per_cpu_s"] / results["datatrove_extract"]["docs_per_cpu_s"]
    ours = report["project_extract_settings"]
    profile = report.get("profile")
    lines = [
        SECTION_TITLE, "",
        f"Command: `{command}`", "",
        f"Machine: {m['nproc']} CPUs ({m['cpu_model']}), Python {m['python']}, load average (1/5/15 min) "
        f"{fmt_load(m['loadavg_at_start'])} at start and {fmt_load(m['loadavg_at_end'])} at end; trafilatura "
        f"{m['versions']['trafilatura']}, datatrove {m['versions']['datatrove']}, warcio {m['versions']['warcio']}, "
        f"fastwarc {m['versions']['fastwarc']}.",
        "",
        f"Input: {facts['source']}; {facts['bytes'] / MB:.1f} MB compressed, records {facts['records_by_type']}, "
        f"{facts['html_responses']} HTML responses, {facts['html_200_responses']} of them with status 200.",
        "",
        f"Each row is one fresh single-process run (median of {report['repeats']} by CPU time); the first "
        f"{report['warmup_docs']} documents (sandbox start, imports) are excluded, so 'HTML docs' and MB are "
        "the window after them. HTML docs = responses with an HTML content type (any HTTP status) in that window, "
        "counted from the file alike for every row; CPU = parent + sandbox children; per core = per CPU second; "
        "MB = 10^6 bytes of compressed WARC; ratio = docs/s per core of the row / the datatrove row.",
        "",
        format_table(results, BASELINES),
        "",
        f"**Ratio:** this project reads and extracts {ratio:.2f}x as many documents per CPU second as datatrove's "
        f"WarcReader + Trafilatura with FineWeb's settings ({ratio_f:.2f}x when the project too runs trafilatura "
        "with favor_precision and without favor_recall).",
        "",
        f"Agreement (project default config vs datatrove) over {agree['responses']} response records: both keep "
        f"text for {agree['both_text']} ({100 * agree['fraction_both_text']:.1f}%), only the project for "
        f"{agree['only_project']}, only datatrove for {agree['only_datatrove']}, neither for {agree['neither']}; "
        f"mean token F1 where both keep text {agree['mean_f1_where_both']:.3f} "
        f"(identical token bags: {agree['exact_token_bag_match_where_both']}); with favor_precision and without "
        f"favor_recall on the project side {report['agreement_fineweb_focus']['mean_f1_where_both']:.3f}.",
        "",
        "Where the CPU goes, per HTML document (parent / sandbox children): " + "; ".join(
            f"{MEASUREMENTS[name][1]} {1000 * row['cpu_parent_s'] / row['window_html_docs']:.2f} / "
            f"{1000 * row['cpu_children_s'] / row['window_html_docs']:.2f} ms"
            for name, row in results.items() if MEASUREMENTS[name][0] == "extract") + ". "
        "Wall time is above CPU time where other work shared the machine's cores (see the load average); "
        "the rates above are per CPU second for that reason.",
        "",
        "Settings that differ: the project calls trafilatura.extract with "
        + ", ".join(f"{key}={value!r}" for key, value in ours["trafilatura"].items()) + " (deduplicate never "
        f"set), gives each page {ours['timeout_seconds']:g} CPU s and a {ours['memory_limit_mb']} MiB memory cap, and "
        "drops non-200 responses before extraction; datatrove calls it with favor_precision=True, "
        "include_comments=False, deduplicate=True (a process-wide LRU cache that drops a text block of > 100 "
        "characters from its 4th sighting on, across documents), gives each page 1 s, no memory cap, and extracts "
        "any HTML response whatever its status. Charset decoding differs too (project: BOM, header, meta, "
        "detection; datatrove: utf-8, else cchardet).",
    ]
    if profile:
        lines += ["", f"cProfile of the project's parent process over {profile['docs']} documents after a warm-up "
                      f"batch: parent CPU {profile['parent_cpu_s']:.2f} s, sandbox child CPU "
                      f"{profile['child_cpu_s']:.2f} s, wall {profile['wall_s']:.2f} s. Top 10 by cumulative time:",
                  "", "| function | ncalls | tottime s | cumtime s |", "|---|---|---|---|"]
        lines += [f"| `{e['function']}` | {e['ncalls']} | {e['tottime_s']} | {e['cumtime_s']} |"
                  for e in profile["top_cumulative"]]
    return "\n".join(lines) + "\n"


def project_extract_settings() -> dict[str, Any]:
    """The default config's extraction settings, as the project_extract rows ran them."""
    from pipeline.config import load_config

    config = load_config(None, []).extract
    return {"trafilatura": config.trafilatura_settings(), "timeout_seconds": config.timeout_seconds,
            "memory_limit_mb": config.memory_limit_mb}


def run_all(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    machine = machine_facts(PACKAGES) | {"loadavg_at_start": loadavg()}
    if args.warc:
        warc, source = Path(args.warc).resolve(), f"`{args.warc}`"
    else:
        warc = work / "benchmark.warc.gz"
        generate_warc(args.pages, warc)
        source = f"`sample_data/generate.py --benchmark-pages {args.pages}`"
    facts = scan_warc(warc)
    print(f"WARC {warc}: {facts.bytes / MB:.1f} MB, records {facts.records_by_type}", flush=True)
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in MEASUREMENTS}
    for repeat in range(args.repeats):  # rounds: each measurement once per round, so load drifts hit all alike
        for name in MEASUREMENTS:
            out_dir = work / f"{name}.{repeat}"
            out_dir.mkdir()
            runs[name].append(metrics(run_measurement(name, warc, args.warmup_docs, out_dir), facts))
            print(f"  round {repeat + 1} {name}: {runs[name][-1]['docs_per_cpu_s']:.1f} docs/CPU s", flush=True)
    results = {name: median_run(name_runs) for name, name_runs in runs.items()}
    texts = {name: json.loads((work / f"{name}.0" / f"{name}.texts.json").read_text(encoding="utf-8"))
             for name in ("project_extract", "project_extract_fineweb", "datatrove_extract")}
    report = {
        "machine": machine,
        "project_extract_settings": project_extract_settings(),
        "warc": {"source": source, "bytes": facts.bytes, "records_by_type": facts.records_by_type,
                 "html_responses": len(facts.html_offsets), "html_200_responses": facts.html_200_responses},
        "warmup_docs": args.warmup_docs,
        "repeats": args.repeats,
        "results": results,
        "ratios_docs_per_cpu_s": {name: results[name]["docs_per_cpu_s"] / results[base]["docs_per_cpu_s"]
                                  for name, base in BASELINES.items()},
        "agreement": agreement(facts.offset_of, texts["project_extract"], texts["datatrove_extract"]),
        "agreement_fineweb_focus": agreement(
            facts.offset_of, texts["project_extract_fineweb"], texts["datatrove_extract"]),
    }
    if args.profile_docs:
        out_dir = work / "profile"
        out_dir.mkdir()
        command = [sys.executable, str(Path(__file__).resolve()), "--worker", "profile", "--warc", str(warc),
                   "--warmup-docs", "100", "--profile-docs", str(args.profile_docs), "--worker-out", str(out_dir)]
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
        if done.returncode != 0:
            raise RuntimeError(f"profile worker failed ({done.returncode}):\n{done.stderr[-3000:]}")
        report["profile"] = json.loads((out_dir / "profile.json").read_text(encoding="utf-8"))
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--warc", help="benchmark this WARC file instead of generating one")
    source.add_argument("--pages", type=int, default=3000, help="pages to generate when --warc is not given")
    parser.add_argument("--warmup-docs", type=int, default=256, help="documents excluded at the start of each run")
    parser.add_argument("--repeats", type=int, default=1, help="runs per measurement; the median is reported")
    parser.add_argument("--profile-docs", type=int, default=300, help="documents to cProfile (0: no profile)")
    parser.add_argument("--out", type=Path, default=RESULTS_JSON)
    parser.add_argument("--results-md", type=Path, default=RESULTS_MD, help="'-' to leave RESULTS.md alone")
    parser.add_argument("--worker", choices=[*MEASUREMENTS, "profile"], help=argparse.SUPPRESS)
    parser.add_argument("--worker-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker == "profile":
        run_profile(Path(args.warc), args.warmup_docs, args.profile_docs, args.worker_out)
        return
    if args.worker:
        run_worker(args.worker, Path(args.warc), args.warmup_docs, args.worker_out)
        return

    command = "python " + " ".join([str(Path(sys.argv[0]))] + sys.argv[1:])
    with tempfile.TemporaryDirectory(prefix="read_extract_") as work:
        report = run_all(args, Path(work))
    report["command"] = command
    report["machine"]["loadavg_at_end"] = loadavg()
    print(format_table(report["results"], BASELINES))
    print(json.dumps({"agreement": report["agreement"], "profile": report.get("profile")}, indent=1))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    if str(args.results_md) != "-":
        write_section(args.results_md, markdown_section(report, command), SECTION_TITLE)


if __name__ == "__main__":
    main()
