"""Classifier-based quality filtering: a fastText model's probability of a "high quality" label.

Measure: `quality_score` = P(`label`) from any fastText supervised `.bin` / `.ftz` (a model trained by
`jobs/train_quality_classifier.py`, or an external one such as DCLM's OH-2.5+ELI5 classifier, labels
`__label__hq` / `__label__cc`), predicted with `k=-1` (every label's probability) on the document as one
line. Decide, by `mode`:
- "threshold": keep when `quality_score >= threshold` (DCLM keeps OH-2.5+ELI5 prob >= 0.018112, about
  its top 10%); otherwise `quality:below_threshold`;
- "pareto": GPT-3's stochastic keeping (Brown et al. 2020, appendix A): keep when
  `np.random.pareto(pareto_alpha) > 1 - quality_score` (alpha 9 in GPT-3), so mostly high scores and
  some low ones survive; otherwise `quality:pareto_rejected`. The draw comes from a generator seeded by
  a hash of (`seed`, document id), so a document's fate does not depend on batch, order or partitioning.
The decision reads the stored float32 score, so a threshold sweep over the `quality_score` column
reproduces the stage's decisions exactly.

The text the model sees must be normalized as its training data was: "classifier" (the default: what
`filters.quality_model.normalize_text` does for models trained here) or "newlines" (newlines replaced
by spaces, nothing else: DCLM's scorer, for external models trained on raw text). When the model sits
next to a `training_config.json` written by the training job, a different normalization is refused.

The model is checked when the stage is built (on the driver, before a job starts) from its header and
dictionary, without loading it (its matrices are most of the file, gigabytes for DCLM's classifier): a missing
file raises FileNotFoundError naming the path, a file without fastText's header or a label the model does
not have raises ValueError (listing the model's labels). Each process that scores loads the model on first
use (`_loaded_model` is never pickled).
"""
from __future__ import annotations

import hashlib
import json
import mmap
import os
import struct
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pyarrow as pa

from contract.bounds import bounded
from contract.stage import Document, DocumentStage, Rule, Threshold
from filters.quality_model import NORMALIZATIONS, label_probabilities, normalize_text

MODES = ("threshold", "pareto")


@dataclass(frozen=True)
class QualityConfig:
    """Settings of the `quality` stage."""

    model_path: str | None = None  # fastText .bin/.ftz; None: no model configured (building the stage fails)
    label: str = "__label__hq"  # the label whose probability is the score (DCLM's model: "__label__hq")
    # mode "threshold": keep score >= threshold (DCLM OH-2.5+ELI5: 0.018112)
    threshold: float = bounded(0.5, ge=0, le=1)
    mode: str = "threshold"  # "threshold" or "pareto"
    # mode "pareto": keep if pareto(alpha) draw > 1 - score (GPT-3: 9)
    pareto_alpha: float = bounded(9.0, gt=0, le=1000)
    seed: int = 0  # mode "pareto": with the document id, seeds the document's draw
    normalization: str = "classifier"  # as in training: "classifier" (models trained here) or "newlines"


