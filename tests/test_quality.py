"""Quality classifier: training on tiny separable data, deterministic scoring and Pareto keeping, model checks,
exact drop reasons, source reading, sampling and the AUC statistic."""
from __future__ import annotations

import gzip
import hashlib
import itertools
import json
import pickle
import random
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from filters.langid import default_model_path
from filters.quality import QualityConfig, QualityStage, fasttext_labels
from filters.quality_model import normalize_text
from pipeline.quality_training import (
    Example,
    TrainQualityConfig,
    binary_metrics,
    is_holdout,
    read_texts,
    roc_auc,
    sample_balanced,
    train_quality_classifier,
)
from pipeline.schema import document_schema
from pipeline.stages import chain_batches
from tests.conftest import ROOT

# Two disjoint vocabularies: "reference" prose about astronomy, "web" text about shopping deals.
POSITIVE_WORDS = ("the telescope observed distant galaxies whose light travelled for billions of years "
                  "astronomers measured spectra orbit planet nebula star cluster gravity").split()
NEGATIVE_WORDS = ("buy cheap deals now click here free shipping discount coupon sale offer best price "
                  "order today limited stock cart checkout").split()
# Small and fast: the whole file runs in a few seconds.
TINY = dict(epoch=25, lr=0.5, dim=10, word_ngrams=1, bucket=1000, holdout_fraction=0.25)


def documents(words: list[str], count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(words) for _ in range(rng.randint(8, 20))).capitalize() + "." for _ in range(count)]


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[str, dict]:
    """A model trained on 60 + 60 generated documents (JSONL positives, .txt negatives)."""
    root = tmp_path_factory.mktemp("quality")
    positives, negatives = root / "pos.jsonl", root / "neg.txt"
    positives.write_text("".join(json.dumps({"text": t}) + "\n" for t in documents(POSITIVE_WORDS, 60, seed=1)))
    negatives.write_text("\n\n".join(documents(NEGATIVE_WORDS, 60, seed=2)) + "\n")
    out = root / "model"
    metrics = train_quality_classifier([str(positives)], [str(negatives)], TrainQualityConfig(**TINY), str(out))
    return str(out / "model.bin"), metrics


def run(stage: QualityStage, docs: list[dict], batch_rows: int = 1000) -> dict[str, dict]:
    """Rows through the real adapter in batches of `batch_rows`; returned by id."""
    schema = document_schema(stage.fields)
    rows = [{"id": d["id"], "text": d["text"], "drop_reason": None} for d in docs]
    batches = [pa.RecordBatch.from_pylist(rows[i:i + batch_rows], schema=schema) for i in range(0, len(rows), batch_rows)]
    out = chain_batches([stage], schema)(iter(batches))
    return {row["id"]: row for batch in out for row in batch.to_pylist()}


def unseen() -> list[dict]:
    pos = [{"id": f"pos-{i}", "text": t} for i, t in enumerate(documents(POSITIVE_WORDS, 20, seed=11))]
    neg = [{"id": f"neg-{i}", "text": t} for i, t in enumerate(documents(NEGATIVE_WORDS, 20, seed=12))]
    return pos + neg


# ------------------------------------------------------------------------------------------- training


def test_trained_model_orders_unseen_positives_above_negatives(trained):
    model_path, metrics = trained
    assert metrics["auc"] == 1.0 and metrics["positives"] > 0 and metrics["negatives"] > 0
    rows = run(QualityStage(QualityConfig(model_path=model_path)), unseen())
    pos = [r["quality_score"] for i, r in rows.items() if i.startswith("pos")]
    neg = [r["quality_score"] for i, r in rows.items() if i.startswith("neg")]
    assert len(pos) == len(neg) == 20
    assert min(pos) > max(neg)  # every unseen positive above every unseen negative
    assert min(pos) > 0.5 > max(neg)


