"""PII scrubbing with presidio: typed placeholders, per-type counts, and a drop for PII-heavy documents.

Policy as Dolma's PII tagger: every detected span is replaced with a typed placeholder (`<EMAIL_ADDRESS>`,
format in config) through presidio-anonymizer, hits are counted per type (`pii_<type>_count`, plus
`pii_total_count`), and a document with more than `max_entities_per_doc` hits (Dolma: 5) is dropped as
`pii:too_many_entities`; its text is scrubbed all the same, so rejected rows carry no PII either.

Detection is presidio's `AnalyzerEngine`, built offline (one per worker process, on first use): a no-op
NLP engine (no spaCy model, nothing downloaded) and a registry holding only the configured entities'
recognizers, which are filters/pii_recognizers.py's (validation, context words and look-alike decisions
there): presidio's own pattern recognizers leave 11.8% of the email/phone/IP/card/IBAN/SSN spans of
presidio-research's generated test set and 18% of a Faker-made set in the text (benchmarks/RESULTS.md).

NER entities (PERSON, LOCATION) come from a spaCy model when `spacy_model` names an installed package or
a pipeline directory and `entities` lists them; a configured model that is not installed is an error at
stage construction (presidio would otherwise try to download it on every worker).

Pre-check (filters/pii_recognizers.py): one compiled regex built from the configured entities ('@'
between word characters for emails; six digits with at most two separator characters between them for
phones, cards, SSNs and IBANs; a dotted quad or hex groups with colons for IPs) matches inside every
candidate of every configured entity. A text without a match is not analyzed at all (counts 0, text
unchanged); otherwise presidio analyzes only the windows of WINDOW_MARGIN characters around the matches,
joined by blank lines, and the hits are shifted back. Most web documents have no match, and the cost of
one that does grows with its candidates, not its length (benchmarks/RESULTS.md, "PII throughput"). Names
need no digits, so there is no pre-check when an NER entity is configured.
"""
from __future__ import annotations

import bisect
import functools
import re
import string
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

import pyarrow as pa

from filters.pii_recognizers import (  # noqa: F401  (validators re-exported: tests and benchmarks use them)
    CARD_CANDIDATE,
    PHONE_CANDIDATE,
    SSN_CANDIDATE,
    WINDOW_SEPARATOR,
    card_issuer,
    card_score,
    ip_look_alike,
    is_private_ip,
    luhn_valid,
    phone_score,
    precheck_pattern,
    precheck_windows,
    ssn_score,
    ssn_valid,
)
from pipeline.bounds import bounded
from pipeline.stages import Document, DocumentStage

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


# ------------------------------------------------------------------------------ presidio recognizers

_ASCII_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)
# Every non-ASCII decimal digit of the BMP (Arabic-Indic, Persian, Devanagari, Bengali, Thai, fullwidth,
# ...) to its ASCII digit, one character for one: phone and card numbers are written in local digits too
# ("০১৮২৬৫৬৭১৪১"), and offsets stay the same.
_DIGITS_TO_ASCII = {code: str(unicodedata.decimal(chr(code))) for code in range(128, 0x10000)
                    if unicodedata.decimal(chr(code), None) is not None}
# Cheap tests (Python's re) before presidio's own slower patterns: what their matches must contain.
_IP_TRIGGER = re.compile(r"\.(?<=\d\.)\d{1,3}\.\d{1,3}\.\d|:(?::|(?<=[0-9A-Fa-f]:)[0-9A-Fa-f]{1,4}:)")
_CJK = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]+")  # CJK, kana, hangul, fullwidth
_IBAN_TRIGGER = re.compile(r"[A-Za-z]{2}\d\d[ \-]?[A-Za-z0-9]{4}")


