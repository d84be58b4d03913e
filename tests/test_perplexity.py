"""The `perplexity` stage (filters/perplexity.py), its estimator (filters/perplexity_model.py) and its training
job: ARPA probabilities against hand computation and against ARPA backoff arithmetic done here, KenLM's scores
against that arithmetic, the stage's signals recomputed from KenLM, buckets, nulls, the threshold rule, and
the same rows from run_stages and build_corpus."""
from __future__ import annotations

import json
import math
import pickle

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from filters.perplexity import (PerplexityConfig, PerplexityStage, load_kenlm, model_lines, normalize_line,
                                tokenize_line)
from filters.perplexity_model import BOS, UNK, estimate, write_arpa
from jobs import run_stages, train_perplexity_model
from pipeline.config import load_config
from pipeline.corpus import output_schema
from pipeline.quality_training import is_holdout
from pipeline.stages import chain_batches
from pipeline.stats.rules import decision_rules
from tests.conftest import read_corpus

SUBJECTS = ["the farmer", "a miller", "the old baker", "my neighbour", "the young teacher", "a fisherman"]
VERBS = ["planted", "sold", "carried", "painted", "repaired", "bought"]
OBJECTS = ["the beans", "a wooden cart", "three baskets", "the red door", "some apples", "the garden fence"]
PLACES = ["near the river", "in the village", "before the rain", "after the market", "by the mill"]


def reference_documents() -> list[str]:
    """Plain English paragraphs of two or three sentences, made from small word lists (deterministic)."""
    docs = []
    for i in range(150):
        sentences = [f"{SUBJECTS[(i + k) % 6].capitalize()} {VERBS[(i * 7 + k) % 6]} {OBJECTS[(i * 5 + 2 * k) % 6]} "
                     f"{PLACES[(i + 3 * k) % 5]}." for k in range(2 + i % 2)]
        docs.append("\n".join(sentences))
    return docs


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("reference")
    (root / "reference.txt").write_text("\n\n".join(reference_documents()) + "\n", encoding="utf-8")
    out = root / "models"
    assert train_perplexity_model.main(["--input", str(root / "reference.txt"), "--output", str(out),
                                        "--lang", "en", "--order", "3"]) == 0
    return out


# ----------------------------------------------------------------------------------- ARPA arithmetic


def read_arpa(path) -> tuple[dict[tuple[str, ...], float], dict[tuple[str, ...], float]]:
    """(log10 p, log10 backoff) of every listed n-gram, read with this test's own parser."""
    probs, backoffs = {}, {}
    for line in path.read_text(encoding="utf-8").splitlines():
        fields = line.split("\t")
        if len(fields) >= 2:
            ngram = tuple(fields[1].split(" "))
            probs[ngram] = float(fields[0])
            backoffs[ngram] = float(fields[2]) if len(fields) == 3 else 0.0
    return probs, backoffs


def arpa_log10(probs, backoffs, context: tuple[str, ...], word: str) -> float:
    """log10 p(word | context) by ARPA backoff: the longest listed n-gram, plus the skipped contexts' backoffs."""
    word = word if (word,) in probs else UNK
    penalty = 0.0
    for start in range(len(context) + 1):
        history = context[start:]
        if history + (word,) in probs:
            return penalty + probs[history + (word,)]
        penalty += backoffs.get(history, 0.0)
    raise AssertionError("the unigram is always listed")


def test_a_tiny_model_has_the_kneser_ney_probabilities_computed_by_hand(tmp_path):
    # <s> a b </s>, <s> a c </s>, <s> b </s>; too few counts of counts: lmplz's fallback discounts 0.5, 1, 1.5.
    model = estimate([["a", "b"], ["a", "c"], ["b"]], order=2)
    path = tmp_path / "tiny.arpa"
    write_arpa(model, str(path))
    probs, backoffs = read_arpa(path)
    # continuation counts a=1 (<s>), b=2 (a, <s>), c=1 (a), </s>=2 (b, c): total 6, freed 0.5+1+1+0.5 = 3
    uniform = 0.5 / 5  # gamma 3/6 over the 5 words a, b, c, </s>, <unk>
    expected = {("a",): 0.5 / 6 + uniform, ("b",): 1 / 6 + uniform, ("c",): 0.5 / 6 + uniform,
                ("</s>",): 1 / 6 + uniform, (UNK,): uniform,
                ("a", "b"): 0.5 / 2 + 0.5 * (1 / 6 + uniform),  # context a: counts 1, 1; gamma (0.5+0.5)/2
                ("<s>", "a"): 1 / 3 + 0.5 * (0.5 / 6 + uniform)}  # context <s>: raw counts 2, 1; gamma 1.5/3
    for ngram, p in expected.items():
        assert probs[ngram] == pytest.approx(math.log10(p), abs=1e-8), ngram
    assert probs[(BOS,)] == -99 and backoffs[(BOS,)] == pytest.approx(math.log10(0.5), abs=1e-8)
    assert model.discounts == ((0.5, 1.0, 1.5), (0.5, 1.0, 1.5))


