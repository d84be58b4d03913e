"""The corpus job's units of work, engine-free: each input file is read, run through the stages before
dedup and written as its own part with a completion marker; the global dedup stage decides over all parts
(`pipeline.spark.dedup_step`, or `dedup_run` in-process); each part is then finished (dedup's decisions
applied, the stages after dedup run) and committed into kept and rejected rows; the run is summarized from
the output columns with the accounting invariant checked per input file.

The Spark job (`pipeline.spark.job`) and `run_stages` call these same functions.
"""
from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from contract.stage import DocumentStage
from dedup.decisions import DECISION_SCHEMA, DEDUP_FIELDS, DEDUP_STAGE, REASON_DUPLICATE_ID
from dedup.local import apply_decisions, dedup_table
from pipeline.cascade import cascade_for
from pipeline.config import Config
from pipeline.extract import (CORRUPT_RECORD, DUPLICATE_RECORD_ID, EXTRACT_FIELDS, conversion_document,
                              crawl_from_path, crawl_of, response_document, sandbox_for)
from pipeline.inputs import TABLE_SUFFIXES, is_wet, open_input  # the one list of input kinds
from pipeline.outputs import OutputDir
from pipeline.registry import STAGE_CLASSES
from pipeline.schema import document_schema
from pipeline.stats.counts import signal_types
from pipeline.stats.parts import Counts, done_file, has_part_counts, write_part_counts
from pipeline.stages import batched, chain_batches
from pipeline.tables import DUPLICATE_ID, TableReadError, read_table_rows
from pipeline.toml_config import ConfigError, config_hash
from pipeline.warc import WarcFileError, WarcRecord, iter_records

# Output folders. `extracted/` holds one part per input: its rows after reading, extraction and every stage
# before dedup (kept and dropped, with their signals), the input of dedup and of the commit. The name is the
# first step's; what it holds is "the rows before dedup" (kept: renaming it would orphan every existing output).
EXTRACTED, DEDUP, CORPUS, REJECTED, STATS = "extracted", "dedup", "corpus", "rejected", "stats"
DECISIONS, INDEX = f"{DEDUP}/decisions", f"{DEDUP}/index"
DOCUMENT_RECORD_TYPES = ("response", "unreadable")  # records that become rows; all others are counted
WET_DOCUMENT_RECORD_TYPES = ("conversion", "unreadable")  # the same in a WET file (pipeline.inputs.is_wet)
# What a commit task finishes and writes at a time: its memory is one such slice (plus dedup's decisions for
# the part) whatever the part's size, and each slice's id lookup into the decisions is one hash build.
COMMIT_BATCH_ROWS = 8192  # (measured: 256 MB peak over a 700 MB part of 2.3 KB rows; 802 MB at 65,536 rows)
COMMIT_BATCH_BYTES = 64 << 20  # uncompressed, from the row groups' metadata: bounds slices of long texts


class AccountingError(RuntimeError):
    """Records read != non-document records + kept + dropped for some input file."""


@dataclass
class InputTally:
    """What reading one input found, filled while its rows stream through the chain."""

    warc_path: str
    records_by_type: Counter = field(default_factory=Counter)
    error: str | None = None

    def manifest(self, rows_written: int, hash_: str) -> dict[str, Any]:
        return {
            "warc_path": self.warc_path,
            "records_read": sum(self.records_by_type.values()),
            "records_by_type": dict(sorted(self.records_by_type.items())),
            "rows_written": rows_written,
            "error": self.error,
            "config_hash": hash_,
        }


_STAGES: dict[str, tuple[list[DocumentStage], list[DocumentStage]]] = {}


def has_dedup(config: Config) -> bool:
    return DEDUP_STAGE in config.pipeline.stages


