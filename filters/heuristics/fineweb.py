"""FineWeb's extra rules (Penedo et al. 2024; datatrove `FineWebQualityFilter`): lines ending in
punctuation, short lines, duplicated line characters and newlines per word."""
from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from contract.bounds import bounded
from contract.stage import Rule, Threshold
from filters.text import TERMINAL_PUNCTUATION_SET, duplicates, ratio

@dataclass(frozen=True)
class FineWebConfig:
    """FineWeb's extra rules (Penedo et al. 2024; datatrove FineWebQualityFilter defaults)."""

    enabled: bool = True
    # non-blank lines ending in a sentence terminal (Unicode STerm)
    min_line_punct_ratio: float = bounded(0.12, ge=0, le=1)
    line_punct_exclude_zero: bool = False  # do not drop documents where that ratio is exactly 0
    max_short_line_ratio: float = bounded(0.67, ge=0, le=1)  # non-blank lines of at most `short_line_max_chars`
    short_line_max_chars: int = bounded(30, ge=0)
    # characters in repeated non-blank lines / characters (no newlines)
    max_char_dup_ratio: float = bounded(0.01, ge=0, le=1)
    max_newline_to_word_ratio: float = bounded(0.3, ge=0)  # newlines per token (list-like pages)


FINEWEB_FIELDS = (
    pa.field("fineweb_line_punct_ratio", pa.float64()),
    pa.field("fineweb_short_line_ratio", pa.float64()),
    pa.field("fineweb_char_dup_ratio", pa.float64()),
    pa.field("fineweb_newline_word_ratio", pa.float64()),
)


def fineweb_signals(text: str, tokens: float, short_line_max_chars: int) -> dict[str, float]:
    """FineWeb signals over non-blank lines (not stripped: a trailing space hides the punctuation)."""
    lines = [line for line in text.split("\n") if line.strip()]
    if not lines:
        return {
            "fineweb_line_punct_ratio": 0.0,
            "fineweb_short_line_ratio": 0.0,
            "fineweb_char_dup_ratio": 0.0,
            "fineweb_newline_word_ratio": 0.0,
        }
    return {
        "fineweb_line_punct_ratio": sum(1 for line in lines if line[-1] in TERMINAL_PUNCTUATION_SET)
        / len(lines),
        "fineweb_short_line_ratio": sum(1 for line in lines if len(line) <= short_line_max_chars)
        / len(lines),
        "fineweb_char_dup_ratio": duplicates(lines)[1] / (len(text) - text.count("\n")),
        "fineweb_newline_word_ratio": ratio(text.count("\n"), tokens),
    }


def fineweb_rules(fw: FineWebConfig) -> tuple[Rule, ...]:
    key = "heuristics.fineweb"

    def zero_excluded(doc: dict, lang: str) -> bool:
        return fw.line_punct_exclude_zero and doc["fineweb_line_punct_ratio"] == 0

    return (
        Rule("fineweb_line_punct_ratio_too_low", "few lines end in sentence punctuation (menus, lists, tables)",
             "fineweb_line_punct_ratio", (Threshold("<", fw.min_line_punct_ratio, f"{key}.min_line_punct_ratio"),),
             unless=zero_excluded, note="a ratio of exactly 0 is kept" if fw.line_punct_exclude_zero else ""),
        Rule("fineweb_short_line_ratio_too_high", "mostly short lines (navigation, lists)", "fineweb_short_line_ratio",
             (Threshold(">", fw.max_short_line_ratio, f"{key}.max_short_line_ratio"),)),
        Rule("fineweb_char_dup_ratio_too_high", "characters in repeated lines (boilerplate)", "fineweb_char_dup_ratio",
             (Threshold(">", fw.max_char_dup_ratio, f"{key}.max_char_dup_ratio"),)),
        Rule("fineweb_newline_word_ratio_too_high", "many newlines per word (list-like pages)",
             "fineweb_newline_word_ratio",
             (Threshold(">", fw.max_newline_to_word_ratio, f"{key}.max_newline_to_word_ratio"),)),
    )
