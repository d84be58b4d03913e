"""The stage registry: the per-document stages the corpus job can run, one line each.

A stage is a `contract.stage.DocumentStage` subclass in a module of its own, with its `name` (the name in
`pipeline.stages`, the drop-reason prefix and its config section) and its `config_class` (that section's
frozen dataclass). Adding a stage is its module plus one line here: the config section, the stage name's
validation, the output columns, the cascade's pre-checks, the statistics and the report follow from the
class (README, "Add a stage"). The order below is the order of the config sections in `_config.toml`.
"""
from __future__ import annotations

import importlib

from contract.stage import DocumentStage

STAGE_PATHS = (
    "filters.langid:LangidStage",
    "filters.url:UrlFilterStage",
    "filters.heuristics.stage:HeuristicsStage",
    "filters.quality:QualityStage",
    "filters.pii.stage:PiiStage",
    "filters.encoding:EncodingStage",
    "filters.perplexity:PerplexityStage",
    "filters.decontam:DecontamStage",
    "filters.optout:OptoutStage",
)


def _stage_class(path: str) -> type[DocumentStage]:
    module, _, name = path.partition(":")
    stage = getattr(importlib.import_module(module), name)
    if not (isinstance(stage, type) and issubclass(stage, DocumentStage) and stage.name and stage.config_class):
        raise TypeError(f"{path}: not a DocumentStage with a name and a config_class")
    return stage


STAGE_CLASSES: dict[str, type[DocumentStage]] = {stage.name: stage for stage in map(_stage_class, STAGE_PATHS)}
