"""Heuristic quality filters: C4, Gopher quality, Gopher repetition, FineWeb and bad words, one stage.

Each rule family follows its paper and datatrove's implementation (the FineWeb pipeline):
- C4 (Raffel et al. 2020; datatrove `C4QualityFilter`): line-level cleanup, then document rules;
- Gopher quality and repetition (Rae et al. 2021, table A1; datatrove `GopherQualityFilter`,
  `GopherRepetitionFilter`);
- FineWeb (Penedo et al. 2024; datatrove `FineWebQualityFilter`);
- bad words (C4's use of the LDNOOBW lists; datatrove `C4BadWordsFilter`).
With equal thresholds the decisions agree with datatrove's filters; where they deliberately differ it is
said where it happens and in benchmarks/RESULTS.md.

Order inside the stage (measure):
  1. C4 line cleanup (if enabled) rewrites `text`; every later family measures the cleaned text;
  2. the text is split into words once (`filters.text.split_words`, spaCy-like);
  3. Gopher quality, Gopher repetition, FineWeb and bad-word signals.
`decide` then checks, in this fixed order: empty text, C4, Gopher quality, Gopher repetition, FineWeb,
bad words, and returns the first failed rule. A disabled family writes null signals and never decides.

Per-language settings are dicts keyed by the document's `lang` (from the langid stage; "default" when the
document has none or its language is not listed). Chinese, Japanese and Thai have no spaces between
words: for languages in `chars_per_word` every Han/Kana/Thai character is a token and counts as
1/chars_per_word of a word (see `HeuristicsConfig.chars_per_word`).
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from filters.text import TERMINAL_PUNCTUATION_SET, count_sentences, patterns, split_words
from filters.wordlists import read_list, resolve_list_path
from pipeline.bounds import bounded
from pipeline.stages import Document, DocumentStage

# Gopher's English stop words (Rae et al. 2021, appendix A.1.1); datatrove's default list.
GOPHER_STOP_WORDS_EN: tuple[str, ...] = ("the", "be", "to", "of", "and", "that", "have", "with")

# C4's phrases of cookie banners and legal boilerplate (tensorflow_datasets c4_utils; datatrove).
C4_POLICY_PHRASES: tuple[str, ...] = (
    "terms of use",
    "privacy policy",
    "cookie policy",
    "uses cookies",
    "use of cookies",
    "use cookies",
)


# ---------------------------------------------------------------------------------------------- config


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
class C4Config:
    """C4's line-level cleanup and document rules (defaults: C4 / datatrove C4QualityFilter)."""

    enabled: bool = True
    remove_citations: bool = True  # strip "[1]", "[edit]", "[citation needed]" (Wikipedia markers)
    require_terminal_punct: bool = True  # keep only lines ending in `line_endings` (not "..."); FineWeb: False
    # C4's five terminators, plus the sentence ends of CJK, Devanagari and Arabic script: C4 was English-only,
    # and without them every Chinese or Japanese line would be removed. English decisions are unchanged.
    line_endings: tuple[str, ...] = (".", "?", "!", '"', "'", "。", "！", "？", "」", "』", "।", "؟", "۔")
    min_words_per_line: int = bounded(3, ge=0)  # whitespace-separated words; shorter lines are removed
    max_word_length: int = 1000  # characters; a line with a longer word is removed (< 0: off)
    remove_javascript_lines: bool = True  # lines mentioning "javascript"
    remove_policy_lines: bool = True  # lines with a phrase of `policy_phrases`
    policy_phrases: tuple[str, ...] = C4_POLICY_PHRASES  # matched in the lowercased line
    drop_lorem_ipsum: bool = True  # document rule: a kept line contains "lorem ipsum"
    drop_curly_bracket: bool = True  # document rule: a kept line contains "{" (code, templates)
    min_sentences: int = bounded(5, ge=0)  # in the kept lines, counted as spaCy's Sentencizer (0: off; FineWeb: off)


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