def test_training_writes_model_config_and_metrics(trained):
    model_path, metrics = trained
    folder = model_path.rsplit("/", 1)[0]
    config = json.loads(open(f"{folder}/training_config.json").read())
    assert config["config"]["dim"] == 10 and config["labels"] == {"positive": "__label__hq", "negative": "__label__cc"}
    counts = config["counts"]
    assert counts["positive"]["read"] == 60 and counts["negative"]["read"] == 60
    assert counts["sampled_per_class"] == 60 - max(counts["positive"]["duplicates"], counts["negative"]["duplicates"])
    assert sum(counts["train"].values()) + sum(counts["holdout"].values()) == 2 * counts["sampled_per_class"]
    assert json.loads(open(f"{folder}/metrics.json").read())["auc"] == metrics["auc"]
    assert set(metrics["by_source"]) == {f"{folder.rsplit('/', 1)[0]}/pos.jsonl", f"{folder.rsplit('/', 1)[0]}/neg.txt"}


def test_training_is_deterministic(trained, tmp_path):
    model_path, _ = trained
    folder = model_path.rsplit("/", 2)[0]
    again = tmp_path / "again"
    train_quality_classifier([f"{folder}/pos.jsonl"], [f"{folder}/neg.txt"], TrainQualityConfig(**TINY), str(again))
    assert (again / "model.bin").read_bytes() == open(model_path, "rb").read()


def test_quantized_model_is_written_and_scores(trained, tmp_path):
    folder = trained[0].rsplit("/", 2)[0]
    metrics = train_quality_classifier([f"{folder}/pos.jsonl"], [f"{folder}/neg.txt"],
                                       TrainQualityConfig(**{**TINY, "word_ngrams": 2}, quantize=True), str(tmp_path))
    assert (tmp_path / "model.ftz").stat().st_size < (tmp_path / "model.bin").stat().st_size
    assert metrics["quantized"]["model"] == "model.ftz" and metrics["quantized"]["auc"] > 0.9
    rows = run(QualityStage(QualityConfig(model_path=str(tmp_path / "model.ftz"))), unseen())
    assert all(0.0 <= r["quality_score"] <= 1.0 for r in rows.values())


# -------------------------------------------------------------------------------- scoring and deciding


def test_scoring_is_deterministic_across_instances_orders_and_batches(trained):
    model_path, _ = trained
    docs = unseen()
    first = run(QualityStage(QualityConfig(model_path=model_path)), docs)
    second = run(QualityStage(QualityConfig(model_path=model_path)), list(reversed(docs)), batch_rows=3)
    assert {i: r["quality_score"] for i, r in first.items()} == {i: r["quality_score"] for i, r in second.items()}


def test_threshold_mode_reasons(trained):
    model_path, _ = trained
    rows = run(QualityStage(QualityConfig(model_path=model_path, threshold=0.5)), unseen())
    assert {i: r["drop_reason"] for i, r in rows.items()} == {
        i: (None if i.startswith("pos") else "quality:below_threshold") for i in rows}
    # The decision reads the stored float32 score: a threshold equal to a stored score keeps that document.
    score = rows["pos-0"]["quality_score"]
    again = run(QualityStage(QualityConfig(model_path=model_path, threshold=score)), unseen())
    assert again["pos-0"]["drop_reason"] is None
    assert all((r["drop_reason"] is None) == (r["quality_score"] >= score) for r in again.values())


def expected_pareto_keep(seed: int, doc_id: str, score: float, alpha: float) -> bool:
    """GPT-3's rule with the per-document generator, written out independently of the stage."""
    digest = hashlib.sha256(f"{seed}:{doc_id}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little")).pareto(alpha) > 1 - score


