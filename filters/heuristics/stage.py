"""The `heuristics` stage: C4, Gopher quality, Gopher repetition, FineWeb and bad words, composed.

Each rule family follows its paper and datatrove's implementation (the FineWeb pipeline) and lives in a
module of its own beside this one (config, signal columns, signals, rules):
- `c4` (Raffel et al. 2020; datatrove `C4QualityFilter`): line-level cleanup, then document rules;
- `gopher_quality`, `gopher_repetition` (Rae et al. 2021, table A1; datatrove `GopherQualityFilter`,
  `GopherRepetitionFilter`);
- `fineweb` (Penedo et al. 2024; datatrove `FineWebQualityFilter`);
- `badwords` (C4's use of the LDNOOBW lists; datatrove `C4BadWordsFilter`).
With equal thresholds the decisions agree with datatrove's filters; where they deliberately differ it is
said where it happens and in benchmarks/RESULTS.md.

Order inside the stage (measure):
  1. C4 line cleanup (if enabled) rewrites `text`; every later family measures the cleaned text;
  2. the text is split into words once (`filters.text.split_words`, spaCy-like);
  3. Gopher quality, Gopher repetition, FineWeb and bad-word signals.
The rules are checked in this fixed order: empty text, C4, Gopher quality, Gopher repetition, FineWeb, bad
words; the first failed one is the drop reason. A disabled family writes null signals and has no rules.

Per-language settings are dicts keyed by the document's `lang` (from the langid stage; "default" when the
document has none or its language is not listed). Chinese, Japanese and Thai have no spaces between
words: for languages in `chars_per_word` every Han/Kana/Thai character is a token and counts as
1/chars_per_word of a word (see `HeuristicsConfig.chars_per_word`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from contract.bounds import bounded
from contract.stage import CASCADE, DEFAULT_LANGUAGE, Document, DocumentStage, Page, PrecheckSettings, Rule
from filters.heuristics.badwords import BADWORDS_FIELDS, BadWordMatcher, BadWordsConfig, badwords_rules
from filters.heuristics.c4 import C4_FIELDS, C4Config, c4_clean, c4_rules
from filters.heuristics.fineweb import FINEWEB_FIELDS, FineWebConfig, fineweb_rules, fineweb_signals
from filters.heuristics.gopher_quality import (GOPHER_QUALITY_FIELDS, GopherQualityConfig, gopher_quality_rules,
                                               gopher_quality_signals)
from filters.heuristics.gopher_repetition import (GOPHER_REPETITION_FIELDS, GopherRepetitionConfig,
                                                  gopher_repetition_rules, gopher_repetition_signals)
from filters.text import patterns, split_characters, split_words
from filters.wordlists import read_list, resolve_list_path


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


def empty_text(doc: Document) -> bool:
    """Blank text that C4 did not empty by removing lines (checked before any family)."""
    return not (doc.get("text") or "").strip() and not doc.get("c4_lines_removed")


def visible_word_count(text: str) -> int:
    """Words of `text`, estimated from above for scripts without spaces: whitespace-separated chunks, plus one
    per Han/Kana/Thai/... character (the heuristics count each as 1/chars_per_word <= 1 word)."""
    words = len(text.split())
    if not text.isascii():  # skips the regex for the common all-ASCII page
        words += len(patterns().scriptio_continua.findall(text))
    return words


class HeuristicsStage(DocumentStage):
    """C4, Gopher quality, Gopher repetition, FineWeb and bad-word rules: signals, then decisions."""

    name = "heuristics"
    config_class = HeuristicsConfig
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

    def _badword_matcher(self, lang: str) -> BadWordMatcher | None:
        cache = self.__dict__.setdefault("_loaded_badwords", {})
        list_key = lang if lang in self.config.badwords.list_paths else DEFAULT_LANGUAGE
        whole_words = lang not in self.config.chars_per_word
        if (list_key, whole_words) not in cache:
            paths = self.config.badwords.list_paths[list_key]
            entries = [entry for path in paths for entry in read_list(path)]
            cache[(list_key, whole_words)] = BadWordMatcher(entries, whole_words) if entries else None
        return cache[(list_key, whole_words)]

    def measure(self, doc: Document) -> dict[str, Any]:
        cfg = self.config
        text = doc.get("text") or ""
        lang = self.language_key(doc)
        signals: dict[str, Any] = {}
        chars_per_word = cfg.chars_per_word.get(lang)
        words: list[str] = []
        if cfg.c4.enabled:
            text, c4, words = c4_clean(text, cfg.c4, chars_per_word)
            signals.update(c4)
            signals["text"] = text
        elif cfg.gopher_quality.enabled or cfg.gopher_repetition.enabled or cfg.fineweb.enabled:
            words = split_words(text)
        if chars_per_word is not None:
            words = split_characters(words)
        cjk_chars = len(patterns().scriptio_continua.findall(text)) if chars_per_word is not None else 0
        tokens = len(words) - cjk_chars + (cjk_chars / chars_per_word if cjk_chars else 0.0)
        if cfg.gopher_quality.enabled:
            gq = cfg.gopher_quality
            stop_words = frozenset(gq.stop_words.get(lang, gq.stop_words[DEFAULT_LANGUAGE]))
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

    @classmethod
    def rules(cls, config: HeuristicsConfig) -> tuple[Rule, ...]:
        families = ((config.c4, c4_rules), (config.gopher_quality, gopher_quality_rules),
                    (config.gopher_repetition, gopher_repetition_rules), (config.fineweb, fineweb_rules),
                    (config.badwords, badwords_rules))
        return (Rule("empty_text", "no text at all", test=empty_text),
                *(rule for family, rules in families if family.enabled for rule in rules(family)))

    @classmethod
    def precheck_rules(cls, config: HeuristicsConfig) -> tuple[Rule, ...]:
        return (Rule("too_few_words", "before extraction: all visible text has fewer words than "
                     "extract.cascade_min_words_fraction x heuristics.gopher_quality.min_words",
                     "cascade_visible_words"),)

    def precheck_reads(self, settings: PrecheckSettings) -> str | None:
        return "visible_text" if self.config.gopher_quality.enabled else None

    def precheck(self, page: Page, settings: PrecheckSettings) -> tuple[dict[str, Any], str | None]:
        """All visible text (roughly an upper bound of what trafilatura returns) with fewer words than
        `min_words_fraction` x Gopher's minimum is `cascade:too_few_words`."""
        visible = page.visible_text()
        if visible is None:
            return {}, None
        signals = {"cascade_visible_words": visible_word_count(visible)}
        too_few = signals["cascade_visible_words"] < settings.min_words_fraction * self.config.gopher_quality.min_words
        return signals, f"{CASCADE}:too_few_words" if too_few else None
