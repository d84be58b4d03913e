"""C4's line-level cleanup and document rules (Raffel et al. 2020; datatrove `C4QualityFilter`).

The cleanup rewrites the text (every later heuristic family measures the cleaned text); the document rules
then drop pages with "lorem ipsum", a curly bracket (code, templates) or too few sentences.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from contract.bounds import bounded
from contract.stage import Rule, Threshold, flag
from filters.text import sentence_count, split_words

# C4's phrases of cookie banners and legal boilerplate (tensorflow_datasets c4_utils; datatrove).
C4_POLICY_PHRASES: tuple[str, ...] = (
    "terms of use",
    "privacy policy",
    "cookie policy",
    "uses cookies",
    "use of cookies",
    "use cookies",
)


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

C4_FIELDS = (
    pa.field("c4_lines_removed", pa.int32()),  # non-blank lines removed by the line rules
    pa.field("c4_sentence_count", pa.int32()),  # sentences in the kept lines
    pa.field("c4_has_lorem_ipsum", pa.bool_()),
    pa.field("c4_has_curly_bracket", pa.bool_()),
)

_CITATION_RE = re.compile(r"\[\d*\]|\[edit\]|\[citation needed\]")


def c4_clean(text: str, cfg: C4Config, chars_per_word: float | None = None) -> tuple[str, dict[str, Any], list[str]]:
    """C4 line cleanup: (kept lines joined by "\\n", C4 signals, the kept text's `split_words` tokens).
    Blank lines are dropped uncounted. The tokens come from the sentence count, which tokenizes each kept
    line: whitespace separates tokens, so a text's tokens are its lines' tokens in order, and the Gopher
    and FineWeb signals need not tokenize the text again.

    Rules run per line in datatrove's order: a too-long word, citation removal, terminal punctuation,
    too few words, lorem ipsum (flag), javascript, curly bracket (flag), policy phrases. Lines with
    lorem ipsum or "{" are kept in the text (the document rules drop the whole document); datatrove stops
    at the first such line, which gives the same decision. For character-based languages
    (`chars_per_word` set) a line's words are its non-space characters / chars_per_word.
    """
    kept: list[str] = []
    tokens: list[str] = []
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
        line_tokens = split_words(line)
        sentences += sentence_count(line_tokens)
        tokens += line_tokens
        kept.append(line)
    signals = {
        "c4_lines_removed": removed,
        "c4_sentence_count": sentences,
        "c4_has_lorem_ipsum": lorem,
        "c4_has_curly_bracket": curly,
    }
    return "\n".join(kept).strip(), signals, tokens


def c4_rules(cfg: C4Config) -> tuple[Rule, ...]:
    return (
        flag("c4_lorem_ipsum", "c4_has_lorem_ipsum", 'a kept line contains "lorem ipsum" (placeholder text)'),
        flag("c4_curly_bracket", "c4_has_curly_bracket", 'a kept line contains "{" (code or templates)'),
        Rule("c4_too_few_sentences", "too few sentences are left after C4's line cleanup", "c4_sentence_count",
             (Threshold("<", cfg.min_sentences, "heuristics.c4.min_sentences"),)),
    )