def test_pareto_decisions_follow_gpt3_rule_and_ignore_order(trained):
    model_path, _ = trained
    docs = unseen() * 1  # 40 documents, scores near 0 and near 1
    docs += [{"id": f"mid-{i}", "text": f"{a} {b}"} for i, (a, b) in  # mixed texts: scores in between
             enumerate(itertools.product(POSITIVE_WORDS[:8], NEGATIVE_WORDS[:8]))]
    config = QualityConfig(model_path=model_path, mode="pareto", pareto_alpha=2.0, seed=7)
    forward = run(QualityStage(config), docs)
    backward = run(QualityStage(config), list(reversed(docs)), batch_rows=5)
    assert {i: r["drop_reason"] for i, r in forward.items()} == {i: r["drop_reason"] for i, r in backward.items()}
    for doc_id, row in forward.items():
        keep = expected_pareto_keep(7, doc_id, row["quality_score"], 2.0)
        assert row["drop_reason"] == (None if keep else "quality:pareto_rejected"), doc_id
    reasons = [r["drop_reason"] for r in forward.values()]
    assert reasons.count(None) > 0 and reasons.count("quality:pareto_rejected") > 0
    other_seed = run(QualityStage(QualityConfig(model_path=model_path, mode="pareto", pareto_alpha=2.0, seed=8)), docs)
    assert [r["drop_reason"] for r in other_seed.values()] != reasons


def test_pareto_keep_rate_matches_the_distribution(trained):
    """P(pareto(alpha) > 1 - s) = (2 - s)^-alpha for numpy's Lomax draw: check on many ids."""
    stage = QualityStage(QualityConfig(model_path=trained[0], mode="pareto", pareto_alpha=2.0))
    for score in (0.0, 0.5, 1.0):
        kept = sum(stage.decide({"id": f"d{i}", "quality_score": score}) is None for i in range(4000)) / 4000
        assert abs(kept - (2.0 - score) ** -2.0) < 0.03, (score, kept)


def test_missing_text_is_scored_as_empty(trained):
    stage = QualityStage(QualityConfig(model_path=trained[0]))
    rows = run(stage, [{"id": "none", "text": None}, {"id": "empty", "text": ""}])
    assert rows["none"]["quality_score"] == rows["empty"]["quality_score"]


def test_pickled_stage_reloads_the_model(trained):
    stage = QualityStage(QualityConfig(model_path=trained[0]))
    blob = pickle.dumps(stage)
    assert b"_loaded_model" not in blob
    clone = pickle.loads(blob)
    assert "_loaded_model" not in clone.__dict__
    docs = unseen()
    assert run(clone, docs) == run(stage, docs)


# ------------------------------------------------------------------------------------ model checks


def test_missing_model_fails_naming_the_path(tmp_path):
    path = tmp_path / "nowhere" / "model.bin"
    with pytest.raises(FileNotFoundError, match=f"quality classifier model not found: {path}"):
        QualityStage(QualityConfig(model_path=str(path)))


def test_no_model_configured_fails_clearly():
    with pytest.raises(ValueError, match="no model configured; set quality.model_path"):
        QualityStage(QualityConfig())


def test_wrong_label_fails_listing_the_models_labels(trained):
    with pytest.raises(ValueError, match=r"quality.label '__label__good' is not a label of .*model.bin; "
                                         r"the model's labels are: __label__(hq|cc), __label__(hq|cc)"):
        QualityStage(QualityConfig(model_path=trained[0], label="__label__good"))


def test_labels_read_from_the_file_are_fasttexts(trained):
    # The driver's check reads the labels from the dictionary without loading the model (.bin and quantized .ftz).
    import fasttext

    for path in (trained[0], default_model_path()):
        assert fasttext_labels(path) == list(fasttext.load_model(path).get_labels())
    assert fasttext_labels(default_model_path())[:3] == ["__label__en", "__label__ru", "__label__de"]


def test_the_stage_is_checked_without_loading_the_model(trained):
    stage = QualityStage(QualityConfig(model_path=trained[0]))
    assert "_loaded_model" not in stage.__dict__  # checked from the file's dictionary; loaded on first use
    run(stage, unseen()[:2])
    assert "_loaded_model" in stage.__dict__


