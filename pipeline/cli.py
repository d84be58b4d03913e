"""Command-line pieces shared by the jobs: config flags and their resolution, and the checks of `--input`
and `--output` that run before any engine starts.

A user's mistake (a bad setting or `--set`, an unreadable config file, an input matching nothing, an
output that cannot be used) is one line on stderr, `<kind> error: <what>`, and exit status 2; a refusal
found while checking the output (another config's results) is exit status 1, as the jobs' other refusals.
"""
from __future__ import annotations

import argparse
import sys
from typing import NoReturn

import pyarrow as pa

from pipeline.config import Config, load_config
from pipeline.corpus import build_stages
from pipeline.inputs import DEFAULT_LISTING_PREFIX, HadoopPathError, InputError, expand_inputs, hadoop_path
from pipeline.outputs import ConfigMismatchError, OutputDir, OutputPathError
from pipeline.toml_config import ConfigError, to_toml

USAGE_ERROR = 2  # argparse's status for a bad command line; ours for a bad setting, input or output
REFUSED = 1  # the output holds another config's results


def add_io_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", nargs="+", required=True,
                        help="WARC, WET, JSONL or Parquet files, directories (every such file below them), "
                             "globs (only where no file has that name), URIs (s3://, gs://, hdfs://, file://) "
                             "or Common Crawl warc.paths(.gz) listings")
    parser.add_argument("--output", required=True, help="output directory (local path or URI)")
    parser.add_argument("--paths-prefix", default=DEFAULT_LISTING_PREFIX, help="prefix for warc.paths entries")


def add_config_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="TOML config file (defaults apply to what it leaves out)")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                        help="override one config value (TOML literal), repeatable")
    parser.add_argument("--dry-run", action="store_true", help="print the resolved config and exit")


def exit_with(kind: str, error: BaseException | str, status: int = USAGE_ERROR) -> NoReturn:
    """Print `<kind> error: <message>` as one line on stderr and exit with `status`."""
    message = " ".join(str(error).split()) or type(error).__name__  # one line, whatever the message held
    print(f"{kind} error: {message}", file=sys.stderr)
    raise SystemExit(status)


def resolve_config(args: argparse.Namespace) -> Config:
    """The validated config, or exit 2 with the message naming the bad key; exits 0 after --dry-run."""
    try:
        config = load_config(args.config, args.set)
        build_stages(config)  # a missing model or list file fails here, before any engine starts
    except (ConfigError, OSError) as error:
        exit_with("config", error)
    if args.dry_run:
        print(to_toml(config), end="")
        raise SystemExit(0)
    return config


def resolve_inputs(args: argparse.Namespace) -> list[str]:
    """`expand_inputs` of `--input`, or exit 2 naming the spec that matches nothing."""
    try:
        return expand_inputs(args.input, args.paths_prefix)
    except InputError as error:
        exit_with("input", error)


def resolve_output(args: argparse.Namespace, config: Config, spark: bool = False) -> OutputDir:
    """The output directory, made and checked before any work (with `spark`: also nameable by Hadoop);
    exit 2 when it cannot be used, 1 when it holds another config's output."""
    try:
        if spark:
            hadoop_path(args.output, reading=True)
        out = OutputDir(args.output)
        out.check_writable(config)
    except ConfigMismatchError as error:
        exit_with("output", error, REFUSED)
    except (OutputPathError, HadoopPathError, OSError, pa.ArrowException) as error:
        exit_with("output", error)
    return out
