"""Where the statistics live under OUT/stats/ and how they are written and read: the pyarrow engine's whole
statistics pass (`write_stats_local`, for `run_stages` output and any output without stats), the run's config
and token manifest, and the tables' files.
"""
from __future__ import annotations

import os
import tempfile
from typing import Any, Iterable, Iterator, Sequence

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from pipeline.config import Config, load_config
from pipeline.corpus import CORPUS, REJECTED, STATS
from pipeline.outputs import CONFIG_FILE, OutputDir
from pipeline.stats.counts import signal_types, top_rows
from pipeline.stats.parts import Counts, merge_parts
from pipeline.stats.grid import SignalHistogram, signal_histograms
from pipeline.stats.tables import (STATS_FORMAT, TABLE_SCHEMAS, TOKENS_SCHEMA, RunFacts, stats_tables, token_rows,
                                   token_summary)
from pipeline.toml_config import CONFIG_HASH_HEADER, read_config_hash
from storage.atomic import TEMPORARY_MARK

STATS_JSON = f"{STATS}/stats.json"
RUN_STAGES_DOCUMENTS = "documents.parquet"  # what `jobs/run_stages.py` writes
TOKEN_MANIFEST = "tokens/manifest.json"


def source_files(out: OutputDir) -> list[list[Any]]:
    """[relative path, bytes] of the row files: corpus/ and rejected/ parts, or run_stages' documents.parquet."""
    if out.exists(RUN_STAGES_DOCUMENTS) and not out.exists(CORPUS):
        return [[RUN_STAGES_DOCUMENTS, out.fs.get_file_info(out.path(RUN_STAGES_DOCUMENTS)).size]]
    files = []
    for folder in (CORPUS, REJECTED):
        if out.exists(folder):
            for info in out.fs.get_file_info(pafs.FileSelector(out.path(folder), recursive=False)):
                if info.type == pafs.FileType.File and info.base_name.endswith(".parquet") and TEMPORARY_MARK not in info.base_name:
                    files.append([f"{folder}/{info.base_name}", info.size])
    return sorted(files)


def read_token_manifest(out: OutputDir) -> dict[str, Any] | None:
    return out.read_json(TOKEN_MANIFEST) if out.exists(TOKEN_MANIFEST) else None


def read_run_config(out: OutputDir) -> tuple[Config, str]:
    """(the run's resolved config, its hash as written) from OUT/_config.toml; checks no model or list file.

    The hash comes from the file's header, not from rehashing: defaults added to the code after the run
    would change a recomputed hash, not the run.
    """
    if not out.exists(CONFIG_FILE):
        raise FileNotFoundError(f"{out.uri}: no {CONFIG_FILE}; statistics need the run's config")
    with out.fs.open_input_stream(out.path(CONFIG_FILE)) as stream:
        text = stream.read()
    header = text.decode("utf-8").split("\n", 1)[0]
    written_hash = read_config_hash(header)
    if written_hash is None:
        raise ValueError(f"{out.uri}/{CONFIG_FILE}: first line {header!r} is not '{CONFIG_HASH_HEADER}<hash>'")
    with tempfile.NamedTemporaryFile("wb", suffix=".toml", delete=False) as handle:
        handle.write(text)
    try:
        return load_config(handle.name), written_hash
    finally:
        os.unlink(handle.name)


def write_stats_tables(out: OutputDir, summary: dict[str, Any], tables: dict[str, pa.Table]) -> None:
    """Tables first, stats.json last: its presence says the set is complete. histograms.parquet holds one row
    group per signal, so readers (`read_signal_histograms`) hold one signal's rows at a time."""
    for name, table in tables.items():
        with out.parquet_writer(f"{STATS}/{name}.parquet", table.schema) as writer:
            if name != "histograms":
                writer.write_table(table)
                continue
            for rows in signal_runs(table):
                writer.write_table(rows, row_group_size=rows.num_rows)
    out.write_json(STATS_JSON, summary)


def signal_runs(histograms: pa.Table) -> Iterator[pa.Table]:
    """The table's consecutive runs of one signal (histograms.parquet is sorted by signal)."""
    names = histograms["signal"].to_pylist()
    start = 0
    for end in range(1, len(names) + 1):
        if end == len(names) or names[end] != names[start]:
            yield histograms.slice(start, end - start)
            start = end


