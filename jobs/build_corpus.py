"""The corpus job: `spark-submit jobs/build_corpus.py --input WARCS --output OUT [--config cfg.toml]`.

Local Spark when no `--master` is given; the same file runs unchanged on a cluster. Rerunning the same
command after a crash redoes only the inputs without a completion marker.
"""
from __future__ import annotations

import argparse
import sys

from pipeline.cli import add_config_args, add_io_args, resolve_config, resolve_inputs, resolve_output
from pipeline.corpus import AccountingError, summary_line
from pipeline.outputs import ConfigMismatchError
from pipeline.toml_config import ConfigError
from pipeline.spark.job import build_corpus, spark_session


COMMAND = ["spark-submit", "jobs/build_corpus.py"]  # how the card names the command (README's form)
OUTPUT_PLACEHOLDER = "OUT"


def card_command(argv: list[str]) -> list[str]:
    """The command for the dataset card, with the output folder written OUT: the same run writes the same card
    wherever its output is (the folder's name is not part of the dataset)."""
    named = [OUTPUT_PLACEHOLDER if previous == "--output" else arg for previous, arg in zip([None] + argv, argv)]
    return COMMAND + [f"--output={OUTPUT_PLACEHOLDER}" if arg.startswith("--output=") else arg for arg in named]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_io_args(parser)
    add_config_args(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    config = resolve_config(args)  # every mistake of the command line exits here, before Spark starts
    inputs = resolve_inputs(args)
    resolve_output(args, config, spark=True)
    spark = spark_session("build_corpus")
    try:
        summary = build_corpus(spark, inputs, args.output, config, card_command(sys.argv[1:] if argv is None else argv))
    except (AccountingError, ConfigMismatchError, ConfigError) as error:
        print(f"build_corpus failed: {error}", file=sys.stderr)
        return 1
    finally:
        spark.stop()
    print(summary_line(summary))
    for reason, count in summary["dropped_by_reason"].items():
        print(f"  {reason:<44} {count:>8}")
    for failed in summary["failed_inputs"]:
        print(f"  failed input {failed['warc_path']}: {failed['error']}")
    print(f"Wrote {args.output}/corpus (dataset card: corpus/README.md), {args.output}/rejected, "
          f"{args.output}/stats/summary.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