def test_arpa_probabilities_sum_to_one_and_kenlm_scores_by_the_same_arithmetic(model_dir):
    probs, backoffs = read_arpa(model_dir / "en.arpa")
    vocabulary = [ngram[0] for ngram in probs if len(ngram) == 1 and ngram[0] != BOS]
    for context in [(), (BOS,), ("the",), (BOS, "the"), ("the", "farmer"), ("sold", "the"), ("zebra", "the")]:
        total = sum(10 ** arpa_log10(probs, backoffs, context, word) for word in vocabulary)
        assert total == pytest.approx(1.0, abs=1e-6), context
    kenlm_model = load_kenlm(str(model_dir / "en.arpa"))
    for sentence in ["the farmer sold the beans near the river .", "a zebra painted the mill mill mill", ""]:
        words = sentence.split() + ["</s>"]
        ours = sum(arpa_log10(probs, backoffs, tuple([BOS] + words[:i])[-2:], word) for i, word in enumerate(words))
        assert kenlm_model.score(sentence, bos=True, eos=True) == pytest.approx(ours, abs=1e-4)


def test_the_model_file_is_byte_identical_on_a_rerun(model_dir, tmp_path):
    source = model_dir.parent / "reference.txt"
    assert train_perplexity_model.main(["--input", str(source), "--output", str(tmp_path), "--lang", "en",
                                        "--order", "3"]) == 0
    assert (tmp_path / "en.arpa").read_bytes() == (model_dir / "en.arpa").read_bytes()
    assert (tmp_path / "cutoffs.json").read_bytes() == (model_dir / "cutoffs.json").read_bytes()


def test_cutoffs_are_the_30th_and_60th_percentiles_of_the_held_out_documents(model_dir):
    held_out = [doc for doc in reference_documents() if is_holdout(doc, 0.1)]
    assert 5 <= len(held_out) <= 30
    kenlm_model = load_kenlm(str(model_dir / "en.arpa"))
    perplexities = []
    for doc in held_out:
        lines = [" ".join(tokenize_line(normalize_line(line))) for line in doc.split("\n")]
        log10_prob = sum(kenlm_model.score(line) for line in lines)
        perplexities.append(10 ** (-log10_prob / sum(len(line.split()) + 1 for line in lines)))
    p30, p60 = np.percentile(perplexities, [30, 60])
    cutoffs = json.loads((model_dir / "cutoffs.json").read_text())
    assert cutoffs == {"en": {"p30": pytest.approx(p30, rel=1e-12), "p60": pytest.approx(p60, rel=1e-12)}}


# ------------------------------------------------------------------------------------------------ stage


def test_normalization_and_tokens_follow_cc_net():
    assert normalize_line("  Ça coûte 12,50 € — «Très» BIEN…\t!  ") == 'ca coute 00,00 €  -  "tres" bien... !'
    assert tokenize_line(normalize_line("It's 2024: <s> 東京 tokyo_2")) == [
        "it", "'", "s", "0000", ":", "<", "s", ">", "東", "京", "tokyo_0"]
    assert model_lines("First LINE.\n\n   \nSecond, line") == ["first line .", "second , line"]


def test_signals_are_recomputed_from_kenlm_for_a_two_line_document(model_dir):
    stage = PerplexityStage(PerplexityConfig(model_dir=str(model_dir)))
    text = "The FARMER sold the beans near the river.\n\nA miller painted 3 baskets!"
    kenlm_model = load_kenlm(str(model_dir / "en.arpa"))
    first, second = "the farmer sold the beans near the river .", "a miller painted 0 baskets !"
    expected = 10.0 ** (-(kenlm_model.score(first) + kenlm_model.score(second)) / ((9 + 1) + (6 + 1)))
    signals = stage.measure({"text": text, "lang": "en"})
    assert signals["perplexity"] == pytest.approx(expected, rel=1e-12)
    cutoffs = json.loads((model_dir / "cutoffs.json").read_text())["en"]
    assert signals["perplexity_bucket"] == ("head" if expected < cutoffs["p30"] else
                                            "middle" if expected < cutoffs["p60"] else "tail")


