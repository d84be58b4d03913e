"""Gopher's repetition rules (Rae et al. 2021, table A1; datatrove `GopherRepetitionFilter`): duplicate
paragraphs and lines, the most frequent word 2- to 4-grams, and characters in repeated 5- to 10-grams."""
from __future__ import annotations

import re
from dataclasses import dataclass, fields

import numpy as np
import pyarrow as pa

from contract.bounds import bounded
from contract.stage import Rule, Threshold
from filters.text import duplicates, ratio

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



_TOP_NGRAM_SIZES = (2, 3, 4)
_DUP_NGRAM_SIZES = (5, 6, 7, 8, 9, 10)

GOPHER_REPETITION_FIELDS = (
    pa.field("gopher_dup_para_frac", pa.float64()),
    pa.field("gopher_dup_para_char_frac", pa.float64()),
    pa.field("gopher_dup_line_frac", pa.float64()),
    pa.field("gopher_dup_line_char_frac", pa.float64()),
    *(pa.field(f"gopher_top_{n}gram_char_frac", pa.float64()) for n in _TOP_NGRAM_SIZES),
    *(pa.field(f"gopher_dup_{n}gram_char_frac", pa.float64()) for n in _DUP_NGRAM_SIZES),
)

_PARAGRAPH_SPLIT_RE = re.compile(r"\n{2,}")
_LINE_SPLIT_RE = re.compile(r"\n+")
# Odd 64-bit constants for hashing word ids into n-gram fingerprints (uint64 arithmetic wraps).
_MIX = np.uint64(0x9E3779B97F4A7C15)
_BASE = np.uint64(0xD6E8FEB86659FD93)


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
    dup_paras, dup_para_chars = duplicates(paragraphs)
    lines = _LINE_SPLIT_RE.split(text)
    dup_lines, dup_line_chars = duplicates(lines)
    signals = {
        "gopher_dup_para_frac": ratio(dup_paras, len(paragraphs)),
        "gopher_dup_para_char_frac": ratio(dup_para_chars, length),
        "gopher_dup_line_frac": ratio(dup_lines, len(lines)),
        "gopher_dup_line_char_frac": ratio(dup_line_chars, length),
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
                value = ratio(chars * int(top), length)
            signals[f"gopher_top_{n}gram_char_frac"] = value
        elif n in _DUP_NGRAM_SIZES:
            value = 0.0
            # A repeated n-gram contains a repeated 5-gram: without one, no longer n-gram repeats either.
            if n == min(_DUP_NGRAM_SIZES):
                any_repeat = bool(grams.size) and np.unique(grams).size < grams.size
            if any_repeat and grams.size:
                value = ratio(_dup_ngram_chars(grams, ends_list, n), length)
            signals[f"gopher_dup_{n}gram_char_frac"] = value
    return signals



def repetition_meaning(signal: str) -> str:
    """What a `gopher_repetition` signal measures, in words (from its name: the names follow one pattern)."""
    kind, *rest = signal.split("_")
    if kind == "top":
        return f"characters in the most frequent word {rest[0].removesuffix('gram')}-gram"
    unit = {"para": "paragraphs", "line": "lines"}.get(rest[0], f"word {rest[0].removesuffix('gram')}-grams")
    return f"{'characters in ' if rest[-2:] == ['char', 'frac'] else ''}{unit} that repeat an earlier one"


def gopher_repetition_rules(gr: GopherRepetitionConfig) -> tuple[Rule, ...]:
    """One rule per `max_*` setting, in the config's order: `gopher_<signal>_too_high`."""
    signals = [setting.name.removeprefix("max_") for setting in fields(gr) if setting.name.startswith("max_")]
    return tuple(
        Rule(f"gopher_{signal}_too_high", f"too much repeated text: {repetition_meaning(signal)}", f"gopher_{signal}",
             (Threshold(">", getattr(gr, f"max_{signal}"), f"heuristics.gopher_repetition.max_{signal}"),))
        for signal in signals
    )