def read_signal_histograms(out: OutputDir, columns: Sequence[str]) -> Iterator[tuple[str, SignalHistogram]]:
    """histograms.parquet one signal (one row group) at a time: memory bounded by the largest signal's rows.

    `columns` must include signal, drop_reason, position, documents and value_min."""
    parquet = pq.ParquetFile(out.path(f"{STATS}/histograms.parquet"), filesystem=out.fs)
    for index in range(parquet.metadata.num_row_groups):
        group = parquet.read_row_group(index, columns=list(columns))
        signals = signal_histograms(group)
        if len(signals) != 1:
            raise ValueError(f"{out.uri}/{STATS}/histograms.parquet row group {index} holds {len(signals)} signals, "
                             "not 1: rewrite the stats (delete stats/stats.json and rerun the report)")
        yield next(iter(signals.items()))


def _types_by_signal(schemas: Sequence[pa.Schema]) -> dict[str, str]:
    """The signal columns of all row files (their union, in first-seen order) and their kinds."""
    types_by_signal: dict[str, str] = {}
    for schema in schemas:
        types_by_signal |= {k: v for k, v in signal_types(schema).items() if k not in types_by_signal}
    return types_by_signal


def _write_counted(out: OutputDir, facts: RunFacts, counts: Counts) -> dict[str, Any]:
    summary, tables = stats_tables(top_rows(counts.merged()), counts.candidates, facts)
    write_stats_tables(out, summary, tables)
    return summary


def write_stats_local(out: OutputDir, config: Config, hash_: str, batch_rows: int = 8192) -> dict[str, Any]:
    """OUT/stats/ with pyarrow alone, batch by batch: for run_stages output and outputs without stats."""
    sources = source_files(out)
    if not sources:
        raise FileNotFoundError(f"{out.uri}: no {CORPUS}/, {REJECTED}/ or {RUN_STAGES_DOCUMENTS} to take statistics of")
    files = [pq.ParquetFile(out.path(path), filesystem=out.fs) for path, _ in sources]
    types_by_signal = _types_by_signal([file.schema_arrow for file in files])
    counts = Counts(list(types_by_signal))
    for parquet in files:
        for batch in parquet.iter_batches(batch_size=batch_rows):
            counts.add_rows(batch)
    return _write_counted(out, RunFacts(config, hash_, types_by_signal, sources, read_token_manifest(out)), counts)


def write_stats_counted(out: OutputDir, config: Config, hash_: str, counts: Counts) -> dict[str, Any]:
    """OUT/stats/ from counts made while the rows were written: no pass over them; the signal columns are read
    from one row file's footer (every file of a run has its schema)."""
    sources = source_files(out)
    schemas = [pq.read_schema(out.path(sources[0][0]), filesystem=out.fs)] if sources else []
    facts = RunFacts(config, hash_, _types_by_signal(schemas), sources, read_token_manifest(out))
    return _write_counted(out, facts, counts)


def write_stats_from_parts(out: OutputDir, config: Config, hash_: str, parts: Sequence[str]) -> dict[str, Any]:
    """OUT/stats/ of the corpus job from the counts its commit tasks wrote beside each part."""
    return write_stats_counted(out, config, hash_, merge_parts(out, parts))


def ensure_stats(out: OutputDir) -> dict[str, Any]:
    """stats.json of an output, recomputed with pyarrow when missing or older than the row files."""
    if out.exists(STATS_JSON):
        summary = out.read_json(STATS_JSON)
        if summary.get("format") == STATS_FORMAT and summary.get("sources") == source_files(out):
            return summary
    return write_stats_local(out, *read_run_config(out))


def read_stats_tables(out: OutputDir, names: Iterable[str] = tuple(TABLE_SCHEMAS)) -> dict[str, pa.Table]:
    return {name: out.read_parquet(f"{STATS}/{name}.parquet") for name in names}


def refresh_tokens(out: OutputDir, summary: dict[str, Any]) -> dict[str, Any]:
    """Bring the token counts up to date with OUT/tokens/manifest.json, which tokenize_corpus writes after the
    corpus job: rewrites stats/tokens.parquet and stats.json's "tokens", nothing else (bounded work)."""
    manifest = read_token_manifest(out)
    tokens = token_summary(manifest)
    if summary.get("tokens") == tokens:
        return summary
    with out.parquet_writer(f"{STATS}/tokens.parquet", TOKENS_SCHEMA) as writer:
        writer.write_table(pa.Table.from_pylist(token_rows(manifest), schema=TOKENS_SCHEMA))
    summary = summary | {"tokens": tokens}
    out.write_json(STATS_JSON, summary)
    return summary
