"""Training a fastText quality classifier: reference-quality text (positives) against web text (negatives).

The recipe of GPT-3 (Brown et al. 2020, appendix A), LLaMA and DCLM (Li et al. 2024, OH-2.5+ELI5 vs
RefinedWeb): a linear fastText model over word (and word-bigram) features, trained on a balanced sample
of the two classes; its probability of the positive label is the quality score that `filters.quality`
writes as `quality_score`.

Steps, each a plain function so tests and benchmarks can call them one by one:
  1. read documents from sources (`read_texts`): .jsonl / .jsonl.gz with a `text` field, .parquet with a
     `text` column (rows with a non-null `drop_reason` are skipped, so a run_stages `documents.parquet`
     gives only its kept rows), .txt (a whole file, blank-line-separated blocks or lines per document),
     or a directory: a build_corpus output (its `corpus/` parts) or any folder of such files;
  2. normalize (`filters.quality_model.normalize_text`, the form the `quality` stage scores): lowercase,
     punctuation split off words, whitespace collapsed, newlines removed;
  3. drop empty and duplicate texts, and texts that appear in both classes (their label is ambiguous);
  4. balanced sampling (`sample_balanced`): the same number of documents per class, at most
     `max_docs_per_class`, chosen by a seeded hash of the text, so the sample does not depend on the
     order of the sources;
  5. held-out split by a hash of the normalized text (`is_holdout`): a text, and its exact duplicates,
     always land on the same side whatever the seed or the rest of the data;
  6. fastText `train_supervised` with `thread=1`: fastText is deterministic only single-threaded (each
     thread runs Hogwild SGD on its own slice of the file with its own RNG), so the same inputs and
     config give the same model. fastText (0.9.2+, and the fasttext-numpy2-wheel build installed here)
     initializes its input matrix in 10 blocks, one per thread (`DenseMatrix::uniform`): with fewer than
     10 threads the other blocks are left as allocated, and in this build that memory is not zeroed, so
     a small model starts from heap garbage ("Encountered NaN", or different results on every run).
     Training therefore runs with glibc's malloc perturbation set so that allocations start zeroed
     (`zero_filled_allocations`; large matrices come from fresh mmap'd pages, zero anyway): rows
     outside the first block start at 0 instead of uniform noise, deterministically, and the model's
     matrices are checked to be finite afterwards;
  7. metrics on the held-out set: precision / recall / F1 of the positive class at probability 0.5 and
     ROC AUC (`roc_auc`: the Mann-Whitney rank statistic, ties counted as half), overall and per source.

Writing: model.bin (model.ftz), training_config.json and metrics.json go through `storage.atomic` (fastText's
`save_model` writes to the `atomic_path` temporary name), so a killed run leaves a previous complete file or a
`*.tmp-*` one, never half a model. fastText is imported when a model is trained.
"""
from __future__ import annotations

import contextlib
import ctypes
import gzip
import hashlib
import json
import os
import re
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from contract.bounds import bounded
from filters.quality_model import NORMALIZATIONS, label_probabilities, normalize_text
from pipeline.stats.store import RUN_STAGES_DOCUMENTS
from storage.atomic import TEMPORARY_MARK, atomic_path, write_atomic

LABEL_PREFIX = "__label__"
TXT_UNITS = ("file", "paragraph", "line")
LOSSES = ("softmax", "hs", "ova")
SOURCE_SUFFIXES = (".jsonl", ".jsonl.gz", ".parquet", ".txt")


