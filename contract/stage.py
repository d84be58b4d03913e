"""What a per-document stage is: signals measured, then rules declared once and checked in order.

A stage measures signals for each document, then decides from those signals alone whether the document
fails one of its rules (Dolma / NeMo Curator: measure, then decide). Each rule is declared once, as data
(`Rule`): its name, what a drop by it means, the signal it reads and, where it compares that signal with a
configured number, the comparison, the number and where it is set (per language where it has one).
`DocumentStage.decide` checks the declared rules in order; the statistics, the report's rule tables and its
threshold what-if read the same declarations (`pipeline/stats`), so a rule cannot be checked without being
reported, or reported differently from how it is checked.

A stage may also offer a pre-check on the raw page (`precheck`): a decision it can take before extraction
from the URL or resiliparse's fast text, so the cheap-first cascade (pipeline/cascade.py) drops pages that
the stage would drop anyway without paying for trafilatura. The cascade asks every stage before dedup for
its pre-check and imports none of them. A stage that reads what only the record has (its HTTP headers and
HTML head, `RECORD_ONLY_PARTS`: the opt-out stage) decides in its pre-check alone, with the cascade on or off.

A stage never deletes a row: the first failed rule sets `drop_reason = "<stage>:<rule>"`, and later stages
skip dropped rows unless `compute_all_signals` asks them to measure everything (for threshold tuning).
"""
from __future__ import annotations

import operator
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Mapping, Sequence

import pyarrow as pa

Document = dict[str, Any]
DEFAULT_LANGUAGE = "default"  # the key of a per-language table that every unlisted language uses
CASCADE = "cascade"  # reason prefix of a pre-check decided on fast text: "cascade:<rule>" (pipeline/cascade.py)

# A rule drops a document unless the signal passes: `value < t` drops exactly when `value >= t` fails, and a
# NaN signal passes no comparison, so it never slips through a threshold.
_PASSES: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.ge, "<=": operator.gt, ">": operator.le, ">=": operator.lt,
}
COMPARISONS = tuple(_PASSES)


@dataclass(frozen=True)
class Threshold:
    """One comparison of a rule's signal with a configured number: the document is dropped when
    `signal drops_when value` (the language's own value where `by_language` has one)."""

    drops_when: str  # "<", "<=", ">" or ">="
    value: float  # the value of every language not in `by_language` (the table's "default")
    config_key: str  # where the number is set, e.g. "heuristics.gopher_quality.min_words"
    by_language: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.drops_when not in _PASSES:
            raise ValueError(f"{self.config_key}: drops_when must be one of {COMPARISONS}, got {self.drops_when!r}")

    @classmethod
    def per_language(cls, drops_when: str, table: Mapping[str, float], config_key: str) -> "Threshold":
        """A threshold from a per-language table with a "default" entry (`config_key` names the table)."""
        others = {lang: value for lang, value in table.items() if lang != DEFAULT_LANGUAGE}
        return cls(drops_when, table[DEFAULT_LANGUAGE], f"{config_key}.{DEFAULT_LANGUAGE}", others)

    def value_for(self, lang: str) -> float:
        return self.by_language.get(lang, self.value)

    def fails(self, value: Any, lang: str) -> bool:
        return not _PASSES[self.drops_when](value, self.value_for(lang))


@dataclass(frozen=True)
class Rule:
    """One way a stage drops a document, declared once.

    Either a threshold rule (`signal` compared with each of `thresholds`; a null signal was not measured and
    drops nothing) or a test rule (`test(doc)` is True for a document to drop), never both; or neither, for a
    rule decided outside `decide` (reading, extraction, pre-checks, dedup), declared so that the statistics
    and the report know it.
    """

    name: str  # the drop reason is "<stage>:<name>"
    means: str  # what a drop by this rule says about the document, in words (shown in the report)
    signal: str = ""  # the column the rule reads ("" for a test over several columns)
    thresholds: tuple[Threshold, ...] = ()
    test: Callable[[Document], bool] | None = None
    unless: Callable[[Document, str], bool] | None = None  # (doc, language key): the rule does not apply
    note: str = ""  # what the thresholds alone do not say (exceptions), shown with them

    def __post_init__(self) -> None:
        if self.test is not None and self.thresholds:
            raise ValueError(f"rule {self.name!r}: give thresholds (with a signal) or a test, not both")
        if self.thresholds and not self.signal:
            raise ValueError(f"rule {self.name!r}: a threshold rule names its signal")

    def fails(self, doc: Document, lang: str = DEFAULT_LANGUAGE) -> bool:
        if self.unless is not None and self.unless(doc, lang):
            return False
        if self.test is not None:
            return bool(self.test(doc))
        if not self.thresholds:
            raise TypeError(f"rule {self.name!r} is decided outside `decide`")
        value = doc[self.signal]
        return value is not None and any(threshold.fails(value, lang) for threshold in self.thresholds)


def flag(name: str, signal: str, means: str) -> Rule:
    """A rule that drops when a boolean signal is true (or a string signal is set)."""
    return Rule(name, means, signal, test=lambda doc: bool(doc[signal]))