def document_seed(seed: int, doc_id: str) -> int:
    """A 64-bit seed from (seed, document id): stable across processes, orders and partitions."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{doc_id}".encode("utf-8")).digest()[:8], "little")


def pareto_draw(seed: int, doc_id: str, alpha: float) -> float:
    """The document's draw from numpy's Pareto (Lomax) distribution with shape `alpha`."""
    return float(np.random.default_rng(document_seed(seed, doc_id)).pareto(alpha))


# fastText's model file (src/fasttext.cc signModel, args.cc and dictionary.cc save; little-endian, packed):
# magic and version, the training args (12 int32 + a double), then the dictionary: its head (size, nwords,
# nlabels as int32; ntokens, pruneidx_size as int64) and `size` entries of (UTF-8 bytes, NUL, int64 count,
# int8 type: 0 word, 1 label), words first. The same in .bin and quantized .ftz files.
FASTTEXT_MAGIC = 793712314
FASTTEXT_VERSIONS = (11, 12)  # the versions fastText itself still reads
_FASTTEXT_HEAD = struct.Struct("<2i12id3i2q")
_ENTRY_TAIL_BYTES = 9  # the int64 count and the int8 type after an entry's NUL
LABEL_ENTRY = 1


def fasttext_labels(model_path: str) -> list[str]:
    """The labels of the fastText model at `model_path`, in the model's order (as `get_labels()` lists them),
    read from its dictionary without loading the model; ValueError when the file is not a fastText model."""
    if os.path.getsize(model_path) < _FASTTEXT_HEAD.size:
        raise ValueError(f"{model_path} is not a fastText model (shorter than fastText's header)")
    with open(model_path, "rb") as stream, mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) as data:
        head = _FASTTEXT_HEAD.unpack_from(data)
        magic, file_version, size = head[0], head[1], head[15]
        if magic != FASTTEXT_MAGIC or file_version not in FASTTEXT_VERSIONS:
            raise ValueError(f"{model_path} is not a fastText model (magic {magic}, version {file_version})")
        labels, position = [], _FASTTEXT_HEAD.size
        for _ in range(size):
            end = data.find(b"\0", position)
            if end < 0 or end + _ENTRY_TAIL_BYTES >= len(data):
                raise ValueError(f"{model_path} is not a fastText model (its dictionary is cut short)")
            if data[end + _ENTRY_TAIL_BYTES] == LABEL_ENTRY:
                labels.append(data[position:end].decode("utf-8", errors="replace"))
            position = end + 1 + _ENTRY_TAIL_BYTES
    return labels


def check_model(model_path: str, label: str) -> None:
    """The model file exists, is a fastText model and has `label`; nothing is loaded (the driver's check)."""
    if not os.path.isfile(model_path):
        raise FileNotFoundError(f"quality classifier model not found: {model_path}")
    labels = fasttext_labels(model_path)
    if label not in labels:
        raise ValueError(f"quality.label {label!r} is not a label of {model_path}; the model's labels are: "
                         f"{', '.join(labels)}")


def load_checked_model(model_path: str, label: str) -> Any:
    """The fastText model at `model_path`, after `check_model`."""
    check_model(model_path, label)
    import fasttext

    return fasttext.load_model(model_path)


class QualityStage(DocumentStage):
    """fastText quality classifier: writes `quality_score`; drops below a threshold or by Pareto sampling."""

    name = "quality"
    config_class = QualityConfig
    fields = (pa.field("quality_score", pa.float32()),)

    def __init__(self, config: QualityConfig) -> None:
        self.config = config
        if config.model_path is None:
            raise ValueError("quality stage: no model configured; set quality.model_path to a fastText "
                             ".bin/.ftz (e.g. one written by jobs/train_quality_classifier.py)")
        if config.mode not in MODES:
            raise ValueError(f"quality.mode: expected one of {MODES}, got {config.mode!r}")
        if config.normalization not in NORMALIZATIONS:
            raise ValueError(f"quality.normalization: expected one of {NORMALIZATIONS}, got {config.normalization!r}")
        if config.mode == "pareto" and not config.pareto_alpha > 0:
            raise ValueError(f"quality.pareto_alpha: expected > 0, got {config.pareto_alpha}")
        self.model_path = config.model_path
        check_model(self.model_path, config.label)  # fails before the job starts; loaded on first use
        self._check_training_normalization()

    def _check_training_normalization(self) -> None:
        """Refuse a normalization other than the one recorded next to a model trained by this project."""
        recorded = os.path.join(os.path.dirname(os.path.abspath(self.model_path)), "training_config.json")
        if not os.path.isfile(recorded):
            return
        with open(recorded, encoding="utf-8") as stream:
            trained_with = json.load(stream).get("normalization")
        if trained_with is not None and trained_with != self.config.normalization:
            raise ValueError(f"quality.normalization is {self.config.normalization!r} but {self.model_path} was "
                             f"trained with {trained_with!r} (see {recorded})")

    @property
    def model(self) -> Any:
        """The fastText model, loaded once per process on first use (kept out of pickles)."""
        model = self.__dict__.get("_loaded_model")
        if model is None:
            model = self._loaded_model = load_checked_model(self.model_path, self.config.label)
        return model

    def measure(self, doc: Document) -> dict[str, Any]:
        return self.measure_many([doc])[0]

    def measure_many(self, docs: Sequence[Document]) -> list[dict[str, Any]]:
        texts = [normalize_text(doc.get("text"), self.config.normalization) for doc in docs]
        scores = label_probabilities(self.model, texts, self.config.label)  # float32: the stored value
        return [{"quality_score": float(score)} for score in scores]

    @classmethod
    def rules(cls, config: QualityConfig) -> tuple[Rule, ...]:
        if config.mode == "pareto":
            def rejected(doc: Document) -> bool:
                return not pareto_draw(config.seed, doc["id"], config.pareto_alpha) > 1.0 - doc["quality_score"]

            return (Rule("pareto_rejected", "not drawn by GPT-3's Pareto sampling (a lower score is kept less "
                         "often)", "quality_score", test=rejected),)
        return (Rule("below_threshold", "the quality classifier scores the text below the threshold",
                     "quality_score", (Threshold("<", config.threshold, "quality.threshold"),)),)
