"""Ranges of config settings, declared once beside each field and checked by the one loader.

    timeout_seconds: float = bounded(10.0, gt=0, le=3600)
    min_score: dict[str, float] = bounded(default_factory=lambda: {"default": 0.65}, ge=0, le=1)

`pipeline.toml_config` reads the bounds from the field's metadata and checks every value it loads from
TOML or `--set` (each item of a tuple, each value of a table), so a bad setting is a `config error` naming
the key before any engine starts. Every float is also required to be finite there (no NaN, no inf),
whether or not its field declares a range. A leaf module: the config dataclasses of filters/, dedup/,
tokenizer/ and pipeline/ import it without importing the loader.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable

BOUNDS_KEY = "bounds"


@dataclass(frozen=True)
class Bounds:
    ge: float | None = None  # value >= ge
    gt: float | None = None  # value > gt
    le: float | None = None  # value <= le
    lt: float | None = None  # value < lt

    def violation(self, value: float) -> str | None:
        """What `value` breaks ("must be >= 1, got 0"), or None when it is in range."""
        checks = (("ge", ">=", lambda b: value >= b), ("gt", ">", lambda b: value > b),
                  ("le", "<=", lambda b: value <= b), ("lt", "<", lambda b: value < b))
        for name, symbol, holds in checks:
            bound = getattr(self, name)
            if bound is not None and not holds(bound):
                return f"must be {self.describe()}, got {value!r}"
        return None

    def describe(self) -> str:
        parts = [f"{symbol} {_number(getattr(self, name))}" for name, symbol in
                 (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")) if getattr(self, name) is not None]
        return " and ".join(parts)


def _number(bound: float) -> str:
    return str(int(bound)) if float(bound).is_integer() else repr(bound)


def bounded(default: Any = dataclasses.MISSING, *, default_factory: Callable[[], Any] | Any = dataclasses.MISSING,
            ge: float | None = None, gt: float | None = None, le: float | None = None,
            lt: float | None = None) -> Any:
    """A dataclass field whose numbers (or every number of its tuple or table) must lie in the range."""
    metadata = {BOUNDS_KEY: Bounds(ge=ge, gt=gt, le=le, lt=lt)}
    if default_factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def field_bounds(field: dataclasses.Field) -> Bounds | None:
    return field.metadata.get(BOUNDS_KEY)


def bounds_violation(value: Any, bounds: Bounds, key: str) -> str | None:
    """`key: must be ...` for the first number of `value` (a number, tuple or table of them) out of range."""
    if isinstance(value, dict):
        items = [(f"{key}.{name}", item) for name, item in value.items()]
    elif isinstance(value, (tuple, list)):
        items = [(f"{key}[{i}]", item) for i, item in enumerate(value)]
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        problem = bounds.violation(value)
        return f"{key}: {problem}" if problem else None
    else:
        return None
    for item_key, item in items:
        problem = bounds_violation(item, bounds, item_key)
        if problem:
            return problem
    return None


def check_bounds(instance: Any) -> None:
    """ValueError naming the first field of a config dataclass out of its declared range: call it from
    `__post_init__` where a config is also built directly (tests, library use), not only loaded."""
    for field in dataclasses.fields(instance):
        bounds = field_bounds(field)
        problem = bounds_violation(getattr(instance, field.name), bounds, field.name) if bounds else None
        if problem:
            raise ValueError(problem)
