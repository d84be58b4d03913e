"""The `pii` stage: presidio PII scrubbing with typed placeholders, per-type counts, and a drop for
PII-heavy documents.

Policy as Dolma's PII tagger: every detected span is replaced with a typed placeholder (`<EMAIL_ADDRESS>`,
format in config) through presidio-anonymizer, hits are counted per type (`pii_<type>_count`, plus
`pii_total_count`), and a document with more than `max_entities_per_doc` hits (Dolma: 5) is dropped as
`pii:too_many_entities`; its text is scrubbed all the same, so rejected rows carry no PII either.

What is found is decided beside this module: number checks in filters/pii/validators.py, candidates and
their scores in context in filters/pii/scoring.py, the presidio engine built from them in
filters/pii/presidio_engine.py (imported on first use, once per worker process, so that importing this
module for PiiConfig and the stage's columns stays cheap), and the pre-check windows that spare presidio
most documents in filters/pii/windows.py. This module holds the config, its checks at construction (before
any engine starts), measure (find, resolve overlaps, count, scrub) and the drop rule.

NER entities (PERSON, LOCATION) come from a spaCy model when `spacy_model` names an installed package or
a pipeline directory and `entities` lists them; a configured model that is not installed is an error at
stage construction (presidio would otherwise try to download it on every worker).
"""
from __future__ import annotations

import importlib
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Iterable, Iterator

import pyarrow as pa

from contract.bounds import bounded
from contract.stage import Document, DocumentStage, Rule, Threshold
from filters.pii.windows import join_windows, precheck_pattern, precheck_windows, shift_to_text

if TYPE_CHECKING:  # filters/pii/presidio_engine.py imports presidio: loaded on first use only
    from presidio_analyzer import AnalyzerEngine

    from filters.pii.presidio_engine import Scrubber

PATTERN_ENTITIES: tuple[str, ...] = (
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "IP_ADDRESS",
    "CREDIT_CARD",
    "IBAN_CODE",
    "US_SSN",
)
NER_ENTITIES: tuple[str, ...] = ("PERSON", "LOCATION")  # need `spacy_model`
KNOWN_ENTITIES: tuple[str, ...] = PATTERN_ENTITIES + NER_ENTITIES

LANGUAGE = "en"  # presidio keys recognizers by language; these pattern recognizers work on any language

# Minimum presidio score per entity. Validated matches (public suffix, Luhn at a standard length, mod 97)
# score 1.0 and IPs 0.6; phone numbers, SSNs and rare card lengths score by shape, validity and context
# words (phone_score, ssn_score, card_score); presidio gives every spaCy entity 0.85.
DEFAULT_SCORE_THRESHOLDS: dict[str, float] = {
    "EMAIL_ADDRESS": 0.5,
    "PHONE_NUMBER": 0.5,
    "IP_ADDRESS": 0.5,
    "CREDIT_CARD": 0.5,
    "IBAN_CODE": 0.5,
    "US_SSN": 0.5,
    "PERSON": 0.5,
    "LOCATION": 0.5,
}

# Regions whose numbering plans make a phone candidate "valid" (python-phonenumbers): presidio's 8 plus
# the largest web languages' countries.
DEFAULT_PHONE_REGIONS: tuple[str, ...] = (
    "US", "GB", "DE", "FR", "IL", "IN", "CA", "BR",  # presidio's default regions
    "AU", "NL", "BE", "ES", "IT", "CH", "AT", "SE", "DK", "NO", "FI", "PL", "IE", "MX", "JP", "CN", "RU", "ZA",
)


@dataclass(frozen=True)
class PiiConfig:
    """Settings of the `pii` stage (TOML section `[pii]`)."""

    entities: tuple[str, ...] = PATTERN_ENTITIES  # what to detect; PERSON/LOCATION need spacy_model
    placeholder_format: str = "<{entity}>"  # replacement text; {entity} is the presidio entity name
    max_entities_per_doc: int = bounded(5, ge=0)  # more hits than this drops the document (Dolma: 5)
    # Minimum score per entity; an entity left out here takes DEFAULT_SCORE_THRESHOLDS' value.
    score_thresholds: dict[str, float] = bounded(default_factory=lambda: dict(DEFAULT_SCORE_THRESHOLDS), ge=0, le=1)
    spacy_model: str | None = None  # installed spaCy package or pipeline directory; None: no NER
    # Analyze only the windows around pre-check matches, nothing when there is none (pattern entities only).
    precheck: bool = True
    # Leave private, loopback, link-local and documentation-range IPs alone: they identify no one.
    keep_private_ips: bool = True
    phone_regions: tuple[str, ...] = DEFAULT_PHONE_REGIONS  # numbering plans a phone number may follow


