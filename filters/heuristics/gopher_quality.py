"""Gopher's quality rules (Rae et al. 2021, appendix A.1.1; datatrove `GopherQualityFilter`): word count,
mean word length, symbols, bullet and ellipsis lines, alphabetic words and stop words."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from contract.bounds import bounded
from contract.stage import DEFAULT_LANGUAGE, Rule, Threshold
from filters.text import patterns, ratio

# Gopher's English stop words (Rae et al. 2021, appendix A.1.1); datatrove's default list.
GOPHER_STOP_WORDS_EN: tuple[str, ...] = ("the", "be", "to", "of", "and", "that", "have", "with")

# Gopher-style lists for other languages: the most frequent function words of each (our own choice,
# 10 per language, lowercase as they appear mid-sentence), so the rule means the same thing there.
GOPHER_STYLE_STOP_WORDS: dict[str, tuple[str, ...]] = {
    "de": ("der", "die", "und", "in", "den", "von", "zu", "das", "mit", "sich"),
    "fr": ("le", "la", "de", "et", "les", "des", "en", "un", "une", "du"),
    "es": ("de", "la", "que", "el", "en", "y", "los", "del", "se", "las"),
    "it": ("di", "e", "il", "la", "che", "in", "un", "per", "del", "non"),
    "pt": ("de", "a", "o", "que", "e", "do", "da", "em", "um", "para"),
    "nl": ("de", "en", "van", "het", "een", "in", "is", "dat", "op", "te"),
    "ru": ("и", "в", "не", "на", "что", "с", "по", "как", "это", "он"),
    "pl": ("i", "w", "na", "z", "się", "nie", "do", "to", "że", "jest"),
    "tr": ("ve", "bir", "bu", "da", "de", "için", "ile", "çok", "olarak", "gibi"),
}


@dataclass(frozen=True)
class GopherQualityConfig:
    """Gopher quality rules (Rae et al. 2021, A.1.1; defaults as datatrove GopherQualityFilter)."""

    enabled: bool = True
    min_words: int = bounded(50, ge=0)  # words with a letter or digit (punctuation tokens not counted)
    max_words: int = bounded(100_000, ge=1)
    # Mean characters per (non-punctuation) word; Gopher 3..10. In character-based languages the mean is
    # about chars_per_word by construction, so the lower bound is relaxed there; Korean words
    # (eojeol) are 2-4 syllables, so its lower bound is 2.
    min_mean_word_length: dict[str, float] = bounded(
        default_factory=lambda: {"default": 3.0, "zh": 1.0, "ja": 1.0, "yue": 1.0, "wuu": 1.0, "ko": 2.0}, ge=0
    )
    max_mean_word_length: dict[str, float] = bounded(default_factory=lambda: {"default": 10.0}, ge=0)
    max_symbol_to_word_ratio: float = bounded(0.1, ge=0)  # "#" per token, and "..." or "…" per token, each
    max_bullet_lines_frac: float = bounded(0.9, ge=0, le=1)  # lines starting with a bullet (after leading spaces)
    max_ellipsis_lines_frac: float = bounded(0.3, ge=0, le=1)  # lines ending with "..." or "…"
    min_alpha_words_frac: float = bounded(0.8, ge=0, le=1)  # tokens (punctuation included, as datatrove) with a letter
    min_stop_words: int = bounded(2, ge=0)  # distinct stop words of the language present (case-sensitive, as Gopher)
    # Stop words per language; "default" (no or unlisted language) is Gopher's English list, as datatrove.
    # An empty list turns the rule off for that language: add a list for every other language you keep.
    stop_words: dict[str, tuple[str, ...]] = field(
        default_factory=lambda: {
            "default": GOPHER_STOP_WORDS_EN,
            "en": GOPHER_STOP_WORDS_EN,
            **GOPHER_STYLE_STOP_WORDS,
            **{lang: () for lang in ("zh", "ja", "ko", "th", "yue", "wuu")},
        }
    )
    bullet_prefixes: tuple[str, ...] = ("•", "-")  # datatrove's bullet characters



GOPHER_QUALITY_FIELDS = (
    pa.field("gopher_word_count", pa.int32()),
    pa.field("gopher_mean_word_length", pa.float64()),
    pa.field("gopher_symbol_word_ratio", pa.float64()),  # max("#" per token, ellipses per token)
    pa.field("gopher_bullet_lines_frac", pa.float64()),
    pa.field("gopher_ellipsis_lines_frac", pa.float64()),
    pa.field("gopher_alpha_words_frac", pa.float64()),
    pa.field("gopher_stop_word_count", pa.int32()),
)


def gopher_quality_signals(
    text: str, words: list[str], cjk_chars: int, chars_per_word: float, stop_words: frozenset[str],
    bullet_prefixes: tuple[str, ...],
) -> dict[str, Any]:
    """Gopher quality signals of `text` split into `words` (tokens, punctuation included).

    `cjk_chars` tokens are single characters of a character-based language; each counts as
    1/chars_per_word of a word (and of a token in the per-token ratios).
    """
    p = patterns()
    non_symbol = [w for w in words if p.has_word_char(w)]
    cjk_words = cjk_chars / chars_per_word if cjk_chars else 0.0
    word_count = len(non_symbol) - cjk_chars + cjk_words
    tokens = len(words) - cjk_chars + cjk_words
    lines = text.splitlines()
    hashes = text.count("#")
    ellipses = text.count("...") + text.count("…")
    return {
        "gopher_word_count": round(word_count),
        "gopher_mean_word_length": ratio(sum(map(len, non_symbol)), word_count),
        "gopher_symbol_word_ratio": max(ratio(hashes, tokens), ratio(ellipses, tokens)),
        "gopher_bullet_lines_frac": ratio(
            sum(1 for line in lines if line.lstrip().startswith(bullet_prefixes)), len(lines)
        ),
        "gopher_ellipsis_lines_frac": ratio(
            sum(1 for line in lines if line.rstrip().endswith(("...", "…"))), len(lines)
        ),
        "gopher_alpha_words_frac": ratio(sum(1 for w in words if p.has_letter(w)), len(words)),
        "gopher_stop_word_count": len(stop_words.intersection(words)) if stop_words else 0,
    }


def gopher_quality_rules(gq: GopherQualityConfig) -> tuple[Rule, ...]:
    key = "heuristics.gopher_quality"
    no_stop_words = sorted(lang for lang, words in gq.stop_words.items() if not words)

    def without_stop_words(doc: dict[str, Any], lang: str) -> bool:
        return not gq.stop_words.get(lang, gq.stop_words[DEFAULT_LANGUAGE])

    return (
        Rule("gopher_too_few_words", "too few words to be a document", "gopher_word_count",
             (Threshold("<", gq.min_words, f"{key}.min_words"),)),
        Rule("gopher_too_many_words", "more words than any real page (a dump or a generated page)",
             "gopher_word_count", (Threshold(">", gq.max_words, f"{key}.max_words"),)),
        Rule("gopher_mean_word_length_out_of_range", "words too short or too long on average: not prose "
             "(tables of numbers, hashes, code)", "gopher_mean_word_length",
             (Threshold.per_language("<", gq.min_mean_word_length, f"{key}.min_mean_word_length"),
              Threshold.per_language(">", gq.max_mean_word_length, f"{key}.max_mean_word_length"))),
        Rule("gopher_symbol_ratio_too_high", "too many '#' or ellipses per word", "gopher_symbol_word_ratio",
             (Threshold(">", gq.max_symbol_to_word_ratio, f"{key}.max_symbol_to_word_ratio"),)),
        Rule("gopher_bullet_lines_frac_too_high", "mostly bullet lines (a menu or a list)",
             "gopher_bullet_lines_frac", (Threshold(">", gq.max_bullet_lines_frac, f"{key}.max_bullet_lines_frac"),)),
        Rule("gopher_ellipsis_lines_frac_too_high", "many lines cut off with an ellipsis (teasers, link lists)",
             "gopher_ellipsis_lines_frac",
             (Threshold(">", gq.max_ellipsis_lines_frac, f"{key}.max_ellipsis_lines_frac"),)),
        Rule("gopher_alpha_words_frac_too_low", "too few words with a letter (numbers, symbols, markup)",
             "gopher_alpha_words_frac", (Threshold("<", gq.min_alpha_words_frac, f"{key}.min_alpha_words_frac"),)),
        Rule("gopher_too_few_stop_words", "too few of the language's stop words: not running text",
             "gopher_stop_word_count", (Threshold("<", gq.min_stop_words, f"{key}.min_stop_words"),),
             unless=without_stop_words,
             note=f"not checked for {', '.join(no_stop_words)} (no stop words)" if no_stop_words else ""),
    )