@dataclass(frozen=True)
class GopherRepetitionConfig:
    """Gopher repetition rules (Rae et al. 2021, table A1; datatrove GopherRepetitionFilter)."""

    enabled: bool = True
    max_dup_para_frac: float = bounded(0.30, ge=0, le=1)  # paragraphs (split on blank lines) that repeat an earlier one
    max_dup_para_char_frac: float = bounded(0.20, ge=0, le=1)  # their characters / all characters
    max_dup_line_frac: float = bounded(0.30, ge=0, le=1)
    max_dup_line_char_frac: float = bounded(0.20, ge=0, le=1)
    # characters of the most frequent word 2-gram x its count
    max_top_2gram_char_frac: float = bounded(0.20, ge=0, le=1)
    max_top_3gram_char_frac: float = bounded(0.18, ge=0, le=1)
    max_top_4gram_char_frac: float = bounded(0.16, ge=0, le=1)
    max_dup_5gram_char_frac: float = bounded(0.15, ge=0, le=1)  # characters in word 5-grams that repeat an earlier one
    max_dup_6gram_char_frac: float = bounded(0.14, ge=0, le=1)
    max_dup_7gram_char_frac: float = bounded(0.13, ge=0, le=1)
    max_dup_8gram_char_frac: float = bounded(0.12, ge=0, le=1)
    max_dup_9gram_char_frac: float = bounded(0.11, ge=0, le=1)
    max_dup_10gram_char_frac: float = bounded(0.10, ge=0, le=1)


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


@dataclass(frozen=True)
class BadWordsConfig:
    """C4's bad-words rule with LDNOOBW-style lists per language (datatrove C4BadWordsFilter)."""

    enabled: bool = True
    # List files per language (see filters/wordlists.py for how paths resolve); "default" is used for
    # documents with no or an unlisted language. Languages mapped to () are not checked.
    list_paths: dict[str, tuple[str, ...]] = field(
        default_factory=lambda: {"default": ("badwords/en.txt",), "en": ("badwords/en.txt",)}
    )
    max_badwords: int = bounded(0, ge=0)  # occurrences in the lowercased text; C4 drops a page with any


@dataclass(frozen=True)
class HeuristicsConfig:
    """Settings of the `heuristics` stage: one nested block per rule family."""

    # Characters per word for languages written without spaces (character-based word counts). Rough
    # averages of segmented corpora: Chinese ~1.5 characters per word, Japanese ~1.5, Thai ~4 (code
    # points, vowel and tone marks included). Languages not listed are split on spaces and punctuation.
    chars_per_word: dict[str, float] = bounded(
        default_factory=lambda: {"zh": 1.5, "yue": 1.5, "wuu": 1.5, "ja": 1.5, "th": 4.0}, gt=0, le=100
    )
    c4: C4Config = field(default_factory=C4Config)
    gopher_quality: GopherQualityConfig = field(default_factory=GopherQualityConfig)
    gopher_repetition: GopherRepetitionConfig = field(default_factory=GopherRepetitionConfig)
    fineweb: FineWebConfig = field(default_factory=FineWebConfig)
    badwords: BadWordsConfig = field(default_factory=BadWordsConfig)


# ---------------------------------------------------------------------------------------------- signals

_TOP_NGRAM_SIZES = (2, 3, 4)
_DUP_NGRAM_SIZES = (5, 6, 7, 8, 9, 10)

C4_FIELDS = (
    pa.field("c4_lines_removed", pa.int32()),  # non-blank lines removed by the line rules
    pa.field("c4_sentence_count", pa.int32()),  # sentences in the kept lines
    pa.field("c4_has_lorem_ipsum", pa.bool_()),
    pa.field("c4_has_curly_bracket", pa.bool_()),
)
GOPHER_QUALITY_FIELDS = (
    pa.field("gopher_word_count", pa.int32()),
    pa.field("gopher_mean_word_length", pa.float64()),
    pa.field("gopher_symbol_word_ratio", pa.float64()),  # max("#" per token, ellipses per token)
    pa.field("gopher_bullet_lines_frac", pa.float64()),
    pa.field("gopher_ellipsis_lines_frac", pa.float64()),
    pa.field("gopher_alpha_words_frac", pa.float64()),
    pa.field("gopher_stop_word_count", pa.int32()),
)
GOPHER_REPETITION_FIELDS = (
    pa.field("gopher_dup_para_frac", pa.float64()),
    pa.field("gopher_dup_para_char_frac", pa.float64()),
    pa.field("gopher_dup_line_frac", pa.float64()),
    pa.field("gopher_dup_line_char_frac", pa.float64()),
    *(pa.field(f"gopher_top_{n}gram_char_frac", pa.float64()) for n in _TOP_NGRAM_SIZES),
    *(pa.field(f"gopher_dup_{n}gram_char_frac", pa.float64()) for n in _DUP_NGRAM_SIZES),
)
FINEWEB_FIELDS = (
    pa.field("fineweb_line_punct_ratio", pa.float64()),
    pa.field("fineweb_short_line_ratio", pa.float64()),
    pa.field("fineweb_char_dup_ratio", pa.float64()),
    pa.field("fineweb_newline_word_ratio", pa.float64()),
)
BADWORDS_FIELDS = (pa.field("badwords_count", pa.int32()),)  # null: no list for the language