def count_column(entity: str) -> str:
    """Signal column of one entity type: EMAIL_ADDRESS -> pii_email_address_count."""
    return f"pii_{entity.lower()}_count"


TOTAL_COLUMN = "pii_total_count"


def spacy_model_installed(name: str) -> bool:
    """Whether `name` is an installed spaCy package or a pipeline directory (nothing is downloaded)."""
    import spacy

    return spacy.util.is_package(name) or (Path(name) / "config.cfg").is_file()


@contextmanager
def modules_held_back(names: Iterable[str]) -> Iterator[None]:
    """Within the block, `import name` raises ImportError for each of `names` not yet imported (None in
    sys.modules is Python's "absent" mark); afterwards they import as usual."""
    held = [name for name in names if name not in sys.modules]
    for name in held:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        for name in held:
            if sys.modules.get(name, ...) is None:
                del sys.modules[name]


def import_presidio_engine(config: PiiConfig) -> ModuleType:
    """filters/pii/presidio_engine.py, imported without presidio's optional heavy imports this stage never uses.

    Importing presidio_analyzer imports transformers (for a Hugging Face NER pipe that is not built here) and,
    through its GPU probe and spaCy's thinc, torch: 4.7 CPU s per worker process that scrubs a page, 1.4 s
    without them (benchmarks/startup.py). Both are held back while presidio is imported; presidio and thinc
    take the ImportError for "not installed" (CPU, no Hugging Face pipe), which changes no result. torch is
    held back only without a spaCy model, as a spaCy pipeline may run on torch (thinc notes torch's absence
    for the whole process)."""
    held = ("transformers",) if config.spacy_model is not None else ("transformers", "torch")
    with modules_held_back(held):
        return importlib.import_module("filters.pii.presidio_engine")


# Which of two overlapping hits wins when their scores tie: the more specific validator first.
_ENTITY_PRIORITY = {entity: i for i, entity in enumerate(
    ("IBAN_CODE", "CREDIT_CARD", "EMAIL_ADDRESS", "IP_ADDRESS", "US_SSN", "PHONE_NUMBER", "PERSON", "LOCATION"))}


def resolve_overlaps(results: Iterable[Any]) -> list[Any]:
    """Non-overlapping hits, best first: higher score, then longer span, then entity priority, then
    position. Deterministic whatever order presidio returned them in; sorted by start."""
    ranked = sorted(results, key=lambda r: (-r.score, -(r.end - r.start), _ENTITY_PRIORITY.get(r.entity_type, 99),
                                            r.start, r.entity_type))
    chosen: list[Any] = []
    for result in ranked:
        if all(result.end <= other.start or result.start >= other.end for other in chosen):
            chosen.append(result)
    return sorted(chosen, key=lambda r: r.start)