@dataclass(frozen=True)
class TrainQualityConfig:
    """Settings of `jobs/train_quality_classifier.py` (TOML section `[train_quality]`)."""

    # Labels as fastText writes them; DCLM's OH-2.5+ELI5 model uses the same two, so a model trained here
    # and DCLM's are scored with the same `quality.label`.
    positive_label: str = "__label__hq"
    negative_label: str = "__label__cc"
    # fastText hyperparameters (fastText's supervised defaults except dim, word_ngrams and bucket).
    epoch: int = bounded(5, le=10_000)
    lr: float = bounded(0.1, le=10)
    word_ngrams: int = bounded(2, le=10)  # word bigrams, as DCLM's "bigram" classifier
    dim: int = bounded(64, le=4096)
    min_count: int = 1
    # hash buckets for the bigrams; the .bin holds bucket x dim float32 (51 MB here)
    bucket: int = bounded(200_000, ge=0, le=100_000_000)
    loss: str = "softmax"  # softmax | hs | ova
    max_docs_per_class: int = 200_000  # DCLM trained on 200k documents per class
    holdout_fraction: float = 0.1  # share of the (balanced) sample held out for the metrics
    seed: int = bounded(0, ge=0, le=2**31 - 1)  # sampling, shuffling and fastText's own RNG
    min_words: int = 1  # documents with fewer normalized tokens are skipped
    txt_unit: str = "paragraph"  # a .txt document is a whole "file", a blank-line-separated "paragraph" or a "line"
    normalization: str = "classifier"  # "classifier" (see normalize_text) or "newlines" (newlines only, as DCLM)
    quantize: bool = False  # also write model.ftz (fastText quantization, retrained; much smaller)

    def __post_init__(self) -> None:
        for name in ("positive_label", "negative_label"):
            value = getattr(self, name)
            if not value.startswith(LABEL_PREFIX) or len(value) == len(LABEL_PREFIX) or " " in value:
                raise ValueError(f"train_quality.{name}: expected '{LABEL_PREFIX}<name>' without spaces, got {value!r}")
        if self.positive_label == self.negative_label:
            raise ValueError(f"train_quality: positive_label and negative_label are both {self.positive_label!r}")
        checks = {
            "txt_unit": (self.txt_unit in TXT_UNITS, f"one of {TXT_UNITS}"),
            "normalization": (self.normalization in NORMALIZATIONS, f"one of {NORMALIZATIONS}"),
            "loss": (self.loss in LOSSES, f"one of {LOSSES}"),
            "holdout_fraction": (0.0 < self.holdout_fraction < 1.0, "between 0 and 1 (exclusive)"),
            "epoch": (self.epoch >= 1, ">= 1"),
            "lr": (self.lr > 0, "> 0"),
            "word_ngrams": (self.word_ngrams >= 1, ">= 1"),
            "dim": (self.dim >= 1, ">= 1"),
            "min_count": (self.min_count >= 1, ">= 1"),
            "bucket": (self.bucket >= 1 or self.word_ngrams == 1, ">= 1 when word_ngrams > 1"),
            "max_docs_per_class": (self.max_docs_per_class >= 1, ">= 1"),
            "min_words": (self.min_words >= 1, ">= 1"),
        }
        for name, (ok, expected) in checks.items():
            if not ok:
                raise ValueError(f"train_quality.{name}: expected {expected}, got {getattr(self, name)!r}")


@dataclass(frozen=True)
class Example:
    text: str  # normalized
    label: int  # 1 = positive, 0 = negative
    source: str  # the source path as given


# ---------------------------------------------------------------------------------------------- reading


def source_files(path: str) -> list[str]:
    """The files a source names: the file itself, a build_corpus output's `corpus/` parts, a run_stages
    output's documents.parquet (not its statistics or index), or every readable file under a directory
    (sorted; names starting with "_" or "." are skipped, as Spark does)."""
    if os.path.isfile(path):
        return [path]
    if not os.path.isdir(path):
        raise FileNotFoundError(f"training source not found: {path}")
    if os.path.isfile(os.path.join(path, RUN_STAGES_DOCUMENTS)):
        return [os.path.join(path, RUN_STAGES_DOCUMENTS)]
    corpus = os.path.join(path, "corpus")
    root = corpus if os.path.isdir(corpus) else path
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(("_", ".")))
        found += [os.path.join(folder, name) for name in files
                  if name.endswith(SOURCE_SUFFIXES) and not name.startswith(("_", ".")) and TEMPORARY_MARK not in name]
    if not found:
        raise FileNotFoundError(f"no {'/'.join(SOURCE_SUFFIXES)} files under {root}")
    return sorted(found)


def _txt_documents(text: str, txt_unit: str) -> list[str]:
    if txt_unit == "file":
        return [text]
    if txt_unit == "line":
        return text.splitlines()
    return re.split(r"\n[ \t\r]*\n", text)  # paragraph blocks: separated by a line with only whitespace


