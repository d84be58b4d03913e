"""The presidio side of the PII stage: the recognizer classes and the AnalyzerEngine built from them, and
the anonymizer that writes the placeholders. The one module of filters/pii/ that imports presidio.

PiiStage (filters/pii/stage.py) imports this module on first use, once per worker process, and keeps what
it builds in "_loaded" attributes that stay out of pickles: importing the stage (for its config and
columns, in every job and test) does not pay for presidio, spaCy and tldextract (~1.5 s), and a stage
shipped to a Spark or Ray worker carries no engine.

The engine is built offline: a no-op NLP engine (no spaCy model, nothing downloaded) unless NER entities
are configured, and a registry holding only the configured entities' recognizers. presidio's own pattern
recognizers leave 11.8% of the email/phone/IP/card/IBAN/SSN spans of presidio-research's generated test set
and 18% of a Faker-made set in the text (benchmarks/RESULTS.md); these subclasses keep presidio's
machinery (thresholds, results, the anonymizer) with this project's candidates and scores
(filters/pii/scoring.py) and validators (filters/pii/validators.py):
- EMAIL_ADDRESS (EmailAddressRecognizer): presidio's regex; the domain must end in a public suffix
  (tldextract's bundled list, nothing fetched).
- PHONE_NUMBER, CREDIT_CARD, US_SSN (ScoredPatternRecognizer): a candidate regex and its scorer; phone
  and card numbers written in other scripts' digits (Bengali, Arabic-Indic, fullwidth, ...) are read as
  ASCII digits, character for character.
- IP_ADDRESS (IpAddressRecognizer): presidio's IPv4/IPv6 patterns and `ipaddress` validation, minus
  look-alikes and (`keep_private_ips`) addresses that identify no one.
- IBAN_CODE (IbanCodeRecognizer): presidio's IBAN recognizer (country format, mod 97), any letter case.
- PERSON, LOCATION: presidio's SpacyRecognizer on the configured spaCy model.
"""
from __future__ import annotations

import re
import string
import unicodedata
from typing import Any, Callable

import tldextract
from presidio_analyzer import (
    AnalysisExplanation,
    AnalyzerEngine,
    LocalRecognizer,
    RecognizerRegistry,
    RecognizerResult,
)
from presidio_analyzer.context_aware_enhancers import ContextAwareEnhancer
from presidio_analyzer.nlp_engine import NoOpNlpEngine, SpacyNlpEngine
from presidio_analyzer.predefined_recognizers import EmailRecognizer, IbanRecognizer, IpRecognizer, SpacyRecognizer
from presidio_anonymizer import AnonymizerEngine
from presidio_anonymizer.entities import OperatorConfig
from presidio_anonymizer.entities import RecognizerResult as AnonymizerResult

from filters.pii.scoring import CARD_CANDIDATE, PHONE_CANDIDATE, SSN_CANDIDATE, card_score, phone_score, ssn_score
from filters.pii.stage import (
    DEFAULT_SCORE_THRESHOLDS,
    LANGUAGE,
    NER_ENTITIES,
    PATTERN_ENTITIES,
    PiiConfig,
    spacy_model_installed,
)
from filters.pii.validators import ip_look_alike, is_private_ip

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


# ------------------------------------------------------------------------------ presidio recognizers


def _threshold(config: PiiConfig, entity: str) -> float:
    return config.score_thresholds.get(entity, DEFAULT_SCORE_THRESHOLDS[entity])


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


RECOGNIZER_CLASSES: dict[str, Callable[[PiiConfig], LocalRecognizer]] = {
    "EMAIL_ADDRESS": EmailAddressRecognizer,
    "PHONE_NUMBER": PhoneNumberRecognizer,
    "IP_ADDRESS": IpAddressRecognizer,
    "CREDIT_CARD": CreditCardNumberRecognizer,
    "IBAN_CODE": IbanCodeRecognizer,
    "US_SSN": UsSsnNumberRecognizer,
}


# ----------------------------------------------------------------------------------------- the engine


def build_analyzer(config: PiiConfig) -> AnalyzerEngine:
    """A presidio AnalyzerEngine with only the configured entities' recognizers; no download, no network."""
    ner = [entity for entity in config.entities if entity in NER_ENTITIES]
    if ner:
        if config.spacy_model is None or not spacy_model_installed(config.spacy_model):
            raise FileNotFoundError(f"pii.spacy_model {config.spacy_model!r} is not installed")
        nlp_engine = SpacyNlpEngine(models=[{"lang_code": LANGUAGE, "model_name": config.spacy_model}])
    else:
        nlp_engine = NoOpNlpEngine(models=[{"lang_code": LANGUAGE, "model_name": "no_op"}])
    nlp_engine.load()

    registry = RecognizerRegistry(supported_languages=[LANGUAGE])
    for entity in config.entities:
        if entity in PATTERN_ENTITIES:
            registry.add_recognizer(RECOGNIZER_CLASSES[entity](config))
    if ner:
        spacy_recognizer = SpacyRecognizer(supported_language=LANGUAGE, supported_entities=list(ner))
        spacy_recognizer.score_thresholds = {entity: _threshold(config, entity) for entity in ner}
        registry.add_recognizer(spacy_recognizer)
    return AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=[LANGUAGE],
                          context_aware_enhancer=NoContextEnhancer())


class Scrubber:
    """presidio-anonymizer's "replace" operator with each entity's placeholder."""

    def __init__(self, placeholders: dict[str, str]) -> None:
        self.anonymizer = AnonymizerEngine()
        self.operators = {entity: OperatorConfig("replace", {"new_value": placeholder})
                          for entity, placeholder in placeholders.items()}

    def scrub(self, text: str, hits: list[Any]) -> str:
        """`text` with every hit (non-overlapping analyzer results) replaced by its entity's placeholder."""
        spans = [AnonymizerResult(hit.entity_type, hit.start, hit.end, hit.score) for hit in hits]
        # No overlaps are left, and each hit keeps its own placeholder: adjacent hits are not merged.
        return self.anonymizer.anonymize(
            text=text, analyzer_results=spans, operators=self.operators, merge_entities_with_spaces=False
        ).text