@functools.cache
def recognizer_classes() -> dict[str, type]:
    """The presidio recognizer classes keyed by entity, and the context enhancer. Made on first use, so
    that importing this module (for PiiConfig and the stage's columns) does not import presidio and spaCy
    (~1.5 s)."""
    import tldextract
    from presidio_analyzer import AnalysisExplanation, LocalRecognizer, RecognizerResult
    from presidio_analyzer.context_aware_enhancers import ContextAwareEnhancer
    from presidio_analyzer.predefined_recognizers import EmailRecognizer, IbanRecognizer, IpRecognizer

    class ScoredPatternRecognizer(LocalRecognizer):
        """One candidate regex and a scoring function (phone, card, SSN): a hit for every candidate with a
        positive score; presidio then applies the entity's threshold."""

        def __init__(self, entity: str, candidate: re.Pattern[str], scorer: Callable[[str, re.Match[str]], float],
                     score_thresholds: dict[str, float], name: str) -> None:
            self.candidate, self.scorer = candidate, scorer
            super().__init__(supported_entities=[entity], supported_language=LANGUAGE, name=name,
                             score_thresholds=score_thresholds)

        def load(self) -> None:
            pass

        def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[Any]:
            entity = self.supported_entities[0]
            threshold = self.score_thresholds[entity]
            results = []
            if not text.isascii():
                text = text.translate(_DIGITS_TO_ASCII)
            for match in self.candidate.finditer(text):
                score = self.scorer(text, match)
                if score > 0 and score >= threshold:  # presidio drops the others later, after copying them
                    results.append(RecognizerResult(
                        entity_type=entity, start=match.start(), end=match.end(), score=min(score, 1.0),
                        analysis_explanation=AnalysisExplanation(
                            recognizer=self.name, original_score=score, textual_explanation=self.name),
                        recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                                              RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id},
                    ))
            return results

    class PhoneNumberRecognizer(ScoredPatternRecognizer):
        def __init__(self, config: PiiConfig) -> None:
            regions, threshold = tuple(config.phone_regions), _threshold(config, "PHONE_NUMBER")
            super().__init__("PHONE_NUMBER", PHONE_CANDIDATE,
                             lambda text, match: phone_score(text, match, regions, threshold),
                             {"PHONE_NUMBER": _threshold(config, "PHONE_NUMBER")}, "PhoneNumberRecognizer")

    class CreditCardNumberRecognizer(ScoredPatternRecognizer):
        def __init__(self, config: PiiConfig) -> None:
            super().__init__("CREDIT_CARD", CARD_CANDIDATE, card_score,
                             {"CREDIT_CARD": _threshold(config, "CREDIT_CARD")}, "CreditCardNumberRecognizer")

    class UsSsnNumberRecognizer(ScoredPatternRecognizer):
        def __init__(self, config: PiiConfig) -> None:
            super().__init__("US_SSN", SSN_CANDIDATE, ssn_score, {"US_SSN": _threshold(config, "US_SSN")},
                             "UsSsnNumberRecognizer")

    class IpAddressRecognizer(IpRecognizer):
        """presidio's IPv4/IPv6 patterns and `ipaddress` validation (score 0.6), minus look-alikes and,
        with `keep_private_ips`, private addresses."""

        def __init__(self, config: PiiConfig) -> None:
            self.keep_private = config.keep_private_ips
            super().__init__(supported_language=LANGUAGE, name="IpAddressRecognizer")
            self.score_thresholds = {"IP_ADDRESS": _threshold(config, "IP_ADDRESS")}
            self.context = []  # presidio's context boost needs spaCy lemmas; keep scores model-independent

        def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None, regex_flags: Any = None
                    ) -> list[Any]:
            if _IP_TRIGGER.search(text) is None:
                return []  # presidio's IPv6 regex is slow to scan; most texts have no IP shape at all
            return [
                result for result in super().analyze(text, entities, nlp_artifacts, regex_flags)
                if not ip_look_alike(text, result.start, result.end)
                and not (self.keep_private and is_private_ip(text[result.start:result.end]))
            ]

    class EmailAddressRecognizer(EmailRecognizer):
        """presidio's email regex; the domain must end in a public suffix, checked against the list bundled
        with tldextract (presidio's module-level `tldextract.extract` would try the network first)."""

        def __init__(self, config: PiiConfig) -> None:
            self.extractor = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
            super().__init__(supported_language=LANGUAGE, name="EmailAddressRecognizer")
            self.score_thresholds = {"EMAIL_ADDRESS": _threshold(config, "EMAIL_ADDRESS")}
            self.context = []

        def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None, regex_flags: Any = None
                    ) -> list[Any]:
            if "@" not in text:
                return []
            results = super().analyze(text, entities, nlp_artifacts, regex_flags)
            for result in results:
                # "网站地图fyzw88@126.com": CJK text runs into an address without a space; presidio's \w
                # takes it into the local part. Start the address after the last CJK character.
                local = text[result.start:text.index("@", result.start)]
                cjk_end = max((m.end() for m in _CJK.finditer(local)), default=0)
                if 0 < cjk_end < len(local):
                    result.start += cjk_end
            return results

        def validate_result(self, pattern_text: str) -> bool:
            return self.extractor(pattern_text.rpartition("@")[2]).fqdn != ""

    class IbanCodeRecognizer(IbanRecognizer):
        """presidio's IBAN recognizer (country format + mod-97) run on the text with ASCII letters
        upper-cased, so that "gb82west..." is found too; the translation keeps every offset."""

        def __init__(self, config: PiiConfig) -> None:
            super().__init__(supported_language=LANGUAGE, name="IbanCodeRecognizer")
            self.score_thresholds = {"IBAN_CODE": _threshold(config, "IBAN_CODE")}
            self.context = []

        def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None, regex_flags: Any = None
                    ) -> list[Any]:
            if _IBAN_TRIGGER.search(text) is None:
                return []
            return super().analyze(text.translate(_ASCII_UPPER), entities, nlp_artifacts, regex_flags)

    class NoContextEnhancer(ContextAwareEnhancer):
        """Leaves scores as the recognizers gave them. presidio's default (lemma-based) enhancer finds
        nothing to do here: the no-op NLP engine gives no lemmas and these recognizers weigh their own
        context words; it would only deep-copy every result."""

        def __init__(self) -> None:
            super().__init__(context_similarity_factor=0.0, min_score_with_context_similarity=0.0,
                             context_prefix_count=0, context_suffix_count=0)

        def enhance_using_context(self, text: str, raw_results: list[Any], nlp_artifacts: Any,
                                  recognizers: list[Any], context: Any = None) -> list[Any]:
            return raw_results

    return {
        "context_enhancer": NoContextEnhancer,
        "EMAIL_ADDRESS": EmailAddressRecognizer,
        "PHONE_NUMBER": PhoneNumberRecognizer,
        "IP_ADDRESS": IpAddressRecognizer,
        "CREDIT_CARD": CreditCardNumberRecognizer,
        "IBAN_CODE": IbanCodeRecognizer,
        "US_SSN": UsSsnNumberRecognizer,
    }