class PiiStage(DocumentStage):
    """presidio PII scrub: replaces spans with typed placeholders, counts them, drops PII-heavy documents."""

    name = "pii"
    config_class = PiiConfig

    def __init__(self, config: PiiConfig | None = None) -> None:
        self.config = config if config is not None else PiiConfig()
        entities = self.config.entities
        unknown = [entity for entity in entities if entity not in KNOWN_ENTITIES]
        if unknown:
            raise ValueError(f"pii.entities: unknown entity {unknown[0]!r} (known: {', '.join(KNOWN_ENTITIES)})")
        if len(set(entities)) != len(entities):
            raise ValueError(f"pii.entities lists an entity twice: {list(entities)}")
        extra = sorted(set(self.config.score_thresholds) - set(KNOWN_ENTITIES))
        if extra:
            raise ValueError(f"pii.score_thresholds.{extra[0]}: unknown entity (known: {', '.join(KNOWN_ENTITIES)})")
        for entity, value in self.config.score_thresholds.items():
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"pii.score_thresholds.{entity} = {value} is not within [0, 1]")
        try:
            self.placeholders = {entity: self.config.placeholder_format.format(entity=entity) for entity in entities}
        except (KeyError, IndexError, ValueError) as error:
            raise ValueError(f"pii.placeholder_format {self.config.placeholder_format!r}: {error!r}; "
                             "use {entity} for the entity name and {{ }} for literal braces") from error
        if self.config.max_entities_per_doc < 0:
            raise ValueError(f"pii.max_entities_per_doc = {self.config.max_entities_per_doc} is negative")
        ner = [entity for entity in entities if entity in NER_ENTITIES]
        if ner and self.config.spacy_model is None:
            raise ValueError(f"pii.entities has {ner[0]} (an NER entity) but pii.spacy_model is not set")
        if self.config.spacy_model is not None and not spacy_model_installed(self.config.spacy_model):
            # Fail before the job starts: presidio would try to download the model on every worker.
            raise FileNotFoundError(
                f"pii.spacy_model {self.config.spacy_model!r} is not installed: no spaCy package or pipeline "
                f"directory of that name (install it, e.g. `python -m spacy download "
                f"{self.config.spacy_model}`, or remove pii.spacy_model to turn NER off)"
            )
        if self.config.spacy_model is not None and not ner:
            raise ValueError(f"pii.spacy_model is set but pii.entities has no NER entity ({', '.join(NER_ENTITIES)}):"
                             " add the ones to find, or remove pii.spacy_model")
        unknown_regions = [region for region in self.config.phone_regions if not _is_phone_region(region)]
        if unknown_regions:
            raise ValueError(f"pii.phone_regions: unknown region {unknown_regions[0]!r} (ISO 3166 codes, e.g. 'US')")
        self.columns = {entity: count_column(entity) for entity in entities}
        self.fields = tuple(pa.field(column, pa.int32()) for column in self.columns.values()) + (
            pa.field(TOTAL_COLUMN, pa.int32()),
        )
        # The pre-check regex (filters/pii/windows.py); not `precheck`, the contract's pre-check on raw pages.
        self.precheck_regex = precheck_pattern(entities) if self.config.precheck else None

    @property
    def analyzer(self) -> AnalyzerEngine:
        """The presidio AnalyzerEngine, built once per process on first use (kept out of pickles)."""
        analyzer = self.__dict__.get("_loaded_analyzer")
        if analyzer is None:
            analyzer = self._loaded_analyzer = import_presidio_engine(self.config).build_analyzer(self.config)
        return analyzer

    @property
    def scrubber(self) -> Scrubber:
        """presidio-anonymizer with this config's placeholders, made once per process on first use."""
        scrubber = self.__dict__.get("_loaded_scrubber")
        if scrubber is None:
            scrubber = self._loaded_scrubber = import_presidio_engine(self.config).Scrubber(self.placeholders)
        return scrubber

    def analyze(self, text: str) -> list[Any]:
        """presidio's hits in all of `text` above their thresholds (overlapping ones included)."""
        return self.analyzer.analyze(text=text, language=LANGUAGE, entities=list(self.config.entities))

    def find(self, text: str | None) -> list[Any]:
        """The hits in `text`, non-overlapping, sorted by start.

        With the pre-check, presidio only sees the windows around pre-check matches (a text without a
        match is not analyzed at all), and the hits are shifted back to `text`'s offsets: the same hits as
        on the whole text, at a cost that grows with the number of candidates instead of the length.
        """
        if not text:
            return []
        if self.precheck_regex is None:
            return resolve_overlaps(self.analyze(text))
        windows = precheck_windows(text, self.precheck_regex)
        if not windows:
            return []
        if windows == [(0, len(text))]:
            return resolve_overlaps(self.analyze(text))
        results = self.analyze(join_windows(text, windows))
        shift_to_text(results, windows)
        return resolve_overlaps(results)

    def zero_counts(self) -> dict[str, Any]:
        counts: dict[str, Any] = {column: 0 for column in self.columns.values()}
        counts[TOTAL_COLUMN] = 0
        return counts

    def measure(self, doc: Document) -> dict[str, Any]:
        text = doc.get("text")
        signals = self.zero_counts()
        hits = self.find(text)
        if not hits:
            return signals
        for hit in hits:
            signals[self.columns[hit.entity_type]] += 1
        signals[TOTAL_COLUMN] = len(hits)
        signals["text"] = self.scrubber.scrub(text, hits)
        return signals

    @classmethod
    def rules(cls, config: PiiConfig) -> tuple[Rule, ...]:
        return (Rule("too_many_entities", "more PII entities than any real page of text carries (a contact list, "
                     "a leaked table)", TOTAL_COLUMN,
                     (Threshold(">", config.max_entities_per_doc, "pii.max_entities_per_doc"),)),)


def _is_phone_region(region: str) -> bool:
    import phonenumbers

    return region in phonenumbers.SUPPORTED_REGIONS
