"""Per-document filters (engine-free stages): language ID, URL block lists, heuristic quality rules.

Each stage takes one frozen config dataclass defined next to it; none imports pyspark or ray.
"""
from filters.heuristics import (
    BadWordsConfig,
    C4Config,
    FineWebConfig,
    GopherQualityConfig,
    GopherRepetitionConfig,
    HeuristicsConfig,
    HeuristicsStage,
)
from filters.langid import LangidConfig, LangidStage
from filters.url import UrlFilterConfig, UrlFilterStage

__all__ = [
    "BadWordsConfig",
    "C4Config",
    "FineWebConfig",
    "GopherQualityConfig",
    "GopherRepetitionConfig",
    "HeuristicsConfig",
    "HeuristicsStage",
    "LangidConfig",
    "LangidStage",
    "UrlFilterConfig",
    "UrlFilterStage",
]