_CITATION_RE = re.compile(r"\[\d*\]|\[edit\]|\[citation needed\]")
_PARAGRAPH_SPLIT_RE = re.compile(r"\n{2,}")
_LINE_SPLIT_RE = re.compile(r"\n+")
# Odd 64-bit constants for hashing word ids into n-gram fingerprints (uint64 arithmetic wraps).
_MIX = np.uint64(0x9E3779B97F4A7C15)
_BASE = np.uint64(0xD6E8FEB86659FD93)


def _ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator, 0.0 for an empty denominator (only reachable with a rule turned off)."""
    return numerator / denominator if denominator else 0.0


def _duplicates(items: list[str]) -> tuple[int, int]:
    """(items equal to an earlier item, their characters): Gopher's duplicate lines/paragraphs."""
    counts = Counter(items)
    dup_items = len(items) - len(counts)
    dup_chars = sum(len(item) * (count - 1) for item, count in counts.items() if count > 1)
    return dup_items, dup_chars


def c4_clean(text: str, cfg: C4Config, chars_per_word: float | None = None) -> tuple[str, dict[str, Any]]:
    """C4 line cleanup: (kept lines joined by "\\n", C4 signals). Blank lines are dropped uncounted.

    Rules run per line in datatrove's order: a too-long word, citation removal, terminal punctuation,
    too few words, lorem ipsum (flag), javascript, curly bracket (flag), policy phrases. Lines with
    lorem ipsum or "{" are kept in the text (the document rules drop the whole document); datatrove stops
    at the first such line, which gives the same decision. For character-based languages
    (`chars_per_word` set) a line's words are its non-space characters / chars_per_word.
    """
    kept: list[str] = []
    removed = sentences = 0
    lorem = curly = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        words = line.split()
        if 0 <= cfg.max_word_length < len(line) and max(map(len, words)) > cfg.max_word_length:
            removed += 1
            continue
        if cfg.remove_citations:
            line = _CITATION_RE.sub("", line)
        if cfg.require_terminal_punct and (not line.endswith(cfg.line_endings) or line.endswith("...")):
            removed += 1
            continue
        word_count = len(words) if chars_per_word is None else max(len(words), len("".join(words)) / chars_per_word)
        if word_count < cfg.min_words_per_line:  # words counted before citations were removed (datatrove)
            removed += 1
            continue
        lowered = line.lower()
        if cfg.drop_lorem_ipsum and "lorem ipsum" in lowered:
            lorem = True
        if cfg.remove_javascript_lines and "javascript" in lowered:
            removed += 1
            continue
        if cfg.drop_curly_bracket and "{" in line:
            curly = True
        if cfg.remove_policy_lines and any(phrase in lowered for phrase in cfg.policy_phrases):
            removed += 1
            continue
        sentences += count_sentences(line)
        kept.append(line)
    signals = {
        "c4_lines_removed": removed,
        "c4_sentence_count": sentences,
        "c4_has_lorem_ipsum": lorem,
        "c4_has_curly_bracket": curly,
    }
    return "\n".join(kept).strip(), signals


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
        "gopher_mean_word_length": _ratio(sum(map(len, non_symbol)), word_count),
        "gopher_symbol_word_ratio": max(_ratio(hashes, tokens), _ratio(ellipses, tokens)),
        "gopher_bullet_lines_frac": _ratio(
            sum(1 for line in lines if line.lstrip().startswith(bullet_prefixes)), len(lines)
        ),
        "gopher_ellipsis_lines_frac": _ratio(
            sum(1 for line in lines if line.rstrip().endswith(("...", "…"))), len(lines)
        ),
        "gopher_alpha_words_frac": _ratio(sum(1 for w in words if p.has_letter(w)), len(words)),
        "gopher_stop_word_count": len(stop_words.intersection(words)) if stop_words else 0,
    }


