"""The quality model's text form and scores, shared by the `quality` stage and its training.

A fastText quality classifier (GPT-3, LLaMA, DCLM: a linear model over word and word-bigram features) is
trained by `pipeline.quality_training` and applied by `filters.quality`; both must show the model the same
one-line text (`normalize_text`) and read its probabilities the same way (`label_probabilities`).

Normalization "classifier": lowercase, punctuation split off words, whitespace collapsed, newlines removed
(fastText predicts one line at a time). Splitting punctuation makes "end." and "end ." (the tokenized form
of WikiText) the same tokens, so the classifier cannot learn a tokenization artifact of one source instead
of its quality. "newlines": newlines replaced by spaces only (DCLM's scorer, for models trained on raw text).

Pure functions: no file is read or written here, and fastText itself is not imported (a model is passed in).
"""
from __future__ import annotations

import re
from typing import Any, Sequence

import numpy as np

NORMALIZATIONS = ("classifier", "newlines")

# Scripts written without spaces (Han, Kana, Thai, Lao, Khmer, Myanmar): one token per character, so that
# unigrams and the word bigrams become character unigrams and bigrams instead of one token per sentence.
_UNSPACED = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff"
# A token is a run of word characters (outside those scripts), one punctuation/symbol character, or one
# character of those scripts. findall + join is ~3x faster than padding punctuation with re.sub.
_TOKEN = re.compile(rf"[^\W{_UNSPACED}]+|[^\w\s]|[{_UNSPACED}]")


def normalize_text(text: str | None, normalization: str = "classifier") -> str:
    """The one line fastText sees, in training and in scoring.

    "classifier": lowercase, punctuation and unspaced-script characters as separate tokens, whitespace
    (newlines included) collapsed to one space. "newlines": newlines become spaces, nothing else (what
    DCLM's scorer does, for external models trained on raw text).
    """
    text = text or ""
    if normalization == "newlines":
        return text.replace("\n", " ")
    if normalization != "classifier":
        raise ValueError(f"normalization: expected one of {NORMALIZATIONS}, got {normalization!r}")
    return " ".join(_TOKEN.findall(text.lower()))


def label_probabilities(model: Any, texts: Sequence[str], label: str) -> np.ndarray:
    """P(label) for each one-line text, from one batched `predict(k=-1)` call (every label's probability)."""
    if not texts:
        return np.zeros(0, dtype=np.float32)
    labels, probs = model.predict(list(texts), k=-1)
    return np.array([dict(zip(names, values)).get(label, 0.0) for names, values in zip(labels, probs)],
                    dtype=np.float32)