def _kept(record: dict[str, Any], where: str) -> str | None:
    """The text of a kept record (None for a dropped one); a missing or non-string text is an error."""
    if record.get("drop_reason") is not None:
        return None
    text = record.get("text")
    if text is None:
        return None
    if not isinstance(text, str):
        raise ValueError(f"{where}: field 'text' is {type(text).__name__}, expected a string")
    return text


def read_file_texts(path: str, txt_unit: str = "paragraph") -> Iterator[str]:
    """Raw documents of one file, in file order (JSONL/Parquet rows with a drop_reason are skipped)."""
    if txt_unit not in TXT_UNITS:
        raise ValueError(f"txt_unit: expected one of {TXT_UNITS}, got {txt_unit!r}")
    if path.endswith(".parquet"):
        import pyarrow.parquet as pq

        names = pq.read_schema(path).names
        if "text" not in names:
            raise ValueError(f"{path}: no 'text' column (columns: {', '.join(names)})")
        table = pq.read_table(path, columns=[c for c in ("text", "drop_reason") if c in names])
        for number, record in enumerate(table.to_pylist()):
            text = _kept(record, f"{path} row {number}")
            if text is not None:
                yield text
    elif path.endswith((".jsonl", ".jsonl.gz")):
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as stream:
            for number, line in enumerate(stream, 1):
                if not line.strip():
                    continue
                record = json.loads(line)
                if not isinstance(record, dict):
                    raise ValueError(f"{path}:{number}: expected a JSON object, got {type(record).__name__}")
                text = _kept(record, f"{path}:{number}")
                if text is not None:
                    yield text
    elif path.endswith(".txt"):
        yield from _txt_documents(Path(path).read_text(encoding="utf-8"), txt_unit)
    else:
        raise ValueError(f"{path}: unsupported source (expected {', '.join(SOURCE_SUFFIXES)} or a directory)")


def read_texts(source: str, txt_unit: str = "paragraph") -> list[str]:
    """Raw documents of a source (file or directory), in sorted-file order."""
    return [text for path in source_files(source) for text in read_file_texts(path, txt_unit)]


# ------------------------------------------------------------------------------- sampling and splitting


def _hash64(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "little")


def is_holdout(text: str, fraction: float) -> bool:
    """Whether a (normalized) text belongs to the held-out split: a hash of the text alone decides."""
    return _hash64("holdout:" + text) < fraction * 2**64


def sample_balanced(positives: Sequence[Example], negatives: Sequence[Example], max_per_class: int,
                    seed: int) -> tuple[list[Example], list[Example]]:
    """n = min(len(positives), len(negatives), max_per_class) examples of each class, those with the
    smallest seeded hash of their text: deterministic, and independent of the order of the inputs."""
    n = min(len(positives), len(negatives), max_per_class)
    pick = lambda examples: sorted(examples, key=lambda e: (_hash64(f"{seed}:sample:{e.text}"), e.text))[:n]  # noqa: E731
    return pick(positives), pick(negatives)


def prepare_examples(positive_sources: dict[str, list[str]], negative_sources: dict[str, list[str]],
                     config: TrainQualityConfig) -> tuple[list[Example], list[Example], dict[str, Any]]:
    """Normalized, de-duplicated, balanced (train, holdout) examples from raw texts keyed by source path,
    and the counts of every step (for training_config.json)."""
    counts: dict[str, Any] = {}
    classes: list[dict[str, Example]] = []
    for name, label, sources in (("positive", 1, positive_sources), ("negative", 0, negative_sources)):
        unique: dict[str, Example] = {}
        read = short = 0
        for source, texts in sources.items():
            for raw in texts:
                read += 1
                text = normalize_text(raw, config.normalization)
                if len(text.split()) < config.min_words:
                    short += 1
                elif text not in unique:  # the first source that has a text keeps it
                    unique[text] = Example(text, label, source)
        classes.append(unique)
        counts[name] = {"read": read, "too_short": short, "duplicates": read - short - len(unique)}
    conflicting = set(classes[0]) & set(classes[1])
    for name, unique in zip(("positive", "negative"), classes):
        counts[name]["in_both_classes"] = len(conflicting)
        counts[name]["usable"] = len(unique) - len(conflicting)
    positives, negatives = ([e for text, e in unique.items() if text not in conflicting] for unique in classes)
    positives, negatives = sample_balanced(positives, negatives, config.max_docs_per_class, config.seed)
    if not positives:
        raise ValueError(f"no usable training documents: {counts}")
    train, holdout = [], []
    for example in positives + negatives:
        (holdout if is_holdout(example.text, config.holdout_fraction) else train).append(example)
    # fastText reads its file in order (SGD): shuffle deterministically, by a seeded hash.
    train.sort(key=lambda e: (_hash64(f"{config.seed}:shuffle:{e.text}"), e.text))
    holdout.sort(key=lambda e: (e.label, e.source, e.text))
    counts["sampled_per_class"] = len(positives)
    counts["train"] = {"positive": sum(e.label for e in train), "negative": sum(1 - e.label for e in train)}
    counts["holdout"] = {"positive": sum(e.label for e in holdout), "negative": sum(1 - e.label for e in holdout)}
    for split, examples in (("train", train), ("holdout", holdout)):
        if not any(e.label for e in examples) or all(e.label for e in examples):
            raise ValueError(f"the {split} split lacks one class ({counts[split]}): give more documents or "
                             f"change train_quality.holdout_fraction ({config.holdout_fraction})")
    return train, holdout, counts


