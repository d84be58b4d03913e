"""Train a tokenizer on a sample of the corpus:
`python jobs/train_tokenizer.py --input OUT/corpus --output OUT/tokenizer [--config cfg.toml]`.

Reads the `[tokenizer]` section (see tokenizer/config.py); writes tokenizer.json (loadable by
`tokenizers.Tokenizer.from_file` and `transformers.PreTrainedTokenizerFast`), tokenizer_config.json,
special_tokens_map.json, report.json (held-out compression per language) and _config.toml. --input and
--output may be URIs of any pyarrow filesystem (`s3://...`; README, "Object storage (S3)").
"""
from __future__ import annotations

import argparse
import sys

from pipeline.cli import add_config_args
from pipeline.outputs import ConfigMismatchError
from pipeline.toml_config import ConfigError, load_job_config, to_toml
from tokenizer.config import TrainTokenizerJobConfig
from tokenizer.train import format_report, train_and_write


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--input", required=True, help="corpus directory (OUT/corpus: part-*.parquet), path or URI")
    parser.add_argument("--output", required=True, help="tokenizer directory (OUT/tokenizer), path or URI")
    add_config_args(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        config = load_job_config(TrainTokenizerJobConfig, args.config, args.set)
    except (ConfigError, OSError) as error:
        print(f"config error: {error}", file=sys.stderr)
        return 2
    if args.dry_run:
        print(to_toml(config), end="")
        return 0
    try:
        report = train_and_write(args.input, args.output, config)
    except (ConfigMismatchError, OSError, ValueError) as error:
        print(f"train_tokenizer failed: {error}", file=sys.stderr)
        return 1
    print(format_report(report))
    print(f"Wrote {args.output}/tokenizer.json and {args.output}/report.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
