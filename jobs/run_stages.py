"""Run a chain of stages in-process, no Spark: for trying a filter on your own data, tests and evaluation.

`python jobs/run_stages.py --stages extract --input FILES --output DIR` writes every row, kept and dropped,
with all columns to DIR/documents.parquet, and the summary to DIR/stats/summary.json. Inputs may be WARC
files, or JSONL / Parquet files with `id` and `text`. With the `dedup` stage, every row is held in memory
for the global stage (the single-machine path; `build_corpus` scales it out) and the kept documents'
signatures are written to DIR/dedup/index.
"""
from __future__ import annotations

import argparse
import sys

from pipeline.cli import add_config_args, add_io_args, resolve_config
from pipeline.config import config_hash
from pipeline.corpus import (
    INDEX, InputTally, dedup_run, has_dedup, output_schema, process_input, summarize, summary_line, table_counts,
)
from pipeline.inputs import expand_inputs
from pipeline.outputs import OutputDir


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
    config = resolve_config(args)
    out = OutputDir(args.output)
    out.claim(config, ())
    manifests = []
    with out.parquet_writer("documents.parquet", output_schema(config)) as writer:
        for path in expand_inputs(args.input, args.paths_prefix):
            tally = InputTally(path)
            rows = 0
            for batch in process_input(path, config, tally):
                writer.write_batch(batch)
                rows += batch.num_rows
            manifests.append(tally.manifest(rows, config_hash(config)))
    if has_dedup(config):
        table = dedup_run(out.read_parquet("documents.parquet"), config, out.path(INDEX)).combine_chunks()
        with out.parquet_writer("documents.parquet", table.schema) as writer:
            writer.write_table(table)
    documents = out.read_parquet("documents.parquet")
    summary = summarize(manifests, table_counts(documents), config_hash(config))
    out.write_json("stats/summary.json", summary)
    print(summary_line(summary))
    print(f"Wrote {args.output}/documents.parquet")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