# ----------------------------------------------------------------------------------------- the engine


def spacy_model_installed(name: str) -> bool:
    """Whether `name` is an installed spaCy package or a pipeline directory (nothing is downloaded)."""
    import spacy

    return spacy.util.is_package(name) or (Path(name) / "config.cfg").is_file()


def _threshold(config: PiiConfig, entity: str) -> float:
    return config.score_thresholds.get(entity, DEFAULT_SCORE_THRESHOLDS[entity])


def build_analyzer(config: PiiConfig) -> Any:
    """A presidio AnalyzerEngine with only the configured entities' recognizers; no download, no network."""
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NoOpNlpEngine, SpacyNlpEngine
    from presidio_analyzer.predefined_recognizers import SpacyRecognizer

    ner = [entity for entity in config.entities if entity in NER_ENTITIES]
    if ner:
        if config.spacy_model is None or not spacy_model_installed(config.spacy_model):
            raise FileNotFoundError(f"pii.spacy_model {config.spacy_model!r} is not installed")
        nlp_engine = SpacyNlpEngine(models=[{"lang_code": LANGUAGE, "model_name": config.spacy_model}])
    else:
        nlp_engine = NoOpNlpEngine(models=[{"lang_code": LANGUAGE, "model_name": "no_op"}])
    nlp_engine.load()

    classes = recognizer_classes()
    registry = RecognizerRegistry(supported_languages=[LANGUAGE])
    for entity in config.entities:
        if entity in PATTERN_ENTITIES:
            registry.add_recognizer(classes[entity](config))
    if ner:
        spacy_recognizer = SpacyRecognizer(supported_language=LANGUAGE, supported_entities=list(ner))
        spacy_recognizer.score_thresholds = {entity: _threshold(config, entity) for entity in ner}
        registry.add_recognizer(spacy_recognizer)
    return AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=[LANGUAGE],
                          context_aware_enhancer=classes["context_enhancer"]())


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
        self.precheck = precheck_pattern(entities) if self.config.precheck else None

    @property
    def analyzer(self) -> Any:
        """The presidio AnalyzerEngine, built once per process on first use (kept out of pickles)."""
        analyzer = self.__dict__.get("_loaded_analyzer")
        if analyzer is None:
            analyzer = self._loaded_analyzer = build_analyzer(self.config)
        return analyzer

    @property
    def anonymizer(self) -> Any:
        anonymizer = self.__dict__.get("_loaded_anonymizer")
        if anonymizer is None:
            from presidio_anonymizer import AnonymizerEngine
            from presidio_anonymizer.entities import OperatorConfig

            anonymizer = self._loaded_anonymizer = AnonymizerEngine()
            self._loaded_operators = {
                entity: OperatorConfig("replace", {"new_value": placeholder})
                for entity, placeholder in self.placeholders.items()
            }
        return anonymizer

    def analyze(self, text: str) -> list[Any]:
        """presidio's hits in all of `text` above their thresholds (overlapping ones included)."""
        return self.analyzer.analyze(text=text, language=LANGUAGE, entities=list(self.config.entities))

    def find(self, text: str | None) -> list[Any]:
        """The hits in `text`, non-overlapping, sorted by start.

        With the pre-check, presidio only sees the windows around pre-check matches, joined by blank lines
        (a text without a match is not analyzed at all); hits are shifted back to `text`'s offsets. The
        hits are the same as on the whole text (benchmarks/pii_eval.py checks it on every document), at a
        cost that grows with the number of candidates instead of the length of the text.
        """
        if not text:
            return []
        if self.precheck is None:
            return resolve_overlaps(self.analyze(text))
        windows = precheck_windows(text, self.precheck)
        if not windows:
            return []
        if windows == [(0, len(text))]:
            return resolve_overlaps(self.analyze(text))
        joined = WINDOW_SEPARATOR.join(text[start:end] for start, end in windows)
        joined_starts, shifts, position = [], [], 0
        for start, end in windows:
            joined_starts.append(position)
            shifts.append(start - position)
            position += end - start + len(WINDOW_SEPARATOR)
        results = self.analyze(joined)
        for result in results:
            index = bisect.bisect_right(joined_starts, result.start) - 1
            window_start, window_end = windows[index]
            result.start += shifts[index]
            result.end += shifts[index]
            if result.end > window_end:  # would mean a candidate spans the separator
                raise AssertionError(f"hit {result} crosses the end of pre-check window {windows[index]}")
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
        from presidio_anonymizer.entities import RecognizerResult as AnonymizerResult

        anonymizer = self.anonymizer
        spans = [AnonymizerResult(hit.entity_type, hit.start, hit.end, hit.score) for hit in hits]
        # No overlaps are left, and each hit keeps its own placeholder: adjacent hits are not merged.
        signals["text"] = anonymizer.anonymize(
            text=text, analyzer_results=spans, operators=self._loaded_operators, merge_entities_with_spaces=False
        ).text
        return signals

    def decide(self, doc: Document) -> str | None:
        total = doc[TOTAL_COLUMN]
        if total is not None and total > self.config.max_entities_per_doc:
            return "too_many_entities"
        return None


def _is_phone_region(region: str) -> bool:
    import phonenumbers

    return region in phonenumbers.SUPPORTED_REGIONS
