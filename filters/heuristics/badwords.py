"""C4's bad-words rule with LDNOOBW-style lists per language (datatrove `C4BadWordsFilter`)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import pyarrow as pa

from contract.bounds import bounded
from contract.stage import Rule, Threshold

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


BADWORDS_FIELDS = (pa.field("badwords_count", pa.int32()),)  # null: no list for the language


class BadWordMatcher:
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


def badwords_rules(cfg: BadWordsConfig) -> tuple[Rule, ...]:
    return (Rule("badwords_count_too_high", "words of the language's bad-words list (a null count: no list)",
                 "badwords_count", (Threshold(">", cfg.max_badwords, "heuristics.badwords.max_badwords"),)),)
