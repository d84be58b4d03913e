"""Typed configuration: one TOML file validated into frozen dataclasses before anything starts.

Unknown keys and wrong types are errors that name the key (`heuristics.gopher.min_words`). `--set
section.key=value` overrides parse the value as a TOML literal (bare words fall back to strings). The
resolved config is written next to every output with its hash, and a rerun into the same output with a
different config is refused. Config holds values, never code: there is no eval, no import by name.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from dedup.config import DedupConfig
from pipeline.bounds import bounded, bounds_violation, field_bounds
from filters.heuristics import HeuristicsConfig, HeuristicsStage
from filters.langid import LangidConfig, LangidStage
from filters.pii import PiiConfig, PiiStage
from filters.quality import QualityConfig, QualityStage
from filters.url import UrlFilterConfig, UrlFilterStage
from pipeline.extract import ExtractConfig

# Document stages by name; each takes the config section of the same name.
STAGE_CLASSES = {
    "langid": LangidStage, "url": UrlFilterStage, "heuristics": HeuristicsStage,
    "quality": QualityStage, "pii": PiiStage,
}
# "dedup" is the one global stage: it needs every document of the run, so the per-document stages before
# it run with extraction (one task per input) and the ones after it run when the parts are committed.
DEDUP_STAGE = "dedup"
KNOWN_STAGES = ("extract",) + tuple(STAGE_CLASSES) + (DEDUP_STAGE,)


class ConfigError(ValueError):
    """The configuration is invalid; the message names the key."""


@dataclass(frozen=True)
class PipelineConfig:
    # In order. extract applies to WARC inputs only; quality needs quality.model_path. PII is scrubbed
    # after dedup: duplicates are found on the original text and only the kept documents pay for presidio.
    stages: tuple[str, ...] = ("extract", "langid", "url", "heuristics", "dedup", "pii")
    compute_all_signals: bool = False  # measure signals on already-dropped documents too (threshold tuning)
    batch_rows: int = bounded(256, ge=1, le=1 << 20)  # rows per Arrow record batch between stages
    # JSONL/Parquet texts over this many UTF-8 bytes are `input:text_too_large` before any stage measures
    # them: the same bound as extract.max_payload_bytes for WARC pages (no real document is that long,
    # and a stage's cost and memory grow with the text: a 50 MB text cost 2.7 GB and 67 s).
    max_text_bytes: int = bounded(10 * 1024 * 1024, ge=1, le=1 << 31)


@dataclass(frozen=True)
class Config:
    pipeline: PipelineConfig = field(default_factory=PipelineConfig)
    extract: ExtractConfig = field(default_factory=ExtractConfig)
    langid: LangidConfig = field(default_factory=LangidConfig)
    url: UrlFilterConfig = field(default_factory=UrlFilterConfig)
    heuristics: HeuristicsConfig = field(default_factory=HeuristicsConfig)
    quality: QualityConfig = field(default_factory=QualityConfig)
    pii: PiiConfig = field(default_factory=PiiConfig)
    dedup: DedupConfig = field(default_factory=DedupConfig)


def _check_value(value: Any, annotation: Any, key: str) -> Any:
    """`value` converted to `annotation` (TOML arrays become tuples), or ConfigError naming `key`."""
    origin = typing.get_origin(annotation)
    if dataclasses.is_dataclass(annotation):
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: expected a table, got {type(value).__name__}")
        return _build(annotation, value, key)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(annotation)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _check_value(value, option, key)
            except ConfigError as error:
                errors.append(str(error))
        raise ConfigError(errors[0])
    if origin is tuple:
        item_type = typing.get_args(annotation)[0]
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key}: expected an array, got {type(value).__name__}")
        return tuple(_check_value(item, item_type, f"{key}[{i}]") for i, item in enumerate(value))
    if origin is dict:
        key_type, item_type = typing.get_args(annotation)
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: expected a table, got {type(value).__name__}")
        return {str(k): _check_value(v, item_type, f"{key}.{k}") for k, v in value.items()}
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{key}: expected a number, got {type(value).__name__} {value!r}")
        if not math.isfinite(value):  # NaN compares false with every threshold: it would silently drop all
            raise ConfigError(f"{key}: expected a finite number, got {value!r}")
        return float(value)
    if annotation is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise ConfigError(f"{key}: expected an integer, got {type(value).__name__} {value!r}")
    if annotation in (bool, str) and not isinstance(value, annotation):
        raise ConfigError(f"{key}: expected {annotation.__name__}, got {type(value).__name__} {value!r}")
    return value


def _check_field(field_: dataclasses.Field, value: Any, annotation: Any, key: str) -> Any:
    """`_check_value`, then the range the field declares (`pipeline.bounds.bounded`)."""
    value = _check_value(value, annotation, key)
    bounds = field_bounds(field_)
    problem = bounds_violation(value, bounds, key) if bounds is not None else None
    if problem:
        raise ConfigError(problem)
    return value


def _build(cls: type, data: dict[str, Any], prefix: str) -> Any:
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        where = f"{prefix}.{unknown[0]}" if prefix else unknown[0]
        raise ConfigError(f"unknown key {where!r} (known: {', '.join(sorted(fields))})")
    values = {
        name: _check_field(fields[name], value, hints[name], f"{prefix}.{name}" if prefix else name)
        for name, value in data.items()
    }
    try:
        return cls(**values)
    except ValueError as error:  # a section's own cross-field check
        raise ConfigError(f"{prefix or 'config'}: {error}") from error


def parse_override(assignment: str) -> tuple[list[str], Any]:
    """`section.key=value` -> (["section", "key"], value); the value is a TOML literal or a bare string."""
    path, sep, raw = assignment.partition("=")
    if not sep or not path.strip():
        raise ConfigError(f"--set expects section.key=value, got {assignment!r}")
    try:
        value = tomllib.loads(f"value = {raw}")["value"]
    except tomllib.TOMLDecodeError:
        value = raw
    return path.strip().split("."), value


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """A copy of the raw TOML dict with `--set` assignments applied (validated later with the rest)."""
    data = json.loads(json.dumps(data))
    for assignment in overrides:
        keys, value = parse_override(assignment)
        table = data
        for key in keys[:-1]:
            table = table.setdefault(key, {})
            if not isinstance(table, dict):
                raise ConfigError(f"--set {assignment!r}: {key!r} is not a table")
        table[keys[-1]] = value
    return data


def read_toml(path: str | Path | None) -> dict[str, Any]:
    """The TOML file's tables ({} without a file); ConfigError when it cannot be read or parsed."""
    if path is None:
        return {}
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from error
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: not UTF-8 text: {error}") from error
    except OSError as error:
        raise ConfigError(f"{path}: cannot read the config file: {error.strerror or error}") from error


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> Config:
    """Read, override and validate; raises ConfigError naming the first bad key."""
    config = _build(Config, apply_overrides(read_toml(path), overrides or []), "")
    stages = config.pipeline.stages
    unknown = [stage for stage in stages if stage not in KNOWN_STAGES]
    if unknown:
        raise ConfigError(f"pipeline.stages: unknown stage {unknown[0]!r} (known: {', '.join(KNOWN_STAGES)})")
    if len(set(stages)) != len(stages) or "extract" in stages[1:]:
        raise ConfigError(f"pipeline.stages: each stage at most once, extract first; got {list(stages)}")
    return config


def config_dict(config: Config) -> dict[str, Any]:
    """Plain dict of the config (tuples as lists), the form that is hashed and written."""
    return json.loads(json.dumps(dataclasses.asdict(config)))


def config_hash(config: Config) -> str:
    canonical = json.dumps(config_dict(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _without_none(table: dict[str, Any]) -> dict[str, Any]:
    # TOML has no null; an omitted key reads back as its default, which is where every None comes from.
    return {k: _without_none(v) if isinstance(v, dict) else v for k, v in table.items() if v is not None}


def to_toml(config: Config) -> str:
    """The resolved config as TOML, headed by its hash."""
    return f"# config_hash = {config_hash(config)}\n" + tomli_w.dumps(_without_none(config_dict(config)))