def test_a_file_that_is_no_fasttext_model_fails_on_the_driver(trained, tmp_path):
    text, cut = tmp_path / "model.bin", tmp_path / "cut.bin"
    text.write_text("not a model, but long enough to hold fastText's header: " * 4)
    cut.write_bytes(open(trained[0], "rb").read()[:120])
    with pytest.raises(ValueError, match=r"model.bin is not a fastText model \(magic \d+, version \d+\)"):
        QualityStage(QualityConfig(model_path=str(text)))
    with pytest.raises(ValueError, match=r"cut.bin is not a fastText model \(its dictionary is cut short\)"):
        QualityStage(QualityConfig(model_path=str(cut)))


def test_other_label_and_bad_settings(trained):
    # The negative label is a valid choice: its probability is 1 - P(hq) (two labels, softmax).
    hq = run(QualityStage(QualityConfig(model_path=trained[0])), unseen())
    cc = run(QualityStage(QualityConfig(model_path=trained[0], label="__label__cc")), unseen())
    assert all(abs(hq[i]["quality_score"] + cc[i]["quality_score"] - 1.0) < 1e-4 for i in hq)
    with pytest.raises(ValueError, match="quality.mode: expected one of"):
        QualityStage(QualityConfig(model_path=trained[0], mode="top_k"))
    with pytest.raises(ValueError, match="quality.normalization is 'newlines' but .* was trained with 'classifier'"):
        QualityStage(QualityConfig(model_path=trained[0], normalization="newlines"))


# ------------------------------------------------------------------------- reading, sampling, metrics


def test_normalize_text():
    assert normalize_text("The End.\nNext  line,  here!") == "the end . next line , here !"
    assert normalize_text("Words end . Here ,") == normalize_text("Words end. Here,")  # WikiText tokenization
    assert normalize_text("東京は晴れ") == "東 京 は 晴 れ"
    assert normalize_text(None) == ""
    assert normalize_text("A.\nB", "newlines") == "A. B"


def test_read_texts_from_every_source_kind(tmp_path):
    table = pa.table({"id": ["a", "b", "c"], "text": ["kept one", "dropped", "kept two"],
                      "drop_reason": [None, "gopher:too_few_words", None]})
    pq.write_table(table, tmp_path / "docs.parquet")
    assert read_texts(str(tmp_path / "docs.parquet")) == ["kept one", "kept two"]

    with gzip.open(tmp_path / "docs.jsonl.gz", "wt") as stream:
        stream.write('{"text": "first"}\n\n{"text": "second", "drop_reason": "x:y"}\n{"text": "third"}\n')
    assert read_texts(str(tmp_path / "docs.jsonl.gz")) == ["first", "third"]

    (tmp_path / "doc.txt").write_text("para one\nstill one\n\npara two\n  \npara three")
    assert read_texts(str(tmp_path / "doc.txt"), "paragraph") == ["para one\nstill one", "para two", "para three"]
    assert read_texts(str(tmp_path / "doc.txt"), "line") == ["para one", "still one", "", "para two", "  ", "para three"]
    assert read_texts(str(tmp_path / "doc.txt"), "file") == [(tmp_path / "doc.txt").read_text()]

    build = tmp_path / "build"  # a build_corpus output: only corpus/ is read
    for folder, text in (("corpus", "good page"), ("rejected", "bad page")):
        (build / folder).mkdir(parents=True)
        pq.write_table(pa.table({"text": [text], "drop_reason": pa.array([None], pa.string())}),
                       build / folder / "part-1.parquet")
    (build / "corpus" / "_done").mkdir()
    (build / "corpus" / "_done" / "x.jsonl").write_text('{"text": "marker"}\n')
    (build / "corpus" / "part-2.tmp-dead.jsonl").write_text('{"text": "half written"}\n')  # storage's TEMPORARY_MARK
    assert read_texts(str(build)) == ["good page"]

    with pytest.raises(FileNotFoundError, match="training source not found"):
        read_texts(str(tmp_path / "missing.jsonl"))
    (tmp_path / "bad.jsonl").write_text('{"text": 3}\n')
    with pytest.raises(ValueError, match="bad.jsonl:1: field 'text' is int"):
        read_texts(str(tmp_path / "bad.jsonl"))