def stage_names(config: Config) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Per-document stage names before and after the global dedup stage (none after without dedup)."""
    names = tuple(name for name in config.pipeline.stages if name != "extract")
    if DEDUP_STAGE not in names:
        return names, ()
    at = names.index(DEDUP_STAGE)
    return names[:at], names[at + 1:]


def build_stages(config: Config) -> tuple[list[DocumentStage], list[DocumentStage]]:
    """The document stages before and after dedup, built once per process.

    Building checks each stage's resources (models, lists), so the driver calls this before the job
    starts and a missing model fails there, not on a worker.
    """
    key = config_hash(config)
    if key not in _STAGES:
        try:
            before, after = ([STAGE_CLASSES[name](getattr(config, name)) for name in names]
                             for names in stage_names(config))
        except (ValueError, FileNotFoundError) as error:
            raise ConfigError(f"cannot build the stages: {error}") from error
        _STAGES[key] = (before, after)
    return _STAGES[key]


def adopt_stages(config: Config, stages: tuple[list[DocumentStage], list[DocumentStage]]) -> None:
    """Use stages built in another process (the driver's, shipped with a task) for `config` in this one, so what
    a stage builds from data at construction (decontam's n-gram set) reaches each worker with the task instead
    of being rebuilt there from files the worker may not be able to read."""
    _STAGES.setdefault(config_hash(config), stages)


def output_schema(config: Config) -> pa.Schema:
    """Core and extraction columns, then each stage's signals in the configured order."""
    before, after = build_stages(config)
    dedup_fields = list(DEDUP_FIELDS) if has_dedup(config) else []
    return document_schema(list(EXTRACT_FIELDS) + [f for stage in before for f in stage.fields] + dedup_fields
                           + [f for stage in after for f in stage.fields])


def part_name(warc_path: str) -> str:
    """Output part of an input, named by the path's hash: stable whatever the set or order of inputs."""
    return "part-" + hashlib.sha1(warc_path.encode("utf-8")).hexdigest()[:16]


def _unreadable_row(record: WarcRecord, warc_path: str) -> dict[str, Any]:
    """A row for a record that could not be parsed, with whatever of its header was readable."""
    return {
        "id": record.record_id or f"<unreadable:{warc_path}#{record.offset}>",
        "url": record.headers.get("warc-target-uri", "").strip("<>") or None,
        "warc_path": warc_path,
        "warc_offset": record.offset,
        "fetch_time": record.headers.get("warc-date"),
        "drop_reason": CORRUPT_RECORD,
    }


def document_record_types(path: str) -> tuple[str, ...]:
    """The record types that become rows in this input: conversions in a WET file, responses in a WARC."""
    return WET_DOCUMENT_RECORD_TYPES if is_wet(path) else DOCUMENT_RECORD_TYPES


def warc_rows(warc_path: str, config: Config, tally: InputTally) -> Iterator[dict[str, Any]]:
    """Rows for a WARC file's response and unreadable records; other record types are only counted.

    With `extract.cascade` on, the cheap-first cascade (pipeline/cascade.py) drops some pages before trafilatura.
    A WET file's rows are its conversion records' texts instead (`conversion_document`: no extraction, no
    cascade), and its response records, if any, are only counted.
    """
    crawl = crawl_from_path(warc_path)
    wet = is_wet(warc_path)
    sandbox = None if wet else sandbox_for(config.extract)
    prefilter = None if wet else cascade_for(config, build_stages(config)[0])
    try:
        with open_input(warc_path) as stream:
            for record in iter_records(stream, config.extract.max_payload_bytes):
                if record.error is not None and record.error.startswith("corrupt"):
                    tally.records_by_type["unreadable"] += 1
                    yield _unreadable_row(record, warc_path)
                    continue
                tally.records_by_type[record.record_type] += 1
                if record.record_type == "warcinfo":
                    crawl = crawl_of(record.block) or crawl
                elif wet and record.record_type == "conversion":
                    yield conversion_document(record, warc_path, crawl, config.extract.max_payload_bytes)
                elif not wet and record.record_type == "response":
                    yield response_document(record, warc_path, crawl, config.extract, sandbox, prefilter)
    except (WarcFileError, OSError) as error:
        tally.error = f"{type(error).__name__}: {error}"
    if not tally.records_by_type and tally.error is None:
        tally.error = "empty input: no WARC records"


def table_rows(path: str, config: Config, tally: InputTally) -> Iterator[dict[str, Any]]:
    """Rows of a JSONL, JSON or Parquet input (pipeline/tables.py): one per record, bad ones as named
    `input:*` drops; a file that cannot be read on lands in `failed_inputs` with the rows read before."""
    try:
        for row in read_table_rows(path, config.pipeline.max_text_bytes):
            tally.records_by_type["document"] += 1
            yield row
    except TableReadError as error:
        tally.error = str(error)
    if not tally.records_by_type and tally.error is None:
        tally.error = "empty input: no records"


def mark_repeated_ids(rows: Iterable[dict[str, Any]], reason: str) -> Iterator[dict[str, Any]]:
    """Rows whose id an earlier row of the same input had get `reason`: ids key dedup's joins."""
    seen: set[str] = set()
    for row in rows:
        if row["id"] in seen and row.get("drop_reason") is None:
            row["drop_reason"] = reason
        seen.add(row["id"])
        yield row


def process_input(path: str, config: Config, tally: InputTally) -> Iterator[pa.RecordBatch]:
    """One input file through the stages before dedup, as record batches of the output schema."""
    schema = output_schema(config)
    if path.endswith(TABLE_SUFFIXES):
        rows = mark_repeated_ids(table_rows(path, config, tally), DUPLICATE_ID)
    else:
        rows = mark_repeated_ids(warc_rows(path, config, tally), DUPLICATE_RECORD_ID)
    before, _ = build_stages(config)
    run = chain_batches(before, schema, config.pipeline.compute_all_signals)
    yield from run(batched(rows, schema, config.pipeline.batch_rows))


def finish(table: pa.Table, decisions: pa.Table | None, config: Config) -> pa.Table:
    """Rows after the global stage: dedup's `decisions` applied by id, then the stages after dedup."""
    if decisions is not None:
        table = apply_decisions(table, decisions)
    _, after = build_stages(config)
    if not after:
        return table
    schema = output_schema(config)
    run = chain_batches(after, schema, config.pipeline.compute_all_signals)
    return pa.Table.from_batches(list(run(iter(table.to_batches(config.pipeline.batch_rows)))), schema=schema)


def repeated_across_inputs(ids: list[str], paths: list[str]) -> list[bool]:
    """The repeated-id rule, the one definition both engines call: a row is a repeat when a lower input path
    has the same id (the same record in two files). Give it every participating row (no stage dropped it)
    of each id it sees: the whole run here, an id-partitioned slice in `pipeline.spark.job`."""
    first_path: dict[str, str] = {}
    for doc_id, path in zip(ids, paths, strict=True):
        first_path[doc_id] = min(first_path.get(doc_id, path), path)
    return [path != first_path[doc_id] for doc_id, path in zip(ids, paths, strict=True)]


def mark_repeated_across_inputs(table: pa.Table) -> pa.Table:
    """Rows no stage dropped that `repeated_across_inputs` calls repeats get REASON_DUPLICATE_ID; within one
    input `mark_repeated_ids` already did this while reading."""
    reasons = table.column("drop_reason").to_pylist()
    ids, paths = table.column("id").to_pylist(), table.column("warc_path").to_pylist()
    participating = [i for i, reason in enumerate(reasons) if reason is None]
    repeats = repeated_across_inputs([ids[i] for i in participating], [paths[i] for i in participating])
    for i, repeat in zip(participating, repeats, strict=True):
        if repeat:
            reasons[i] = REASON_DUPLICATE_ID
    at = table.schema.get_field_index("drop_reason")
    return table.set_column(at, table.schema.field(at), pa.array(reasons, pa.string()))


def dedup_run(table: pa.Table, config: Config, index_dir: str | None) -> pa.Table:
    """The global stage in-process over a whole run's rows, then the stages after it (`run_stages`; the
    Spark job does the same with `pipeline.spark.dedup_step` and `commit_unit`)."""
    table = mark_repeated_across_inputs(table)
    decisions = dedup_table(table, config.dedup, index_dir if config.dedup.write_index else None)
    return finish(table, decisions, config)


def extract_unit(out: OutputDir, path: str, config: Config) -> dict[str, Any]:
    """The stages before dedup for one input: write `extracted/<part>.parquet` and its marker; skip if done."""
    part = part_name(path)
    marker = f"{EXTRACTED}/_done/{part}.json"
    if out.exists(marker):
        return out.read_json(marker)
    tally = InputTally(path)
    rows = 0
    with out.parquet_writer(f"{EXTRACTED}/{part}.parquet", output_schema(config)) as writer:
        for batch in process_input(path, config, tally):
            writer.write_batch(batch)
            rows += batch.num_rows
    manifest = tally.manifest(rows, config_hash(config))
    out.write_json(marker, manifest)
    return manifest


def read_decisions(out: OutputDir, path: str) -> pa.Table:
    """Dedup's decisions for one input's rows (`pipeline.spark.dedup_step` writes one folder per part;
    none for a part with no participating rows)."""
    folder = f"{DECISIONS}/input_part={part_name(path)}"
    if not out.exists(folder):
        return DECISION_SCHEMA.empty_table()
    return pq.read_table(out.path(folder), filesystem=out.fs).select(DECISION_SCHEMA.names).cast(DECISION_SCHEMA)


def commit_unit(out: OutputDir, path: str, config: Config) -> dict[str, Any]:
    """Finish one extracted part (dedup's decisions, the stages after dedup) and split it into kept
    (`corpus/`) and dropped (`rejected/`) rows, one slice of row groups at a time (`slices`): a task holds one
    slice of its part (and dedup's decisions for the part), never the whole part. Each slice is counted as it
    is written (`pipeline.stats.parts`). Returns the part's completion marker: its path and rows by reason."""
    part = part_name(path)
    marker = done_file(part)
    if out.exists(marker):
        done = out.read_json(marker)
        if has_part_counts(out, part) and written_rows(out, part) == kept_and_dropped(done.get("rows_by_reason")):
            return done
        # the files changed after their commit (a lost row, a deleted part), or a version that did not count them
        # committed the part: its counts are made again from what the files hold
        return _mark_committed(out, path, count_committed(out, part))
    decisions = read_decisions(out, path) if has_dedup(config) else None
    with out.fs.open_input_file(out.path(f"{EXTRACTED}/{part}.parquet")) as source:
        extracted = pq.ParquetFile(source)
        schema = extracted.schema_arrow
        counts = Counts(list(signal_types(schema)))
        with out.parquet_writer(f"{CORPUS}/{part}.parquet", schema) as kept_writer, \
                out.parquet_writer(f"{REJECTED}/{part}.parquet", schema) as rejected_writer:
            for rows in slices(extracted, schema):
                table = finish(rows, decisions, config).combine_chunks()
                kept = pc.is_null(table["drop_reason"])
                kept_writer.write_table(table.filter(kept))
                rejected_writer.write_table(table.filter(pc.invert(kept)))
                counts.add_rows(table)
    return _mark_committed(out, path, counts)


def _mark_committed(out: OutputDir, path: str, counts: Counts) -> dict[str, Any]:
    """Write the part's counts, then its marker (a part is counted once its marker stands)."""
    part = part_name(path)
    done = {"warc_path": path, "rows_by_reason": write_part_counts(out, part, counts)}
    out.write_json(done_file(part), done)
    return done


def committed_files(out: OutputDir, part: str) -> list[str]:
    """The part's corpus/ and rejected/ files that exist."""
    return [name for name in (f"{CORPUS}/{part}.parquet", f"{REJECTED}/{part}.parquet") if out.exists(name)]


def written_rows(out: OutputDir, part: str) -> tuple[int, int]:
    """(kept, dropped) rows of a committed part, from its files' footers (a missing file holds none)."""
    rows = {name.split("/")[0]: pq.read_metadata(out.path(name), filesystem=out.fs).num_rows
            for name in committed_files(out, part)}
    return rows.get(CORPUS, 0), rows.get(REJECTED, 0)


def kept_and_dropped(rows_by_reason: list[list[Any]] | None) -> tuple[int, int] | None:
    if rows_by_reason is None:
        return None
    return (sum(rows for reason, rows in rows_by_reason if reason is None),
            sum(rows for reason, rows in rows_by_reason if reason is not None))


def count_committed(out: OutputDir, part: str) -> Counts:
    """The counts of a part already written to corpus/ and rejected/, read back."""
    files = [pq.ParquetFile(out.path(name), filesystem=out.fs) for name in committed_files(out, part)]
    counts = Counts(list(signal_types(files[0].schema_arrow)) if files else [])
    for file in files:
        for batch in file.iter_batches(batch_size=COMMIT_BATCH_ROWS):
            counts.add_rows(batch)
    return counts


def slices(parquet: pq.ParquetFile, schema: pa.Schema) -> Iterator[pa.Table]:
    """The file's rows as tables of whole row groups (`extract_unit` writes one per `pipeline.batch_rows`
    batch), each closed once it holds COMMIT_BATCH_ROWS rows or COMMIT_BATCH_BYTES uncompressed bytes; none
    for an empty file. A part under both bounds is committed in one piece, as one table read whole.
    Row groups are read one by one: `iter_batches` with large batches held several times a slice (1 GB for
    a 150 MB slice of 2.3 KB rows)."""
    pending: list[pa.Table] = []
    pending_rows = pending_bytes = 0
    for index in range(parquet.metadata.num_row_groups):
        group = parquet.read_row_group(index)
        pending.append(group)
        pending_rows += group.num_rows
        pending_bytes += parquet.metadata.row_group(index).total_byte_size
        if pending_rows >= COMMIT_BATCH_ROWS or pending_bytes >= COMMIT_BATCH_BYTES:
            yield pa.concat_tables(pending).cast(schema)
            pending, pending_rows, pending_bytes = [], 0, 0
    if pending_rows:
        yield pa.concat_tables(pending).cast(schema)


def summarize(manifests: list[dict[str, Any]], counts: Iterable[tuple[str, str | None, int]], hash_: str) -> dict[str, Any]:
    """The run's summary from per-input manifests and (warc_path, drop_reason, rows) counts of the outputs.

    Raises AccountingError naming the file when records read != non-document records + kept + dropped.
    """
    kept_by_path: Counter = Counter()
    dropped_by_path: Counter = Counter()
    dropped_by_reason: Counter = Counter()
    for warc_path, reason, rows in counts:
        if reason is None:
            kept_by_path[warc_path] += rows
        else:
            dropped_by_path[warc_path] += rows
            dropped_by_reason[reason] += rows
    records_by_type: Counter = Counter()
    broken = []
    for manifest in manifests:
        path = manifest["warc_path"]
        by_type = Counter(manifest["records_by_type"])
        records_by_type.update(by_type)
        document_types = document_record_types(path) + ("document",)
        non_document = sum(n for kind, n in by_type.items() if kind not in document_types)
        if manifest["records_read"] != non_document + kept_by_path[path] + dropped_by_path[path]:
            broken.append(f"{path}: records_read={manifest['records_read']} != non_document={non_document} "
                          f"+ kept={kept_by_path[path]} + dropped={dropped_by_path[path]}")
    if broken:
        raise AccountingError("accounting invariant broken: " + "; ".join(broken))  # one line: jobs print it
    kept, dropped = sum(kept_by_path.values()), sum(dropped_by_path.values())
    return {
        "config_hash": hash_,
        "inputs": len(manifests),
        "records_read": sum(m["records_read"] for m in manifests),
        "records_by_type": dict(sorted(records_by_type.items())),
        "documents": kept + dropped,
        "kept": kept,
        "dropped": dropped,
        "dropped_by_reason": dict(sorted(dropped_by_reason.items())),
        "failed_inputs": [
            {"warc_path": m["warc_path"], "error": m["error"], "records_recovered": m["records_read"]}
            for m in sorted(manifests, key=lambda m: m["warc_path"]) if m["error"]
        ],
    }


def table_counts(table: pa.Table) -> list[tuple[str, str | None, int]]:
    """(warc_path, drop_reason, rows) of an in-memory table; the Spark job does this with groupBy."""
    grouped = table.group_by(["warc_path", "drop_reason"], use_threads=False).aggregate([("id", "count")])
    return list(zip(grouped["warc_path"].to_pylist(), grouped["drop_reason"].to_pylist(), grouped["id_count"].to_pylist()))


def summary_line(summary: dict[str, Any]) -> str:
    """cc_net-style progress line in human terms."""
    documents = summary["documents"] or 1
    return (f"Kept {summary['kept']} of {summary['documents']} documents ({100 * summary['kept'] / documents:.1f}%) "
            f"from {summary['records_read']} records in {summary['inputs']} inputs; "
            f"{len(summary['failed_inputs'])} failed inputs")