@dataclass
class Page:
    """A response before extraction, for pre-checks: its URL, its HTTP headers and decoded HTML as the record
    holds them, and resiliparse's fast texts of its HTML made on first use (one parse for every text any
    pre-check of the run reads). A text is None when the page cannot be parsed cheaply: the pre-check then
    decides nothing and the full path decides."""

    url: str | None
    fast_texts: Callable[[], tuple[str, str] | None]  # () -> (all visible text, main-content text) or None
    # Every header line of the HTTP response in order, (name lowercased, value stripped); a repeated header
    # appears once per line. Empty for inputs that have none (tables, WET records).
    http_headers: tuple[tuple[str, str], ...] = ()
    html: str = ""  # the decoded HTML (charset as extraction decoded it); "" where there is none
    _texts: tuple[str, str] | None = None
    _made: bool = False

    def _both(self) -> tuple[str, str] | None:
        if not self._made:
            self._texts, self._made = self.fast_texts(), True
        return self._texts

    def made(self) -> bool:
        """Whether a pre-check asked for the fast texts (they are made once, on first use)."""
        return self._made

    def visible_text(self) -> str | None:
        texts = self._both()
        return None if texts is None else texts[0]

    def main_text(self) -> str | None:
        texts = self._both()
        return None if texts is None else texts[1]


@dataclass(frozen=True)
class PrecheckSettings:
    """How far a pre-check may trust fast text (`extract.cascade_*`; margins proven on real pages in
    benchmarks/cascade_margins.py). A stage reads the ones its pre-check needs."""

    min_words_fraction: float  # a page with fewer visible words than this x the stage's minimum is dropped
    lang_prefix_chars: int  # characters of main-content text a language model sees
    min_lang_chars: int  # fewer non-space characters than this: no language decision
    min_kept_lang_prob: float  # kept languages' total probability below this: not a kept language


# What a pre-check reads, cheapest first: the cascade runs pre-checks in this order (then in stage order),
# so a page the URL decides is never parsed, and one parse serves every text-reading pre-check. "http" is the
# response's headers and the head of its HTML (`Page.http_headers`, `Page.html`).
PAGE_PARTS = ("http", "url", "visible_text", "main_text")
# Parts only the raw record has: a stage reading them cannot decide anywhere else (the stage chain sees the
# extracted text), so its pre-check is not an optimisation but the stage's decision itself. Such pre-checks
# run with the cascade off and with `compute_all_signals` too (pipeline/cascade.py), and first, so a page gets
# the same reason in every mode.
RECORD_ONLY_PARTS = ("http",)


class DocumentStage(ABC):
    """Base class for per-document stages.

    Subclasses set `name` (the drop-reason prefix and config section), `config_class` (that section's frozen
    dataclass) and `fields` (the signal columns they add), keep their config section in `self.config`, and implement `measure` (signals of one document) and `rules` (the rules
    `decide` checks, in order, for a config). `measure` may return a new "text" (line-level cleanup); no
    other core column may be changed. Heavy resources (models, engines) are loaded lazily on first use, once
    per worker process, in attributes named "_loaded*" that stay out of pickles, so a stage can be shipped
    to Spark or Ray workers.
    """

    name: ClassVar[str] = ""
    fields: ClassVar[tuple[pa.Field, ...]] = ()
    # signals whose scale depends on the language (a perplexity under each language's own model): the
    # statistics also histogram them per language
    per_language_fields: ClassVar[tuple[str, ...]] = ()
    config_class: ClassVar[type | None] = None  # the frozen dataclass of the stage's config section
    config: Any

    @abstractmethod
    def measure(self, doc: Document) -> dict[str, Any]:
        """Signal columns of one document (a subset of `fields`, plus "text" if the stage rewrites it)."""

    @classmethod
    @abstractmethod
    def rules(cls, config: Any) -> tuple[Rule, ...]:
        """The rules `decide` checks, in order, under `config` (the stage's section; no model is loaded)."""

    @classmethod
    def precheck_rules(cls, config: Any) -> tuple[Rule, ...]:
        """The rules a pre-check may decide (their reasons: "cascade:<name>", see `precheck`)."""
        return ()

    def measure_many(self, docs: Sequence[Document]) -> list[dict[str, Any]]:
        """Signals for several documents; override when the model is faster on a batch."""
        return [self.measure(doc) for doc in docs]

    def language_key(self, doc: Document) -> str:
        """The key of per-language thresholds for `doc`: its language, or "default"."""
        return doc.get("lang") or DEFAULT_LANGUAGE

    def decide(self, doc: Document) -> str | None:
        """The name of the first declared rule `doc` (with its signals) fails, or None to keep it."""
        rules = self.__dict__.get("_loaded_rules")
        if rules is None:
            rules = self._loaded_rules = self.rules(self.config)
        lang = self.language_key(doc)
        for rule in rules:
            if rule.fails(doc, lang):
                return rule.name
        return None

    def precheck_reads(self, settings: PrecheckSettings) -> str | None:
        """The part of the raw page (one of PAGE_PARTS) this stage's pre-check reads; None: no pre-check."""
        return None

    def precheck(self, page: Page, settings: PrecheckSettings) -> tuple[dict[str, Any], str | None]:
        """(signals, drop reason or None) for a page before extraction. A drop the stage's own rules would
        take on the same measurement is "<stage>:<rule>" (as the URL filter's); one decided on fast text is
        "cascade:<rule>" (a rule of `precheck_rules`), since the stage's own measurement was never taken.
        A stage without a pre-check decides nothing here (the cascade asks only stages whose `precheck_reads`
        names a part)."""
        return {}, None

    def __getstate__(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items() if not key.startswith("_loaded")}
