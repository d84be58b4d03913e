"""The one TOML config loader of every job: read a file, apply `--set` overrides, validate into frozen dataclasses.

Unknown keys and wrong types are errors that name the key (`heuristics.gopher.min_words`), and so are values
outside the range a field declares (`contract.bounds.bounded`). `--set section.key=value` overrides parse the
value as a TOML literal (bare words fall back to strings). Config holds values, never code: there is no eval,
no import by name. A job either owns the whole file (`load_toml`: the corpus job, whose sections are every
table) or reads its own sections of the project's one file and ignores the others (`load_job_config`: the
tokenizer and quality-classifier jobs).

The resolved config is written next to every output as TOML headed by its hash (`to_toml`); that header line is
written here and read back with `read_config_hash`, nowhere else.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import tomllib
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import tomli_w

from contract.bounds import bounds_violation, field_bounds

CONFIG_HASH_HEADER = "# config_hash = "  # first line of every written config: the header, then the hash
T = TypeVar("T")


class ConfigError(ValueError):
    """The configuration is invalid; the message names the key."""


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
    """`_check_value`, then the range the field declares (`contract.bounds.bounded`)."""
    value = _check_value(value, annotation, key)
    bounds = field_bounds(field_)
    problem = bounds_violation(value, bounds, key) if bounds is not None else None
    if problem:
        raise ConfigError(problem)
    return value


def _build(cls: type[T], data: dict[str, Any], prefix: str) -> T:
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


def load_toml(cls: type[T], path: str | Path | None = None, overrides: list[str] | None = None) -> T:
    """The whole TOML file at `path` with `--set` overrides, validated into `cls` (every table is one of its
    sections); raises ConfigError naming the first bad key."""
    return _build(cls, apply_overrides(read_toml(path), overrides or []), "")


def load_job_config(cls: type[T], path: str | Path | None = None, overrides: list[str] | None = None) -> T:
    """The sections `cls` declares (its fields) of the TOML file at `path`, with `--set` overrides, validated
    into `cls`. Other sections are ignored, so one file serves every job; a `--set` naming another section is
    an error, so a typo cannot be ignored silently."""
    sections = {f.name for f in dataclasses.fields(cls)}
    data = read_toml(path)
    for assignment in overrides or []:
        keys, _ = parse_override(assignment)
        if keys[0] not in sections:
            raise ConfigError(f"--set {assignment!r}: this job reads only [{'], ['.join(sorted(sections))}]")
    data = apply_overrides(data, overrides or [])
    return _build(cls, {name: data[name] for name in sections if name in data}, "")


def config_dict(config: Any) -> dict[str, Any]:
    """Plain dict of a config dataclass (tuples as lists), the form that is hashed and written."""
    return json.loads(json.dumps(dataclasses.asdict(config)))


def config_hash(config: Any) -> str:
    """sha256 of the canonical JSON of `config_dict`: the identity of a config, written next to its outputs."""
    canonical = json.dumps(config_dict(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _without_none(table: dict[str, Any]) -> dict[str, Any]:
    # TOML has no null; an omitted key reads back as its default, which is where every None comes from.
    return {k: _without_none(v) if isinstance(v, dict) else v for k, v in table.items() if v is not None}


def to_toml(config: Any) -> str:
    """The resolved config as TOML, headed by its hash (`CONFIG_HASH_HEADER`)."""
    return f"{CONFIG_HASH_HEADER}{config_hash(config)}\n" + tomli_w.dumps(_without_none(config_dict(config)))


def read_config_hash(first_line: str) -> str | None:
    """The hash in a written config's first line (`to_toml`), or None when the line is not that header."""
    return first_line.removeprefix(CONFIG_HASH_HEADER) if first_line.startswith(CONFIG_HASH_HEADER) else None
