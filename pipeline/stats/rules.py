"""Which stage a column or a drop reason belongs to, the funnel's stage order, and the threshold rules the
report and the what-if read: all derived from the stages' declared rules (contract/stage.py), never restated.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

import pyarrow as pa

from contract.stage import CASCADE, Rule, Threshold
from dedup.decisions import DEDUP_FIELDS, DEDUP_RULES, DEDUP_STAGE
from pipeline.config import Config
from pipeline.extract import EXTRACT, EXTRACT_FIELDS, EXTRACT_RULES, WARC, WARC_RULES
from pipeline.registry import STAGE_CLASSES
from pipeline.schema import CORE_NAMES
from pipeline.tables import INPUT, INPUT_RULES, WRONG_TYPE

# Reason prefixes that are not configured stages but come before the first one, in this order: reading the
# input (warc, input), then the cheap-first cascade that drops pages before trafilatura (pipeline/cascade.py).
EARLY_STAGES = (WARC, INPUT, CASCADE)


def signal_columns(schema: pa.Schema) -> list[str]:
    """Numeric and boolean columns the stages added, in schema order (core columns are not signals)."""
    return [f.name for f in schema if f.name not in CORE_NAMES
            and (pa.types.is_integer(f.type) or pa.types.is_floating(f.type) or pa.types.is_boolean(f.type))]


def signal_stage(column: str) -> str:
    """The stage whose `fields` declare a column ("" if none does); PII columns depend on the entities; a
    per-language histogram "<column>@<lang>" is its column's."""
    column = column.split("@", 1)[0]
    if column in {f.name for f in EXTRACT_FIELDS}:
        return "extract"
    for name, cls in STAGE_CLASSES.items():
        if column in {f.name for f in cls.fields}:
            return name
    if column.startswith("pii_") and column.endswith("_count"):
        return "pii"
    if column in {f.name for f in DEDUP_FIELDS}:
        return "dedup"
    return ""


def reason_stage(reason: str) -> str:
    return reason.split(":", 1)[0]


def stage_order(config_stages: Sequence[str], observed: Iterable[str]) -> list[str]:
    """Funnel order: EARLY_STAGES found in the data, the configured stages in config order, then stages that
    only appear in the data (e.g. dedup in an output whose config does not name it), sorted by name."""
    observed = set(observed)
    early = [stage for stage in EARLY_STAGES if stage in observed and stage not in config_stages]
    late = sorted(observed - set(config_stages) - set(EARLY_STAGES))
    return early + list(config_stages) + late


@dataclass(frozen=True)
class ThresholdRule:
    """A drop reason that compares one signal column with one configured number."""

    reason: str  # e.g. "heuristics:gopher_too_few_words"
    signal: str  # the column compared
    drops_when: str  # the document is dropped when `signal drops_when threshold` ("<", "<=", ">", ">=")
    threshold: float
    config_key: str  # where the number is set, e.g. "heuristics.gopher_quality.min_words"
    note: str = ""  # where one number does not tell the whole rule (per-language values, exceptions)


def declared_rules(config: Config) -> list[tuple[str, Rule]]:
    """(reason, rule) of every rule the configured stages check, in the order they check them, then dedup's:
    the stages' own declarations (contract/stage.py), read without building a stage or loading a model."""
    rules = [(f"{name}:{rule.name}", rule) for name in config.pipeline.stages if name in STAGE_CLASSES
             for rule in STAGE_CLASSES[name].rules(getattr(config, name))]
    return rules + [(f"{DEDUP_STAGE}:{rule.name}", rule) for rule in DEDUP_RULES]


def reading_rules(config: Config) -> list[tuple[str, Rule]]:
    """(reason, rule) of what is decided before the stages' own rules: reading the input, the cascade's
    pre-checks (offered by the stages, contract/stage.py) and extraction."""
    rules = [(f"{WARC}:{rule.name}", rule) for rule in WARC_RULES]
    rules += [(f"{INPUT}:{rule.name}", rule) for rule in INPUT_RULES]
    if config.extract.cascade:
        rules += [(f"{CASCADE}:{rule.name}", rule) for name in config.pipeline.stages if name in STAGE_CLASSES
                  for rule in STAGE_CLASSES[name].precheck_rules(getattr(config, name))]
    if EXTRACT in config.pipeline.stages:
        rules += [(f"{EXTRACT}:{rule.name}", rule) for rule in EXTRACT_RULES]
    return rules


def all_rules(config: Config) -> list[tuple[str, Rule]]:
    """Every reason a run with `config` can give, in the order documents meet them, with its declaration."""
    return reading_rules(config) + declared_rules(config)


def is_declared(reason: str, rules: Iterable[tuple[str, Rule]]) -> bool:
    """Whether a drop reason is one of `rules` (a wrong-type reason ends with its column's name)."""
    return reason in {declared for declared, _ in rules} or reason.startswith(WRONG_TYPE)


def threshold_note(rule: Rule, threshold: Threshold) -> str:
    """What one number does not tell: the rule's own note, or the languages with values of their own."""
    if rule.note or not threshold.by_language:
        return rule.note
    return f"per-language values for {', '.join(sorted(threshold.by_language))}; the what-if applies one value to all"


def threshold_entries(reason: str, rule: Rule) -> list[tuple[str, ThresholdRule | None]]:
    """One ThresholdRule per comparison of the rule's column with a number; [(reason, None)] for a rule
    that is not such a comparison."""
    if not rule.thresholds:
        return [(reason, None)]
    return [(reason, ThresholdRule(reason, rule.signal, threshold.drops_when, float(threshold.value),
                                   threshold.config_key, threshold_note(rule, threshold)))
            for threshold in rule.thresholds]


def decision_rules(config: Config) -> list[tuple[str, ThresholdRule | None]]:
    """Every reason the configured stages give, in the order they check them, with its threshold rules."""
    return [entry for reason, rule in declared_rules(config) for entry in threshold_entries(reason, rule)]


def threshold_rules(config: Config) -> list[ThresholdRule]:
    return [rule for _, rule in decision_rules(config) if rule is not None]


def reaches_rule(stages: Sequence[str], rules: Sequence[tuple[str, Any]]) -> Callable[[str | None, str], bool]:
    """reaches(drop_reason, rule_reason): whether a document with that outcome was checked by the rule.

    Kept documents and documents dropped by a later rule (or stage) were; a reason this module does not know
    counts as checked before every rule of its stage, so it never inflates a what-if.
    """
    stage_index = {stage: i for i, stage in enumerate(stages)}
    rule_index: dict[str, int] = {}
    for i, (reason, _) in enumerate(rules):
        rule_index.setdefault(reason, i)

    def reaches(reason: str | None, rule_reason: str) -> bool:
        if reason is None:
            return True
        mine, theirs = stage_index.get(reason_stage(reason), -1), stage_index.get(reason_stage(rule_reason), -1)
        if mine != theirs:
            return mine > theirs
        return rule_index.get(reason, -1) >= rule_index[rule_reason]

    return reaches
