"""Run a chain of stages in-process, no Spark: for trying a filter on your own data, tests and evaluation.

`python jobs/run_stages.py --stages extract --input FILES --output DIR` writes every row, kept and dropped,
with all columns to DIR/documents.parquet, the summary to DIR/stats/summary.json and the statistics (counted
as the rows are written, as the report reads them) to DIR/stats/. Inputs may be WARC
files, or table files with `id` and `text` (`.jsonl`, `.jsonl.gz`, `.jsonl.zst`, `.json`, `.parquet`), read
as streams; a bad record is a named `input:*` drop (README, "Table inputs"). With the `dedup` stage, every
row is held in memory for the global stage (the single-machine path; `build_corpus` scales it out) and the
kept documents' signatures are written to DIR/dedup/index.
"""
from __future__ import annotations

import argparse
import sys

import pyarrow.parquet as pq

from pipeline.cli import add_config_args, add_io_args, resolve_config, resolve_inputs, resolve_output
from pipeline.corpus import (
    INDEX, AccountingError, InputTally, dedup_run, has_dedup, output_schema, process_input, summarize, summary_line,
    table_counts,
)
from pipeline.stats.counts import signal_types
from pipeline.stats.parts import Counts
from pipeline.stats.store import write_stats_counted
from pipeline.toml_config import config_hash


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stages", help="comma-separated stage names (default: pipeline.stages of the config)")
    add_io_args(parser)
    add_config_args(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.stages:
        stage_list = ", ".join(f'"{name.strip()}"' for name in args.stages.split(",") if name.strip())
        args.set = [f"pipeline.stages=[{stage_list}]"] + args.set
    config = resolve_config(args)  # every mistake of the command line exits here, before any work
    inputs = resolve_inputs(args)
    out = resolve_output(args, config)
    out.claim(config, ())
    manifests = []
    schema = output_schema(config)
    counts = Counts(list(signal_types(schema)))  # the statistics, counted as the rows are written
    with out.parquet_writer("documents.parquet", schema) as writer:
        for path in inputs:
            tally = InputTally(path)
            rows = 0
            for batch in process_input(path, config, tally):
                writer.write_batch(batch)
                rows += batch.num_rows
                if not has_dedup(config):
                    counts.add_rows(batch)
            manifests.append(tally.manifest(rows, config_hash(config)))
    if has_dedup(config):
        table = dedup_run(out.read_parquet("documents.parquet"), config, out.uri_of(INDEX)).combine_chunks()
        with out.parquet_writer("documents.parquet", table.schema) as writer:
            writer.write_table(table)
        for batch in table.to_batches(config.pipeline.batch_rows):
            counts.add_rows(batch)
    # only the columns counted: the texts of a 2 GB input would otherwise all come back into memory
    documents = pq.read_table(out.path("documents.parquet"), filesystem=out.fs, columns=["warc_path", "drop_reason", "id"])
    out.remove("stats/summary.json")  # an earlier run's must not outlive a rerun that fails its checks
    try:
        summary = summarize(manifests, table_counts(documents), config_hash(config))
    except AccountingError as error:  # a bug, not a user's mistake, but one line like build_corpus
        print(f"run_stages failed: {error}", file=sys.stderr)
        return 1
    out.write_json("stats/summary.json", summary)
    write_stats_counted(out, config, config_hash(config), counts)
    print(summary_line(summary))
    print(f"Wrote {args.output}/documents.parquet")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
