"""Token-level F1 of benchmarks/extraction_quality.py on tiny texts with hand-computed values."""

import importlib.util
import sys
from pathlib import Path

import pytest

BENCHMARK_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "extraction_quality.py"


def _load_benchmark_module():
    # benchmarks/ is not a package; load the file directly. The module must be in sys.modules before
    # exec_module because dataclasses look their module up there.
    spec = importlib.util.spec_from_file_location("extraction_quality", BENCHMARK_PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["extraction_quality"] = module
    spec.loader.exec_module(module)
    return module


eq = _load_benchmark_module()


def test_identical_text_scores_one():
    assert eq.token_f1("The cat sat on the mat.", "The cat sat on the mat.") == (1.0, 1.0, 1.0)


def test_disjoint_text_scores_zero():
    assert eq.token_f1("alpha beta", "gamma delta") == (0.0, 0.0, 0.0)


def test_precision_two_thirds_recall_one_half():
    # predicted {a, b, c}, expected {a, b, d, e}: 2 shared tokens -> P = 2/3, R = 2/4, F1 = 2PR/(P+R) = 4/7
    precision, recall, f1 = eq.token_f1("a b c", "a b d e")
    assert precision == pytest.approx(2 / 3, abs=1e-12)
    assert recall == pytest.approx(1 / 2, abs=1e-12)
    assert f1 == pytest.approx(4 / 7, abs=1e-12)


def test_bags_count_repeated_tokens():
    # predicted {the: 3, cat: 1}, expected {the: 1, cat: 2}: overlap min(3,1) + min(1,2) = 2 of 4 predicted and
    # 3 expected -> P = 1/2, R = 2/3, F1 = 4/7. Comparing sets instead of bags would give 1.0.
    precision, recall, f1 = eq.token_f1("the the the cat", "the cat cat")
    assert precision == pytest.approx(1 / 2, abs=1e-12)
    assert recall == pytest.approx(2 / 3, abs=1e-12)
    assert f1 == pytest.approx(4 / 7, abs=1e-12)


def test_case_punctuation_and_order_are_ignored():
    assert eq.token_f1("Hello, World!", "world hello") == (1.0, 1.0, 1.0)


def test_tokens_are_unicode_words():
    assert eq.tokenize("Café NAÏVE 日本語 x_1") == ["café", "naïve", "日本語", "x_1"]
    # an ASCII-only tokenizer would cut "café" to "caf" and score this 1.0
    assert eq.token_f1("café", "caf") == (0.0, 0.0, 0.0)


def test_empty_sides():
    assert eq.token_f1("", "some expected text") == (0.0, 0.0, 0.0)
    assert eq.token_f1("some extracted text", "") == (0.0, 0.0, 0.0)
    assert eq.token_f1("", "  ...  ") == (1.0, 1.0, 1.0)  # no tokens on either side


def test_expected_text_keeps_blocks_apart_and_inline_tags_joined():
    html = "<div><p>end.</p><p>Next <b>bo</b>ld</p><ul><li>one</li><li>two</li></ul></div>"
    assert eq.expected_text_of(html) == "end. Next bold one two"
    # text before and after a block inside its parent: both sides need a separator
    assert eq.expected_text_of("<div>lead<p>para</p>rest<br>after</div>") == "lead para rest after"


def test_missing_pages_folder_exits_2(tmp_path):
    assert eq.main(["--pages", str(tmp_path / "missing"), "--out", str(tmp_path / "out.json")]) == 2
    assert not (tmp_path / "out.json").exists()


def test_choose_setting_skips_order_dependent_and_small_speedups():
    settings = {"a": {}, "b": {"fast": True}, "c": {"deduplicate": True}, "d": {"favor_recall": True}}
    summaries = {
        "a": {"macro_f1": 0.930, "docs_per_s": 20.0},
        "b": {"macro_f1": 0.927, "docs_per_s": 21.0},  # within 0.005 but only 1.05x faster: noise
        "c": {"macro_f1": 0.990, "docs_per_s": 99.0},  # best, but deduplicate depends on document order
        "d": {"macro_f1": 0.900, "docs_per_s": 90.0},  # fast but 0.03 worse
    }
    assert eq.choose_setting(summaries, settings) == "a"
    summaries["b"]["docs_per_s"] = 23.0  # 1.15x faster within 0.005: the faster one wins
    assert eq.choose_setting(summaries, settings) == "b"


def _load_dev_module():
    spec = importlib.util.spec_from_file_location("extraction_dev", BENCHMARK_PATH.with_name("extraction_dev.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules["extraction_dev"] = module
    spec.loader.exec_module(module)
    return module


dev = _load_dev_module()


def test_dev_split_is_the_parity_of_the_page_id_sha1():
    import hashlib

    for page_id in ("dev_1", "R352", "bbc.co.uk_news_01", "01ccc7c5-a1d1-46e1-a5f7-43310df16575"):
        last_hex_digit = hashlib.sha1(page_id.encode()).hexdigest()[-1]
        expected = "choose" if int(last_hex_digit, 16) % 2 == 0 else "report"
        assert dev.DevPage("cleaneval", page_id, "", "").split == expected


def test_macro_is_the_mean_over_datasets_of_the_per_page_means():
    rows = [  # cleaneval: two pages, F1 1.0 and 0.0 -> 0.5; dragnet: one page, F1 0.8 -> macro (0.5 + 0.8) / 2
        {"dataset": "cleaneval", "precision": 1.0, "recall": 1.0, "f1": 1.0, "calls": 1, "cpu_s": 0.01, "text_tokens": True},
        {"dataset": "cleaneval", "precision": 0.0, "recall": 0.0, "f1": 0.0, "calls": 2, "cpu_s": 0.03, "text_tokens": False},
        {"dataset": "dragnet", "precision": 0.9, "recall": 0.7, "f1": 0.8, "calls": 1, "cpu_s": 0.02, "text_tokens": True},
    ]
    summary = dev.summarize(rows)
    assert summary["per_dataset"]["cleaneval"]["f1"] == 0.5 and summary["per_dataset"]["cleaneval"]["empty_pages"] == 1
    assert summary["macro"]["f1"] == pytest.approx(0.65) and summary["macro"]["pages"] == 3
    assert summary["macro"]["calls_per_page"] == pytest.approx((1.5 + 1.0) / 2)
    assert summary["macro"]["cpu_ms_per_page"] == pytest.approx((20.0 + 20.0) / 2)


def test_tuning_picks_the_first_best_ratios_of_the_grid():
    words = lambda n, w="w": " ".join(f"{w}{i}" for i in range(n))  # noqa: E731
    # a: the default finds 1 word of 100: only favor_recall's text is right (any min_ratio >= 0.1 fixes it).
    # b: the default has 200 words against resiliparse's 100: favor_precision's is right (max_ratio < 2 fixes it).
    # c: the default's 95 words are right and favor_precision's are wrong (max_ratio 0.9 would break it).
    golds = {"a": words(50, "r"), "b": words(80, "p"), "c": words(95)}
    texts = {
        "a": {"default": "w0", "favor_recall": words(50, "r"), "favor_precision": "w0"},
        "b": {"default": words(200), "favor_recall": words(200), "favor_precision": words(80, "p")},
        "c": {"default": words(95), "favor_recall": words(95), "favor_precision": words(10)},
    }
    reference_words = {"a": 100, "b": 100, "c": 100}
    records = [{"dataset": "cleaneval", "page_id": pid, "split": "choose", "reference_words": reference_words[pid],
                **{name: {"text": text} for name, text in texts[pid].items()}} for pid in "abc"]
    pages = {("cleaneval", pid): dev.DevPage("cleaneval", pid, "", gold) for pid, gold in golds.items()}
    best = dev.tune_on_choose(records, pages)["best"]
    assert (best["min_ratio"], best["max_ratio"], best["f1"]) == (0.1, 0.95, 1.0)
    assert dev.simulated_text(records[1], 0.1, 0.95) == (words(80, "p"), 2)