def test_buckets_follow_the_cutoffs_and_unmodelled_languages_get_nulls(model_dir, tmp_path):
    (tmp_path / "en.arpa").write_bytes((model_dir / "en.arpa").read_bytes())
    stage = PerplexityStage(PerplexityConfig(model_dir=str(tmp_path)))
    docs = ["The farmer sold the beans near the river.", "The farmer sold the river near the beans.",
            "Zebra quantum ferns oscillate wildly."]
    perplexities = [stage.measure({"text": text, "lang": "en"})["perplexity"] for text in docs]
    assert perplexities[0] < perplexities[1] < perplexities[2]
    assert stage.measure({"text": docs[0], "lang": "en"})["perplexity_bucket"] is None  # no cutoffs.json
    (tmp_path / "cutoffs.json").write_text(json.dumps({"en": {"p30": perplexities[1], "p60": perplexities[2]}}))
    stage = PerplexityStage(PerplexityConfig(model_dir=str(tmp_path)))
    assert [stage.measure({"text": text, "lang": "en"})["perplexity_bucket"] for text in docs] == [
        "head", "middle", "tail"]
    for doc in [{"text": docs[0], "lang": "fr"}, {"text": docs[0], "lang": None}, {"text": docs[0]},
                {"text": " \n\n", "lang": "en"}]:
        assert stage.measure(doc) == {"perplexity": None, "perplexity_bucket": None}


def test_a_missing_model_folder_fails_when_the_stage_is_built(tmp_path):
    with pytest.raises(ValueError, match="perplexity.model_dir"):
        PerplexityStage(PerplexityConfig())
    with pytest.raises(FileNotFoundError, match="not a folder"):
        PerplexityStage(PerplexityConfig(model_dir=str(tmp_path / "absent")))
    with pytest.raises(FileNotFoundError, match="no <lang>.arpa"):
        PerplexityStage(PerplexityConfig(model_dir=str(tmp_path)))


def test_the_model_loads_once_per_process_and_stays_out_of_pickles(model_dir):
    stage = PerplexityStage(PerplexityConfig(model_dir=str(model_dir)))
    doc = {"text": "The farmer sold the beans.", "lang": "en"}
    signals = stage.measure(doc)
    assert stage.model("en") is stage.model("en") and stage.model("de") is None
    copy = pickle.loads(pickle.dumps(stage))
    assert "_loaded_models" not in copy.__dict__ and copy.measure(doc) == signals


def chain_rows(config, docs: list[dict]) -> list[dict]:
    stage = PerplexityStage(config.perplexity)
    schema = output_schema(config)
    rows = [{"id": str(i), "text": doc["text"], "drop_reason": None, "lang": doc["lang"]} for i, doc in enumerate(docs)]
    batch = pa.RecordBatch.from_pylist(rows, schema=pa.schema([schema.field(n) for n in rows[0]]))
    return next(chain_batches([stage], schema)(iter([batch]))).to_pylist()


STAGES = "pipeline.stages=['extract','langid','perplexity']"


def test_the_threshold_drops_above_it_per_language_and_never_an_unmodelled_document(model_dir):
    good, odd = "The farmer sold the beans near the river.", "Zebra quantum ferns oscillate wildly."
    stage = PerplexityStage(PerplexityConfig(model_dir=str(model_dir)))
    low, high = (stage.measure({"text": text, "lang": "en"})["perplexity"] for text in (good, odd))
    docs = [{"text": good, "lang": "en"}, {"text": odd, "lang": "en"}, {"text": odd, "lang": "fr"}]
    annotate = load_config(None, [STAGES, f"perplexity.model_dir='{model_dir}'"])
    assert annotate.perplexity.max_perplexity == {}
    assert [row["drop_reason"] for row in chain_rows(annotate, docs)] == [None, None, None]
    middle = (low + high) / 2
    for table in [f"{{default = {middle}}}", f"{{en = {middle}}}"]:
        config = load_config(None, [STAGES, f"perplexity.model_dir='{model_dir}'",
                                    f"perplexity.max_perplexity={table}"])
        rows = chain_rows(config, docs)
        assert [row["drop_reason"] for row in rows] == [None, "perplexity:above_threshold", None]
        assert rows[1]["perplexity"] == pytest.approx(high, rel=1e-12) and rows[2]["perplexity"] is None
    config = load_config(None, [STAGES, f"perplexity.model_dir='{model_dir}'",
                                f"perplexity.max_perplexity={{de = {low / 2}}}"])  # only German has a limit
    assert [row["drop_reason"] for row in chain_rows(config, docs)] == [None, None, None]
    assert "perplexity" not in load_config(None, []).pipeline.stages  # opt-in


