"""Train a fastText quality classifier: reference-quality documents (positives) against web text (negatives).

    python jobs/train_quality_classifier.py --positives sample_data/reference \
        --negatives out/extracted/documents.parquet --output out/quality_model \
        [--config cfg.toml] [--set train_quality.epoch=10] [--dry-run]

Sources are .jsonl(.gz) with `text`, .parquet with `text` (kept rows only when it has `drop_reason`),
.txt, or directories of those (a build_corpus output: its `corpus/` parts). Writes OUTPUT/model.bin
(+ model.ftz with `quantize = true`), OUTPUT/training_config.json (config, sources, counts) and
OUTPUT/metrics.json (held-out precision / recall / F1 at 0.5 and ROC AUC, overall and per source).
Settings come from the `[train_quality]` section of the TOML file (other sections are ignored, so the
pipeline's config file can hold it); see `pipeline.quality_training.TrainQualityConfig`. fastText trains
single-threaded: it is deterministic only that way, so the same inputs and config give the same model.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.quality_training import TrainQualityConfig, train_quality_classifier
from pipeline.toml_config import ConfigError, load_job_config

SECTION = "train_quality"


@dataclass(frozen=True)
class TrainQualityJobConfig:
    train_quality: TrainQualityConfig = field(default_factory=TrainQualityConfig)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--positives", nargs="+", required=True, help="reference-quality sources (files or dirs)")
    parser.add_argument("--negatives", nargs="+", required=True, help="web / low-quality sources (files or dirs)")
    parser.add_argument("--output", required=True, help="output directory for the model, config and metrics")
    parser.add_argument("--config", help="TOML file; its [train_quality] section is read")
    parser.add_argument("--set", action="append", default=[], metavar="train_quality.KEY=VALUE",
                        help="override one setting (TOML literal), repeatable")
    parser.add_argument("--dry-run", action="store_true", help="print the resolved settings and exit")
    return parser.parse_args(argv)


def load_train_config(path: str | None, overrides: list[str]) -> TrainQualityConfig:
    """The `[train_quality]` section of `path` with `--set` overrides, validated; ConfigError names the key."""
    return load_job_config(TrainQualityJobConfig, path, overrides).train_quality


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        config = load_train_config(args.config, args.set)
    except (ConfigError, OSError) as error:
        print(f"config error: {error}", file=sys.stderr)
        return 2
    if args.dry_run:
        print(json.dumps({SECTION: config.__dict__}, indent=2))
        return 0
    start = time.perf_counter()
    try:
        metrics = train_quality_classifier(args.positives, args.negatives, config, args.output)
    except (OSError, ValueError, RuntimeError) as error:  # missing or unreadable sources, too few documents,
        # fastText diverging at this lr: each message names the file or the setting to change
        print(f"train_quality_classifier failed: {' '.join(str(error).split())}", file=sys.stderr)
        return 1
    with open(Path(args.output) / "training_config.json", encoding="utf-8") as stream:
        counts = json.load(stream)["counts"]
    print(f"Read {counts['positive']['read']} positive and {counts['negative']['read']} negative documents; "
          f"sampled {counts['sampled_per_class']} per class; trained on {sum(counts['train'].values())}, "
          f"held out {sum(counts['holdout'].values())} in {time.perf_counter() - start:.1f} s")
    print(f"Held-out AUC {metrics['auc']:.4f}, precision {metrics['precision']:.3f}, recall {metrics['recall']:.3f}, "
          f"F1 {metrics['f1']:.3f} at 0.5 ({metrics['positives']} positive, {metrics['negatives']} negative)")
    print(f"Wrote {args.output}/model.bin{' and model.ftz' if config.quantize else ''}, "
          f"training_config.json, metrics.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
