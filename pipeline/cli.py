"""Command-line pieces shared by the jobs: config flags and their resolution."""
from __future__ import annotations

import argparse
import sys

from pipeline.config import Config, ConfigError, load_config, to_toml
from pipeline.corpus import build_stages
from pipeline.inputs import DEFAULT_LISTING_PREFIX


def add_io_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", nargs="+", required=True,
                        help="WARC (or JSONL/Parquet with id and text) files, directories, globs, URIs "
                             "(s3://, gs://, hdfs://, file://) or Common Crawl warc.paths(.gz) listings")
    parser.add_argument("--output", required=True, help="output directory (local path or URI)")
    parser.add_argument("--paths-prefix", default=DEFAULT_LISTING_PREFIX, help="prefix for warc.paths entries")


def add_config_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="TOML config file (defaults apply to what it leaves out)")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                        help="override one config value (TOML literal), repeatable")
    parser.add_argument("--dry-run", action="store_true", help="print the resolved config and exit")


def resolve_config(args: argparse.Namespace) -> Config:
    """The validated config, or exit 2 with the message naming the bad key; exits 0 after --dry-run."""
    try:
        config = load_config(args.config, args.set)
        build_stages(config)  # a missing model or list file fails here, before any engine starts
    except (ConfigError, OSError) as error:
        print(f"config error: {error}", file=sys.stderr)
        raise SystemExit(2) from error
    if args.dry_run:
        print(to_toml(config), end="")
        raise SystemExit(0)
    return config
