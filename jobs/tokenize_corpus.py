"""Tokenize the corpus into packed shards with Ray Data:
`python jobs/tokenize_corpus.py --input OUT/corpus --tokenizer OUT/tokenizer/tokenizer.json --output OUT/tokens`.

Local Ray by default, `--address HOST:PORT` (or `auto`) for a cluster, whose workers must see --input and
--output at the same paths: a shared filesystem, or URIs of an object store (`s3://...`; every file access is
pyarrow's, inside the tasks too: the workers need the store's credentials, README "Object storage (S3)");
the project's packages are shipped with the job
(runtime_env py_modules), so the nodes need only the dependencies. Reads the `[tokenize]` section
(tokenizer/config.py); writes {train,val}-NNNNN.bin/.idx/.docs.parquet and manifest.json (design:
tokenizer/encode.py); `--set tokenize.output_format=megatron` writes Megatron-LM's indexed dataset.
Rerunning the same command after a crash redoes only the parts and shards that are not complete.
"""
from __future__ import annotations

import argparse
import sys

import pyarrow as pa
import pyarrow.fs as pafs

from pipeline.cli import add_config_args
from pipeline.inputs import _filesystem
from pipeline.outputs import RunMismatchError
from pipeline.toml_config import ConfigError, load_job_config, to_toml
from tokenizer.config import TokenizeJobConfig
from tokenizer.encode import serial_map, tokenize_corpus
from tokenizer.shards import ShardFormatError


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--input", required=True, help="corpus directory (OUT/corpus: part-*.parquet), path or URI")
    parser.add_argument("--tokenizer", required=True, help="tokenizer.json written by train_tokenizer, path or URI")
    parser.add_argument("--output", required=True,
                        help="shard directory (OUT/tokens): local, shared filesystem or URI (s3://...)")
    parser.add_argument("--address", help="Ray cluster address (default: start a local Ray)")
    parser.add_argument("--no-ship-code", action="store_true",
                        help="on a cluster, do not ship the project's packages with the job (its nodes have them)")
    parser.add_argument("--no-ray", action="store_true", help="run in this process without Ray (same bytes)")
    parser.add_argument("--keep-parts", action="store_true", help="keep the per-part token caches in _parts/")
    parser.add_argument("--progress", action="store_true", help="show Ray Data progress bars")
    add_config_args(parser)
    return parser.parse_args(argv)


def location_is(location: str, kind: pafs.FileType) -> bool:
    """Whether a local path or URI names a `kind` (file or directory); False when it cannot be asked."""
    try:
        fs, path = _filesystem(location)
        return fs.get_file_info(path).type == kind
    except (OSError, ValueError, pa.ArrowException):  # unknown scheme, malformed URI, unreachable store
        return False


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        config = load_job_config(TokenizeJobConfig, args.config, args.set)
    except (ConfigError, OSError) as error:
        print(f"config error: {error}", file=sys.stderr)
        return 2
    if args.dry_run:
        print(to_toml(config), end="")
        return 0
    for path, what, kind in ((args.input, "corpus directory", pafs.FileType.Directory),
                             (args.tokenizer, "tokenizer file", pafs.FileType.File)):
        if not location_is(path, kind):  # checked here, before a Ray cluster is started or joined
            print(f"input error: {what} {path!r} does not exist", file=sys.stderr)
            return 2
    if args.no_ray:
        mapper = serial_map
    else:
        from tokenizer.ray_engine import init_ray, ray_mapper  # engine glue only when Ray is used
        init_ray(args.address, ship_code=not args.no_ship_code)
        mapper = ray_mapper(config.tokenize.num_workers, progress=args.progress)
    try:
        manifest = tokenize_corpus(args.input, args.tokenizer, args.output, config, mapper, keep_parts=args.keep_parts)
    except (RunMismatchError, ShardFormatError, OSError, ValueError) as error:  # OSError: missing files, the store
        print(f"tokenize_corpus failed: {error}", file=sys.stderr)
        return 1
    for split, row in manifest["splits"].items():
        print(f"{split}: {row['shards']} shards, {row['documents']} documents, {row['tokens']} tokens "
              f"({manifest['format']['name']}, {manifest['dtype']})")
    print(f"Wrote {args.output}/manifest.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