def corpus_docs() -> list[dict]:
    english = reference_documents()
    return [{"id": "good", "text": english[3] + "\n" + english[4]},
            {"id": "odd", "text": "Yesterday the government announced a new policy about public transport and "
                                   "higher taxes for everyone."},
            {"id": "french", "text": "Le boulanger a vendu trois paniers de pommes près de la rivière ce matin."}]


def run_config(model_dir, limit: float) -> list[str]:
    return [STAGES, "langid.languages=['en','fr']", f"perplexity.model_dir='{model_dir}'",
            f"perplexity.max_perplexity={{default = {limit}}}"]


def run_in_process(model_dir, tmp_path) -> tuple[str, list[str], dict[str, dict], float, float]:
    """(input path, --set items, rows by id, perplexity of "good" and of "odd") of a run_stages run."""
    source = tmp_path / "docs.jsonl"
    source.write_text("".join(json.dumps(doc) + "\n" for doc in corpus_docs()), encoding="utf-8")
    stage = PerplexityStage(PerplexityConfig(model_dir=str(model_dir)))
    good, odd = (stage.measure({"text": doc["text"], "lang": "en"})["perplexity"] for doc in corpus_docs()[:2])
    items = run_config(model_dir, (good + odd) / 2)
    out = tmp_path / "in_process"
    assert run_stages.main(["--input", str(source), "--output", str(out),
                            *[arg for item in items for arg in ("--set", item)]]) == 0
    rows = {row["id"]: row for row in pq.read_table(out / "documents.parquet").to_pylist()}
    return str(source), items, rows, good, odd


def test_run_stages_annotates_drops_above_the_threshold_and_leaves_other_languages(model_dir, tmp_path):
    _, _, rows, good, odd = run_in_process(model_dir, tmp_path)
    assert {key: (rows[key]["lang"], rows[key]["drop_reason"]) for key in rows} == {
        "good": ("en", None), "odd": ("en", "perplexity:above_threshold"), "french": ("fr", None)}
    assert rows["good"]["perplexity"] == pytest.approx(good, rel=1e-12)
    assert rows["odd"]["perplexity"] == pytest.approx(odd, rel=1e-12)
    assert (rows["french"]["perplexity"], rows["french"]["perplexity_bucket"]) == (None, None)


def test_build_corpus_gives_the_same_rows_as_run_stages(model_dir, tmp_path, spark):
    from pipeline.spark.job import build_corpus

    source, items, rows, _, _ = run_in_process(model_dir, tmp_path)
    spark_out = tmp_path / "spark"
    build_corpus(spark, [source], str(spark_out), load_config(None, items))
    spark_rows = read_corpus(spark_out).to_pylist() + pq.read_table(spark_out / "rejected").to_pylist()
    columns = ["id", "lang", "drop_reason", "perplexity", "perplexity_bucket", "text"]
    assert len(spark_rows) == 3 and sorted(tuple(row[c] for c in columns) for row in spark_rows) == sorted(
        tuple(row[c] for c in columns) for row in rows.values())


def test_statistics_and_report_read_the_rule_from_its_declaration(model_dir):
    base = [STAGES, f"perplexity.model_dir='{model_dir}'"]
    entries = [(reason, rule) for reason, rule in decision_rules(load_config(None, base + [
        "perplexity.max_perplexity={default = 900.0, de = 700.0}"])) if reason.startswith("perplexity:")]
    assert [(reason, rule.signal, rule.drops_when, rule.threshold, rule.config_key) for reason, rule in entries] == [
        ("perplexity:above_threshold", "perplexity", ">", 900.0, "perplexity.max_perplexity.default")]
    annotate_only = [(reason, rule) for reason, rule in decision_rules(load_config(None, base))
                     if reason.startswith("perplexity:")]
    assert annotate_only == [("perplexity:above_threshold", None)]