# ------------------------------------------------------------------------------------ training, scoring


M_PERTURB = -6  # glibc mallopt parameter: fill allocations with ~value's low byte, freed memory with it


@contextlib.contextmanager
def zero_filled_allocations() -> Iterator[bool]:
    """While inside, malloc'd memory starts as zero bytes (glibc `mallopt(M_PERTURB, 0xff)`); yields
    whether that could be set (False off glibc, where only the finiteness check below protects)."""
    mallopt = None
    if sys.platform.startswith("linux"):
        try:
            mallopt = ctypes.CDLL(None).mallopt
        except (OSError, AttributeError):  # not glibc (musl has no mallopt)
            mallopt = None
    if mallopt is None or mallopt(M_PERTURB, 0xFF) != 1:
        yield False
        return
    try:
        yield True
    finally:
        mallopt(M_PERTURB, 0)


def check_finite(model: Any) -> None:
    """Raise if a trained model has a NaN or infinite weight (diverged, or started from garbage)."""
    for name, matrix in (("input", model.get_input_matrix()), ("output", model.get_output_matrix())):
        if not np.isfinite(matrix).all():
            raise RuntimeError(f"fastText training produced non-finite {name} weights; lower train_quality.lr "
                               f"or check the fastText build (see pipeline/quality_training.py)")


def train_fasttext(train: Sequence[Example], config: TrainQualityConfig, workdir: str) -> Any:
    """A fastText supervised model, trained single-threaded (the only deterministic way) on `train`."""
    import fasttext

    path = os.path.join(workdir, "train.txt")
    labels = {1: config.positive_label, 0: config.negative_label}
    with open(path, "w", encoding="utf-8") as stream:
        for example in train:
            stream.write(f"{labels[example.label]} {example.text}\n")
    with zero_filled_allocations():
        try:
            model = fasttext.train_supervised(
                input=path, epoch=config.epoch, lr=config.lr, wordNgrams=config.word_ngrams, dim=config.dim,
                minCount=config.min_count, bucket=config.bucket, loss=config.loss, seed=config.seed,
                thread=1, verbose=0,
            )
        except RuntimeError as error:  # fastText's "Encountered NaN." says nothing about what to change
            raise RuntimeError(f"fastText training failed ({error}); lower train_quality.lr ({config.lr})") from error
    check_finite(model)
    return model


def roc_auc(positive_scores: Sequence[float], negative_scores: Sequence[float]) -> float:
    """ROC AUC as the Mann-Whitney statistic: P(score of a positive > score of a negative), ties 1/2."""
    pos = np.asarray(positive_scores, dtype=np.float64)
    neg = np.asarray(negative_scores, dtype=np.float64)
    if pos.size == 0 or neg.size == 0:
        raise ValueError(f"roc_auc needs both classes, got {pos.size} positive and {neg.size} negative scores")
    scores = np.concatenate([pos, neg])
    order = np.argsort(scores, kind="stable")
    _, first, counts = np.unique(scores[order], return_index=True, return_counts=True)
    ranks = np.empty(scores.size)
    ranks[order] = np.repeat(first + (counts + 1) / 2.0, counts)  # 1-based, average over ties
    u = ranks[: pos.size].sum() - pos.size * (pos.size + 1) / 2.0
    return float(u / (pos.size * neg.size))