def _ngram_fingerprints(words: list[str]) -> np.ndarray:
    """uint64 fingerprint of each word: its index in the document's vocabulary (exact, and the same in
    every process, unlike Python's salted str hash), spread over 64 bits."""
    vocabulary = {word: index for index, word in enumerate(dict.fromkeys(words))}
    ids = np.fromiter(map(vocabulary.__getitem__, words), np.uint64, len(words))
    return (ids + np.uint64(1)) * _MIX


def _dup_ngram_chars(grams: np.ndarray, word_ends: list[int], n: int) -> int:
    """Characters (spaces excluded) in n-grams that repeat an earlier one, scanning left to right and
    jumping past each repeat, as Gopher/datatrove: overlapping repeats are not counted twice.

    Only n-grams that occur more than once in the document can ever be found again, so the scan visits
    just their positions (in order) instead of every position.
    """
    _, inverse, counts = np.unique(grams, return_inverse=True, return_counts=True)
    repeating = np.flatnonzero(counts[inverse] > 1).tolist()
    gram_ids = inverse.tolist()
    seen: set[int] = set()
    total = next_free = 0  # next_free: the first position the scan has not jumped over
    for position in repeating:
        if position < next_free:
            continue
        gram = gram_ids[position]
        if gram in seen:
            total += word_ends[position + n] - word_ends[position]
            next_free = position + n
        else:
            seen.add(gram)
    return total


def gopher_repetition_signals(text: str, words: list[str]) -> dict[str, float]:
    """Gopher repetition signals; character fractions are over len(text), as datatrove.

    N-grams are compared by 64-bit fingerprints of their words (datatrove compares strings joined without
    a separator, so "ab"+"c" equals "a"+"bc" there; never here).
    """
    length = len(text)
    paragraphs = _PARAGRAPH_SPLIT_RE.split(text.strip())
    dup_paras, dup_para_chars = _duplicates(paragraphs)
    lines = _LINE_SPLIT_RE.split(text)
    dup_lines, dup_line_chars = _duplicates(lines)
    signals = {
        "gopher_dup_para_frac": _ratio(dup_paras, len(paragraphs)),
        "gopher_dup_para_char_frac": _ratio(dup_para_chars, length),
        "gopher_dup_line_frac": _ratio(dup_lines, len(lines)),
        "gopher_dup_line_char_frac": _ratio(dup_line_chars, length),
    }
    word_ends = np.zeros(len(words) + 1, dtype=np.int64)  # word_ends[i] = characters of words[:i]
    np.cumsum(np.fromiter(map(len, words), np.int64, len(words)), out=word_ends[1:])
    unigrams = _ngram_fingerprints(words)
    grams = unigrams
    any_repeat = False
    ends_list = word_ends.tolist()
    for n in range(2, max(_DUP_NGRAM_SIZES) + 1):
        grams = grams[:-1] * _BASE + unigrams[n - 1 :]  # fingerprints of the n-grams starting at 0..
        if n in _TOP_NGRAM_SIZES:
            value = 0.0
            if grams.size:
                # Most frequent n-gram; ties go to the one that occurs first (Counter.most_common order).
                _, first, counts = np.unique(grams, return_index=True, return_counts=True)
                top = counts.max()
                start = int(first[counts == top].min())
                chars = int(word_ends[start + n] - word_ends[start]) + (n - 1)  # joined with spaces
                value = _ratio(chars * int(top), length)
            signals[f"gopher_top_{n}gram_char_frac"] = value
        elif n in _DUP_NGRAM_SIZES:
            value = 0.0
            # A repeated n-gram contains a repeated 5-gram: without one, no longer n-gram repeats either.
            if n == min(_DUP_NGRAM_SIZES):
                any_repeat = bool(grams.size) and np.unique(grams).size < grams.size
            if any_repeat and grams.size:
                value = _ratio(_dup_ngram_chars(grams, ends_list, n), length)
            signals[f"gopher_dup_{n}gram_char_frac"] = value
    return signals


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
        "fineweb_char_dup_ratio": _duplicates(lines)[1] / (len(text) - text.count("\n")),
        "fineweb_newline_word_ratio": _ratio(text.count("\n"), tokens),
    }