def test_sampling_and_holdout_do_not_depend_on_order():
    pos = [Example(f"pos {i}", 1, "p") for i in range(50)]
    neg = [Example(f"neg {i}", 0, "n") for i in range(30)]
    a = sample_balanced(pos, neg, 100, seed=0)
    b = sample_balanced(list(reversed(pos)), list(reversed(neg)), 100, seed=0)
    assert a == b and len(a[0]) == len(a[1]) == 30
    assert sample_balanced(pos, neg, 100, seed=1)[0] != a[0]  # the seed picks another sample
    assert len(sample_balanced(pos, neg, 10, seed=0)[1]) == 10
    held = [i for i in range(10_000) if is_holdout(f"text {i}", 0.1)]
    assert 900 < len(held) < 1100 and held == [i for i in range(10_000) if is_holdout(f"text {i}", 0.1)]


def test_roc_auc_matches_pairwise_count_with_ties():
    rng = np.random.default_rng(0)
    pos, neg = rng.integers(0, 5, 40).astype(float), rng.integers(0, 5, 30).astype(float)  # many ties
    pairwise = np.mean([(p > n) + 0.5 * (p == n) for p in pos for n in neg])
    assert roc_auc(pos, neg) == pytest.approx(pairwise, abs=1e-12)
    assert roc_auc([0.9, 0.8], [0.1, 0.2]) == 1.0 and roc_auc([0.1], [0.9]) == 0.0
    assert roc_auc([0.5, 0.5], [0.5]) == 0.5
    m = binary_metrics([1, 1, 0, 0], [0.9, 0.4, 0.6, 0.1])
    assert (m["precision"], m["recall"], m["accuracy"], m["auc"]) == (0.5, 0.5, 0.5, 0.75)
    with pytest.raises(ValueError, match="needs both classes"):
        roc_auc([0.5], [])


# ------------------------------------------------------------------------------------------- the job


def job(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "jobs" / "train_quality_classifier.py"), *args],
                          capture_output=True, text=True, cwd=ROOT)


def test_job_config_errors_name_the_key(tmp_path):
    cfg = tmp_path / "cfg.toml"
    cfg.write_text("[pipeline]\nstages = ['extract']\n\n[train_quality]\nepochs = 3\n")
    result = job("--positives", "x", "--negatives", "y", "--output", str(tmp_path), "--config", str(cfg))
    assert result.returncode == 2 and "unknown key 'train_quality.epochs'" in result.stderr
    result = job("--positives", "x", "--negatives", "y", "--output", str(tmp_path), "--set", "train_quality.dim='big'")
    assert result.returncode == 2 and "train_quality.dim: expected an integer, got str 'big'" in result.stderr
    result = job("--positives", "x", "--negatives", "y", "--output", str(tmp_path), "--set", "train_quality.loss='ns'")
    assert result.returncode == 2 and "train_quality.loss: expected one of" in result.stderr
    cfg.write_text("[train_quality]\nepoch = 3\n")
    result = job("--positives", "x", "--negatives", "y", "--output", str(tmp_path), "--config", str(cfg),
                 "--set", "train_quality.dim=12", "--dry-run")
    resolved = json.loads(result.stdout)["train_quality"]
    assert result.returncode == 0 and (resolved["epoch"], resolved["dim"]) == (3, 12)


def test_job_trains_end_to_end(trained, tmp_path):
    folder = trained[0].rsplit("/", 2)[0]
    sets = [arg for key, value in TINY.items() for arg in ("--set", f"train_quality.{key}={value}")]
    result = job("--positives", f"{folder}/pos.jsonl", "--negatives", f"{folder}/neg.txt",
                 "--output", str(tmp_path / "out"), *sets)
    assert result.returncode == 0, result.stderr
    assert "Held-out AUC 1.0000" in result.stdout
    assert (tmp_path / "out" / "model.bin").read_bytes() == open(trained[0], "rb").read()