def binary_metrics(labels: Sequence[int], scores: Sequence[float], threshold: float = 0.5) -> dict[str, Any]:
    """Precision, recall and F1 of the positive class at `score >= threshold`, accuracy and ROC AUC."""
    y = np.asarray(labels, dtype=bool)
    s = np.asarray(scores, dtype=np.float64)
    predicted = s >= threshold
    tp, fp, fn = int(np.sum(predicted & y)), int(np.sum(predicted & ~y)), int(np.sum(~predicted & y))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return {
        "positives": int(y.sum()), "negatives": int((~y).sum()), "threshold": threshold,
        "precision": precision, "recall": recall,
        "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        "accuracy": float(np.mean(predicted == y)),
        "auc": roc_auc(s[y], s[~y]),
    }


def evaluate(model: Any, holdout: Sequence[Example], positive_label: str) -> dict[str, Any]:
    """Held-out metrics overall and per source (a source's AUC is against all held-out docs of the other class)."""
    scores = label_probabilities(model, [e.text for e in holdout], positive_label).astype(np.float64)
    labels = np.array([e.label for e in holdout], dtype=bool)
    metrics = binary_metrics(labels, scores)
    by_source = {}
    for source in sorted({e.source for e in holdout}):
        mine = np.array([e.source == source for e in holdout])
        label = bool(labels[mine][0])
        others = scores[labels != label]
        by_source[source] = {
            "class": "positive" if label else "negative",
            "holdout_docs": int(mine.sum()),
            "mean_score": float(scores[mine].mean()),
            "auc_vs_other_class": roc_auc(scores[mine], others) if label else roc_auc(others, scores[mine]),
        }
    metrics["by_source"] = by_source
    return metrics


def train_quality_classifier(positive_paths: Sequence[str], negative_paths: Sequence[str],
                             config: TrainQualityConfig, output_dir: str) -> dict[str, Any]:
    """Read, sample, train and evaluate; writes OUTPUT/model.bin (and model.ftz when `quantize`),
    OUTPUT/training_config.json and OUTPUT/metrics.json, each to a temporary name then renamed.
    Returns the metrics."""
    import fasttext  # noqa: F401  (fail before reading anything if fastText is missing)

    positive_sources = {path: read_texts(path, config.txt_unit) for path in positive_paths}
    negative_sources = {path: read_texts(path, config.txt_unit) for path in negative_paths}
    train, holdout, counts = prepare_examples(positive_sources, negative_sources, config)
    os.makedirs(output_dir, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=output_dir, prefix=".train-") as workdir:
        model = train_fasttext(train, config, workdir)
        metrics = {"model": "model.bin", **evaluate(model, holdout, config.positive_label)}
        _save_model(model, os.path.join(output_dir, "model.bin"))
        if config.quantize:
            with zero_filled_allocations():
                model.quantize(input=os.path.join(workdir, "train.txt"), qnorm=True, retrain=True,
                               cutoff=100_000, thread=1, verbose=0)
            metrics["quantized"] = {"model": "model.ftz", **evaluate(model, holdout, config.positive_label)}
            _save_model(model, os.path.join(output_dir, "model.ftz"))
    training_config = {
        "config": asdict(config),
        "labels": {"positive": config.positive_label, "negative": config.negative_label},
        "normalization": config.normalization,
        "positives": {path: len(texts) for path, texts in positive_sources.items()},
        "negatives": {path: len(texts) for path, texts in negative_sources.items()},
        "counts": counts,
        "fasttext_threads": 1,
    }
    _write_json(os.path.join(output_dir, "training_config.json"), training_config)
    _write_json(os.path.join(output_dir, "metrics.json"), metrics)
    return metrics


def _save_model(model: Any, path: str) -> None:
    with atomic_path(path) as temporary:
        model.save_model(temporary)


def _write_json(path: str, value: Any) -> None:
    write_atomic(path, [(json.dumps(value, indent=2, sort_keys=True) + "\n").encode("utf-8")])
