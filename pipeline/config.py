"""The corpus job's typed configuration: one TOML file validated into frozen dataclasses before anything starts.

The sections are the stages' own config dataclasses; reading, `--set` overrides, validation (errors that name
the key), the hash and the written form are the project's one loader, `pipeline.toml_config`. A rerun into the
same output with a different config is refused (`pipeline.outputs.OutputDir.claim`).
"""
from __future__ import annotations

from dataclasses import dataclass, field, make_dataclass
from pathlib import Path
from typing import Any

from contract.bounds import bounded
from dedup.config import DedupConfig
from dedup.decisions import DEDUP_STAGE
from pipeline.extract import ExtractConfig
from pipeline.registry import STAGE_CLASSES
from pipeline.toml_config import ConfigError, load_toml

# "dedup" is the one global stage: it needs every document of the run, so the per-document stages before
# it run with extraction (one task per input) and the ones after it run when the parts are committed.
KNOWN_STAGES = ("extract",) + tuple(STAGE_CLASSES) + (DEDUP_STAGE,)


@dataclass(frozen=True)
class PipelineConfig:
    # In order. extract applies to WARC inputs only; quality needs quality.model_path. PII is scrubbed
    # after dedup: duplicates are found on the original text and only the kept documents pay for presidio.
    # optout decides on the WARC response before extraction (filters/optout.py); leave it out to disable it.
    stages: tuple[str, ...] = ("extract", "optout", "langid", "url", "heuristics", "dedup", "pii")
    compute_all_signals: bool = False  # measure signals on already-dropped documents too (threshold tuning)
    batch_rows: int = bounded(256, ge=1, le=1 << 20)  # rows per Arrow record batch between stages
    # JSONL/Parquet texts over this many UTF-8 bytes are `input:text_too_large` before any stage measures
    # them: the same bound as extract.max_payload_bytes for WARC pages (no real document is that long,
    # and a stage's cost and memory grow with the text: a 50 MB text cost 2.7 GB and 67 s).
    max_text_bytes: int = bounded(10 * 1024 * 1024, ge=1, le=1 << 31)


def _section(name: str, section: type) -> tuple[str, type, Any]:
    return name, section, field(default_factory=section)


# The whole config: pipeline and extract, then one section per registered stage (its `config_class`, under its
# name, in registry order), then dedup.
Config = make_dataclass(
    "Config",
    [_section("pipeline", PipelineConfig), _section("extract", ExtractConfig),
     *(_section(name, stage.config_class) for name, stage in STAGE_CLASSES.items()), _section(DEDUP_STAGE, DedupConfig)],
    frozen=True,
)
Config.__module__ = __name__  # pickled by reference (Spark and Ray workers import it from here)


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> Config:
    """Read, override and validate; raises ConfigError naming the first bad key."""
    config = load_toml(Config, path, overrides)
    stages = config.pipeline.stages
    unknown = [stage for stage in stages if stage not in KNOWN_STAGES]
    if unknown:
        raise ConfigError(f"pipeline.stages: unknown stage {unknown[0]!r} (known: {', '.join(KNOWN_STAGES)})")
    if len(set(stages)) != len(stages) or "extract" in stages[1:]:
        raise ConfigError(f"pipeline.stages: each stage at most once, extract first; got {list(stages)}")
    return config