class _BadWordMatcher:
    """Counts list entries in lowercased text: whole words for spaced languages (as C4's
    `(?:\\W|^)word(?:\\W|$)`), substrings for character-based ones (as C4 for ja/th/zh)."""

    def __init__(self, entries: list[str], whole_words: bool) -> None:
        self.single: frozenset[str] = frozenset()
        phrases = entries
        if whole_words:
            # Entries made of word characters only are whole \\w+ runs: a set lookup finds them exactly.
            self.single = frozenset(e for e in entries if re.fullmatch(r"\w+", e))
            phrases = [e for e in entries if e not in self.single]
        alternation = "|".join(re.escape(e) for e in sorted(set(phrases), key=len, reverse=True))
        if not alternation:
            self.phrases = None
        elif whole_words:
            self.phrases = re.compile(rf"(?<!\w)(?:{alternation})(?!\w)")
        else:
            self.phrases = re.compile(alternation)

    def count(self, lowered: str) -> int:
        found = 0
        if self.single:
            found += sum(1 for word in re.findall(r"\w+", lowered) if word in self.single)
        if self.phrases is not None:
            found += len(self.phrases.findall(lowered))
        return found


# ---------------------------------------------------------------------------------------------- stage


class HeuristicsStage(DocumentStage):
    """C4, Gopher quality, Gopher repetition, FineWeb and bad-word rules: signals, then decisions."""

    name = "heuristics"
    fields = C4_FIELDS + GOPHER_QUALITY_FIELDS + GOPHER_REPETITION_FIELDS + FINEWEB_FIELDS + BADWORDS_FIELDS

    def __init__(self, config: HeuristicsConfig | None = None) -> None:
        self.config = config if config is not None else HeuristicsConfig()
        cfg = self.config
        for name, table in (
            ("gopher_quality.min_mean_word_length", cfg.gopher_quality.min_mean_word_length),
            ("gopher_quality.max_mean_word_length", cfg.gopher_quality.max_mean_word_length),
            ("gopher_quality.stop_words", cfg.gopher_quality.stop_words),
            ("badwords.list_paths", cfg.badwords.list_paths),
        ):
            if "default" not in table:
                raise ValueError(f"heuristics.{name} needs a 'default' entry, got keys {sorted(table)}")
        for lang, value in cfg.chars_per_word.items():
            if value <= 0:
                raise ValueError(f"heuristics.chars_per_word[{lang!r}] must be > 0, got {value}")
        if cfg.badwords.enabled:  # fail before the job starts, not on the first document
            for paths in cfg.badwords.list_paths.values():
                for path in paths:
                    resolve_list_path(path)

    def _lang_key(self, doc: Document) -> str:
        lang = doc.get("lang")
        return lang if lang else "default"

    def _badword_matcher(self, lang: str) -> _BadWordMatcher | None:
        cache = self.__dict__.setdefault("_loaded_badwords", {})
        list_key = lang if lang in self.config.badwords.list_paths else "default"
        whole_words = lang not in self.config.chars_per_word
        if (list_key, whole_words) not in cache:
            paths = self.config.badwords.list_paths[list_key]
            entries = [entry for path in paths for entry in read_list(path)]
            cache[(list_key, whole_words)] = _BadWordMatcher(entries, whole_words) if entries else None
        return cache[(list_key, whole_words)]

    def measure(self, doc: Document) -> dict[str, Any]:
        cfg = self.config
        text = doc.get("text") or ""
        lang = self._lang_key(doc)
        signals: dict[str, Any] = {}
        chars_per_word = cfg.chars_per_word.get(lang)
        if cfg.c4.enabled:
            text, c4 = c4_clean(text, cfg.c4, chars_per_word)
            signals.update(c4)
            signals["text"] = text
        needs_words = cfg.gopher_quality.enabled or cfg.gopher_repetition.enabled or cfg.fineweb.enabled
        words = split_words(text, char_based=chars_per_word is not None) if needs_words else []
        cjk_chars = len(patterns().scriptio_continua.findall(text)) if chars_per_word is not None else 0
        tokens = len(words) - cjk_chars + (cjk_chars / chars_per_word if cjk_chars else 0.0)
        if cfg.gopher_quality.enabled:
            gq = cfg.gopher_quality
            stop_words = frozenset(gq.stop_words.get(lang, gq.stop_words["default"]))
            signals.update(
                gopher_quality_signals(
                    text, words, cjk_chars, chars_per_word or 1.0, stop_words, gq.bullet_prefixes
                )
            )
        if cfg.gopher_repetition.enabled:
            signals.update(gopher_repetition_signals(text, words))
        if cfg.fineweb.enabled:
            signals.update(fineweb_signals(text, tokens, cfg.fineweb.short_line_max_chars))
        if cfg.badwords.enabled:
            matcher = self._badword_matcher(lang)
            signals["badwords_count"] = matcher.count(text.lower()) if matcher is not None else None
        return signals

    def decide(self, doc: Document) -> str | None:
        cfg = self.config
        lang = self._lang_key(doc)
        text = doc.get("text") or ""
        # Empty before any cleanup: blank text that C4 did not empty by removing lines.
        if not text.strip() and not doc.get("c4_lines_removed"):
            return "empty_text"
        if cfg.c4.enabled:
            c4 = cfg.c4
            if doc["c4_has_lorem_ipsum"]:
                return "c4_lorem_ipsum"
            if doc["c4_has_curly_bracket"]:
                return "c4_curly_bracket"
            if doc["c4_sentence_count"] < c4.min_sentences:
                return "c4_too_few_sentences"
        if cfg.gopher_quality.enabled:
            gq = cfg.gopher_quality
            if doc["gopher_word_count"] < gq.min_words:
                return "gopher_too_few_words"
            if doc["gopher_word_count"] > gq.max_words:
                return "gopher_too_many_words"
            mean = doc["gopher_mean_word_length"]
            low = gq.min_mean_word_length.get(lang, gq.min_mean_word_length["default"])
            high = gq.max_mean_word_length.get(lang, gq.max_mean_word_length["default"])
            if not low <= mean <= high:
                return "gopher_mean_word_length_out_of_range"
            if doc["gopher_symbol_word_ratio"] > gq.max_symbol_to_word_ratio:
                return "gopher_symbol_ratio_too_high"
            if doc["gopher_bullet_lines_frac"] > gq.max_bullet_lines_frac:
                return "gopher_bullet_lines_frac_too_high"
            if doc["gopher_ellipsis_lines_frac"] > gq.max_ellipsis_lines_frac:
                return "gopher_ellipsis_lines_frac_too_high"
            if doc["gopher_alpha_words_frac"] < gq.min_alpha_words_frac:
                return "gopher_alpha_words_frac_too_low"
            if gq.stop_words.get(lang, gq.stop_words["default"]) and (
                doc["gopher_stop_word_count"] < gq.min_stop_words
            ):
                return "gopher_too_few_stop_words"
        if cfg.gopher_repetition.enabled:
            gr = cfg.gopher_repetition
            for signal, limit in (
                ("dup_para_frac", gr.max_dup_para_frac),
                ("dup_para_char_frac", gr.max_dup_para_char_frac),
                ("dup_line_frac", gr.max_dup_line_frac),
                ("dup_line_char_frac", gr.max_dup_line_char_frac),
                ("top_2gram_char_frac", gr.max_top_2gram_char_frac),
                ("top_3gram_char_frac", gr.max_top_3gram_char_frac),
                ("top_4gram_char_frac", gr.max_top_4gram_char_frac),
                ("dup_5gram_char_frac", gr.max_dup_5gram_char_frac),
                ("dup_6gram_char_frac", gr.max_dup_6gram_char_frac),
                ("dup_7gram_char_frac", gr.max_dup_7gram_char_frac),
                ("dup_8gram_char_frac", gr.max_dup_8gram_char_frac),
                ("dup_9gram_char_frac", gr.max_dup_9gram_char_frac),
                ("dup_10gram_char_frac", gr.max_dup_10gram_char_frac),
            ):
                if doc[f"gopher_{signal}"] > limit:
                    return f"gopher_{signal}_too_high"
        if cfg.fineweb.enabled:
            fw = cfg.fineweb
            ratio = doc["fineweb_line_punct_ratio"]
            if ratio < fw.min_line_punct_ratio and not (ratio == 0 and fw.line_punct_exclude_zero):
                return "fineweb_line_punct_ratio_too_low"
            if doc["fineweb_short_line_ratio"] > fw.max_short_line_ratio:
                return "fineweb_short_line_ratio_too_high"
            if doc["fineweb_char_dup_ratio"] > fw.max_char_dup_ratio:
                return "fineweb_char_dup_ratio_too_high"
            if doc["fineweb_newline_word_ratio"] > fw.max_newline_to_word_ratio:
                return "fineweb_newline_word_ratio_too_high"
        if cfg.badwords.enabled:
            count = doc["badwords_count"]
            if count is not None and count > cfg.badwords.max_badwords:
                return "badwords_count_too_high"
        return None
