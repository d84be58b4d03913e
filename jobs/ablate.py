"""Data ablation: one small GPT, one token budget, two token directories, one common val set.

The same model is trained on each of two (or more) token directories and scored by its loss on one
held-out val set, the comparison DataComp-LM and FineWeb use to judge a filtering recipe. The runs differ
only in their training data (same tokenizer, model init, seed and steps), so the val loss gap is the data's
doing.

    python jobs/ablate.py --tokens DIR_A DIR_B [--names A B] [--val_tokens_dir DIR] [--out_dir OUT/ablate]
        [any trainer flag: --model tiny --seq_len 64 --max_steps 300 ...]

Writes OUT/ablate/<name>/train/ (each run's log and checkpoints, trainer/train.py) and OUT/ablate/ablation.json,
and prints a table. Val: the val split of --val_tokens_dir (default: the first --tokens directory). The token
directories must share one tokenizer (checked against the manifests' sha256). tokenize_corpus puts a
document in val by a hash of its id (WARC-Record-ID) alone, so a page in the val split of one corpus is
never in the train split of another corpus cut from the same WARC files.

Extracted-only text against the filtered corpus, on the demo's WARC files (after `make demo`, which writes
the filtered corpus, its tokenizer and out/demo/tokens):

    # every page with extracted text: no language, quality, dedup or PII stage (pages dropped by extraction
    # have no text, and tokenize_corpus skips rows without text)
    .venv/bin/python jobs/run_stages.py --stages extract --input sample_data/warc --output out/ablate/extracted
    # the same tokenizer and split settings as the filtered corpus's shards
    .venv/bin/python jobs/tokenize_corpus.py --no-ray --input out/ablate/extracted \\
        --tokenizer out/demo/tokenizer/tokenizer.json --output out/ablate/extracted-tokens \\
        --config configs/tokenizer.toml
    # both scored on the filtered corpus's val split
    OMP_NUM_THREADS=1 .venv/bin/python jobs/ablate.py --tokens out/ablate/extracted-tokens out/demo/tokens \\
        --names extracted filtered --val_tokens_dir out/demo/tokens --out_dir out/ablate \\
        --seq_len 64 --micro_batch 8 --max_steps 300 --lr 3e-3 --warmup_steps 30 --checkpoint_every 0
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from storage.atomic import write_atomic
from tokenizer.shards import read_manifest
from trainer.train import TrainConfig, add_config_args, train

RESULT = "ablation.json"
SET_PER_RUN = ("tokens_dir", "val_tokens_dir", "out_dir", "resume")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--tokens", nargs="+", required=True, help="two or more token directories (manifest.json)")
    parser.add_argument("--names", nargs="+", help="one name per --tokens directory; unset: their parent directories' names")
    parser.add_argument("--val_tokens_dir", default="", help="directory whose val split scores every run; "
                                                             "empty: the first --tokens directory")
    parser.add_argument("--out_dir", default="out/ablate", help="writes <name>/train/ per run and ablation.json")
    add_config_args(parser, skip=SET_PER_RUN)
    return parser.parse_args(argv)


def run_names(tokens_dirs: list[str], names: list[str] | None) -> list[str]:
    names = names or [Path(d).resolve().parent.name for d in tokens_dirs]
    if len(names) != len(tokens_dirs) or len(set(names)) != len(names):
        raise ValueError(f"need one distinct name per token directory, got {names} for {tokens_dirs} (--names)")
    return names


def check_one_tokenizer(directories: list[str]) -> str:
    """The tokenizer sha256 every directory's manifest names; raises if they differ."""
    digests = {d: read_manifest(d)["tokenizer"]["sha256"] for d in directories}
    if len(set(digests.values())) != 1:
        raise ValueError(f"the token directories come from different tokenizers: {digests}")
    return next(iter(digests.values()))


def ablate(tokens_dirs: list[str], names: list[str], val_tokens_dir: str, out_dir: str, base: TrainConfig) -> dict:
    """Train `base` on each directory (into OUT/<name>/) and collect final train and val losses."""
    tokenizer_sha256 = check_one_tokenizer([*tokens_dirs, val_tokens_dir])
    runs = []
    for name, tokens_dir in zip(names, tokens_dirs):
        run_dir = Path(out_dir) / name
        if (run_dir / "train").exists():
            raise FileExistsError(f"{run_dir / 'train'} exists: remove it or choose another --out_dir")
        config = dataclasses.replace(base, tokens_dir=tokens_dir, val_tokens_dir=val_tokens_dir,
                                     out_dir=str(run_dir), resume=False)
        summary = train(config)  # the last log row, and the tokens trained on
        train_tokens = read_manifest(tokens_dir)["splits"]["train"]["tokens"]
        runs.append({"name": name, "tokens_dir": tokens_dir, "train_tokens": train_tokens,
                     "epochs": summary["tokens"] / train_tokens, "steps": summary["step"],
                     "train_loss": summary["train_loss"], "val_loss": summary["val_loss"]})
    return {"val_tokens_dir": val_tokens_dir, "tokenizer_sha256": tokenizer_sha256, "token_budget": summary["tokens"],
            "config": {k: v for k, v in dataclasses.asdict(base).items() if k not in SET_PER_RUN}, "runs": runs}


def format_table(result: dict) -> str:
    lines = [f"{'run':<12} {'train tokens':>12} {'epochs':>7} {'train_loss':>10} {'val_loss':>9}"]
    for run in result["runs"]:
        lines.append(f"{run['name']:<12} {run['train_tokens']:>12,} {run['epochs']:>7.2f} "
                     f"{run['train_loss']:>10.4f} {run['val_loss']:>9.4f}")
    lines.append(f"same model and {result['token_budget']:,} training tokens per run; val loss on the val split "
                 f"of {result['val_tokens_dir']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if len(args.tokens) < 2:
        print("ablate needs at least two --tokens directories", file=sys.stderr)
        return 2
    base = TrainConfig(**{k: v for k, v in vars(args).items() if k not in ("tokens", "names", *SET_PER_RUN)})
    try:
        names = run_names(args.tokens, args.names)
        result = ablate(args.tokens, names, args.val_tokens_dir or args.tokens[0], args.out_dir, base)
    except (ValueError, FileExistsError, FileNotFoundError) as error:
        print(f"ablate failed: {error}", file=sys.stderr)
        return 1
    path = Path(args.out_dir) / RESULT
    write_atomic(path, [(json.dumps(result, indent=2) + "\n").encode("utf-8")])
    print(format_table(result))
    print(f"Wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
