"""The `decontam` stage (filters/decontam.py): benchmark items the test writes itself, found verbatim, re-wrapped,
re-cased and with doubled spaces inside long unrelated text; near misses kept; short texts skipped; cut mode's
text computed by hand; the eval file formats; the stage through run_stages and on Spark with identical rows."""
from __future__ import annotations

import gzip
import json
import pickle
import textwrap
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from filters.decontam import (
    PIECE_SEPARATOR, DecontamConfig, DecontamStage, build_index, normalized_tokens, normalized_words,
)
from jobs import run_stages
from pipeline.config import load_config
from pipeline.corpus import build_stages
from pipeline.stats.rules import all_rules, decision_rules
from pipeline.toml_config import ConfigError
from tests.conftest import read_corpus

# Benchmark-like items: a word problem, a code prompt (20 words once punctuation-only tokens go), a multiple
# choice question whose choices and answer are too short to match, a 9-word item matched whole, a 7-word one.
TRAIN = ("A train leaves the station at nine in the morning and travels at sixty miles per hour toward the coast. "
         "How far has it gone by noon?")  # 27 words: 15 13-grams
CODE = ('def count_vowels(word: str) -> int:\n    """Return how many vowels the given word holds, counting y only at '
        'the end.\n    >>> count_vowels("happy")\n    2\n    """')
CODE_WORDS = 20  # def countvowelsword str int return how many vowels the given word holds counting y only at the end
# countvowelshappy 2 ("->", ">>>" and '"""' are punctuation only)
PLANTS = "Which gas do green plants take in from the air to make their food during photosynthesis?"  # 16 words
CHOICES = ["carbon dioxide", "oxygen", "nitrogen", "helium"]
PLANET = "Name the largest planet in our solar system today"  # 9 words: matched whole
CAPITAL = "Paris is the capital city of France"  # 7 words: skipped
ITEMS = [{"question": TRAIN, "answer": "180 miles"}, {"prompt": CODE, "canonical_solution": "    return 2\n"},
         {"question": PLANTS, "choices": CHOICES, "answer": "carbon dioxide"},
         {"question": PLANET, "answer": "Jupiter"}, {"question": CAPITAL}]
# Long unrelated text, in words no item uses, so no window across an item's edge can match.
FILLER_WORDS = "compost mulch trellis seedling cedar harvest basil shovel drizzle orchard beetroot pruning".split()
UNIT = "compost mulch trellis "  # 22 characters
STAGES = "pipeline.stages=['decontam']"


def filler(words: int, shift: int = 0) -> str:
    return " ".join(FILLER_WORDS[(i * 7 + shift) % len(FILLER_WORDS)] for i in range(words))


def write_jsonl(path: Path, records: list[dict]) -> str:
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def eval_file(tmp_path_factory) -> str:
    return write_jsonl(tmp_path_factory.mktemp("evals") / "mini_bench.jsonl", ITEMS)


@pytest.fixture(scope="module")
def stage(eval_file) -> DecontamStage:
    return DecontamStage(DecontamConfig(eval_paths=(eval_file,)))


def cut_stage(eval_file: str, **settings) -> DecontamStage:
    return DecontamStage(DecontamConfig(eval_paths=(eval_file,), mode="cut", **settings))


def decide(stage: DecontamStage, text: str) -> tuple[str | None, dict]:
    doc = {"id": "d", "text": text, "drop_reason": None}
    doc.update(stage.measure(doc))
    return stage.decide(doc), doc


def test_the_vocabularies_are_disjoint_and_the_word_counts_are_as_written():
    item_words = {w for item in ITEMS for text in item.values() for w in normalized_words(" ".join(
        text if isinstance(text, list) else [text]))}
    assert not item_words & set(FILLER_WORDS)
    assert len(TRAIN.split()) == 27 and len(normalized_words(CODE)) == CODE_WORDS
    assert normalized_words("Hello,  WORLD!\n\tit's a_b -- 42") == ["hello", "world", "its", "ab", "42"]
    assert normalized_words("STRASSE Straße ΟΔΟΣ") == ["strasse", "strasse", "οδοσ"]


@pytest.mark.parametrize("text", ["İstanbul  ΟΔΟΣ,\u00a0naïve\tco-op\n\nx_y ﬁne !!! ", CODE, "a\u2028b\x1cc ... --"])
def test_tokens_with_offsets_are_the_same_words_as_the_fast_path(text):
    tokens = normalized_tokens(text)
    assert [word for _, _, word in tokens] == normalized_words(text)
    assert all(text[start:end].split() == [text[start:end]] for start, end, _ in tokens)


def test_the_set_holds_the_ngrams_and_whole_short_texts_and_counts_the_skipped(stage):
    (summary,) = stage.index.benchmarks
    # texts: TRAIN, "180 miles", CODE, "return 2", PLANTS, 4 choices, "carbon dioxide", PLANET, "Jupiter", CAPITAL
    assert (summary.name, summary.items, summary.texts) == ("mini_bench", 5, 13)
    assert (summary.ngram_texts, summary.whole_texts, summary.skipped_short_texts) == (3, 1, 9)
    assert summary.distinct_hashes == (27 - 12) + (CODE_WORDS - 12) + (16 - 12) + 1
    assert stage.index.sizes == (13, 9)


def variants(item: str) -> dict[str, str]:
    return {"verbatim": item, "rewrapped_60": textwrap.fill(item, width=60), "upper": item.upper(),
            "doubled_spaces": "  ".join(item.split()), "lower_rewrapped": textwrap.fill(item.lower(), width=60)}


@pytest.mark.parametrize("item, windows", [(TRAIN, 15), (CODE, CODE_WORDS - 12), (PLANTS, 4), (PLANET, 1)])
def test_every_item_is_found_in_every_variant_inside_long_unrelated_text(stage, item, windows):
    for kind, variant in variants(item).items():
        reason, doc = decide(stage, filler(1500) + "\n" + variant + "\n" + filler(1500, shift=3))
        assert (reason, doc["decontam_matches"], doc["decontam_benchmarks"]) == \
            ("ngram_overlap", windows, "mini_bench"), kind
        assert doc["decontam_cuts"] is None and "text" not in stage.measure({"text": variant})  # drop mode


def test_near_misses_and_short_texts_are_kept(stage):
    words = TRAIN.split()
    for start in (0, 5, 15):  # exactly 12 consecutive words of the item: no n-gram
        reason, doc = decide(stage, filler(300) + " " + " ".join(words[start:start + 12]) + " " + filler(300, 1))
        assert (reason, doc["decontam_matches"], doc["decontam_benchmarks"]) == (None, 0, None)
    reason, doc = decide(stage, filler(300) + " " + " ".join(words[5:18]) + " " + filler(300, 1))  # 13 words
    assert (reason, doc["decontam_matches"]) == ("ngram_overlap", 1)
    # the 9-word item matches whole, 8 of its words do not; 7-word texts and answers never match
    assert decide(stage, "so " + " ".join(PLANET.split()[:8]) + " so")[1]["decontam_matches"] == 0
    assert decide(stage, "so " + " ".join(PLANET.split()[1:]) + " so")[1]["decontam_matches"] == 0
    for text in (CAPITAL, "carbon dioxide", "Jupiter", "180 miles", filler(50) + " " + CAPITAL):
        assert decide(stage, text) == (None, {"id": "d", "text": text, "drop_reason": None, "decontam_matches": 0,
                                              "decontam_benchmarks": None, "decontam_cuts": None})


def test_cut_mode_removes_the_span_and_margins_by_hand_arithmetic(tmp_path):
    path = write_jsonl(tmp_path / "fox.jsonl", [{"text": "red fox jumps"}])
    small = cut_stage(path, ngram_size=3, min_item_words=3, cut_margin_chars=4, min_piece_chars=5)
    text = "one two three four. The Red  fox, JUMPS! over five six seven eight"
    # the span is "Red  fox, JUMPS!" = text[24:40]; 4 more each side go: text[20:44] = "The Red  fox, JUMPS! ove"
    reason, doc = decide(small, text)
    assert (reason, doc["text"], doc["decontam_cuts"], doc["decontam_matches"]) == \
        (None, "one two three four. \n\nr five six seven eight", 1, 1)
    # the span "RED fox jumps" = [4, 17), widened to [0, 21): nothing before it, "r five six seven eight" after
    reason, doc = decide(small, "The RED fox jumps over five six seven eight")
    assert (reason, doc["text"], doc["decontam_cuts"]) == (None, "r five six seven eight", 1)
    # a piece under min_piece_chars goes too: "ab " (3 characters) before the widened span
    assert decide(small, "ab red fox jumps over five six seven eight")[1]["text"] == "r five six seven eight"


def test_cut_mode_with_the_default_200_characters(eval_file):
    stage = cut_stage(eval_file)
    before, after = UNIT * 23, " " + UNIT * 23  # 506 and 507 characters
    reason, doc = decide(stage, before + TRAIN + after)
    assert (reason, doc["decontam_cuts"]) == (None, 1)
    assert doc["text"] == before[:506 - 200] + PIECE_SEPARATOR + after[200:]
    short_before = UNIT * 16  # 352 characters: 152 left, under 200, dropped
    assert decide(stage, short_before + TRAIN + after)[1]["text"] == after[200:]
    # two items 600 characters apart: two cuts, and the 200 characters between them go too
    between = " " + UNIT * 28 + " "  # 618 characters: 218 left between the cuts
    reason, doc = decide(stage, before + TRAIN + between + PLANET + after)
    assert (reason, doc["decontam_cuts"], doc["text"]) == (
        None, 2, before[:306] + PIECE_SEPARATOR + between[200:-200] + PIECE_SEPARATOR + after[200:])
    # nothing left: dropped, not kept empty
    reason, doc = decide(stage, UNIT + TRAIN + UNIT)
    assert (reason, doc["text"], doc["decontam_cuts"]) == ("all_cut", "", 1)
    # no match: the text is not rewritten
    assert decide(stage, before)[1] == {"id": "d", "text": before, "drop_reason": None, "decontam_matches": 0,
                                             "decontam_benchmarks": None, "decontam_cuts": 0}


def test_more_than_max_cuts_drops_the_document_with_its_text_whole(eval_file):
    stage = cut_stage(eval_file)
    gap = " " + UNIT * 23  # over 2 x 200 characters: the cuts do not merge
    ten = gap.join([UNIT * 23] + [TRAIN] * 10 + [UNIT * 23])
    reason, doc = decide(stage, ten)
    assert (reason, doc["decontam_cuts"], doc["decontam_matches"]) == (None, 10, 150)
    # the first cut starts 200 characters before the first item, the last ends 200 after the last one; the
    # pieces between the items (507 - 400 = 107 characters) are under 200 and go too
    assert doc["text"] == (UNIT * 23 + gap)[:-200] + PIECE_SEPARATOR + (gap + UNIT * 23)[200:]
    eleven = gap.join([UNIT * 23] + [TRAIN] * 11 + [UNIT * 23])
    reason, doc = decide(stage, eleven)
    assert (reason, doc["decontam_cuts"], doc["text"]) == ("too_many_cuts", 11, eleven)
    assert decide(cut_stage(eval_file, max_cuts=11), eleven)[0] is None


def test_jsonl_gz_parquet_and_plain_text_eval_files_name_their_benchmarks(tmp_path):
    with gzip.open(tmp_path / "code.jsonl.gz", "wt", encoding="utf-8") as handle:
        handle.write(json.dumps({"prompt": CODE}) + "\n")
    pq.write_table(pa.table({"question": [PLANTS, "x"], "choices": [CHOICES, [TRAIN]]}), tmp_path / "mc.parquet")
    wrapped = textwrap.fill(PLANET.upper(), width=20)  # one paragraph on three lines: one text
    (tmp_path / "notes.txt").write_text(f"{wrapped}\n\n  \n{TRAIN}\nshort line\n", encoding="utf-8")
    folder = tmp_path / "more"
    folder.mkdir()
    (folder / "README.md").write_text("not an eval file")
    write_jsonl(folder / "again.jsonl", [{"question": TRAIN}])
    stage = DecontamStage(DecontamConfig(eval_paths=(str(tmp_path / "*.jsonl.gz"), str(tmp_path / "mc.parquet"),
                                                     str(tmp_path / "notes.txt"), str(folder))))
    assert [(b.name, b.items, b.texts, b.ngram_texts, b.whole_texts, b.skipped_short_texts)
            for b in stage.index.benchmarks] == [
        ("code", 1, 1, 1, 0, 0), ("mc", 2, 7, 2, 0, 5), ("notes", 2, 2, 1, 1, 0), ("again", 1, 1, 1, 0, 0)]
    assert decide(stage, filler(40) + " " + CODE)[1]["decontam_benchmarks"] == "code"
    assert decide(stage, PLANET)[1]["decontam_benchmarks"] == "notes"
    # TRAIN is in mc (a choice), notes (with "short line" after it, in one paragraph) and again
    found = decide(stage, TRAIN + " " + PLANTS)[1]
    assert (found["decontam_benchmarks"], found["decontam_matches"]) == ("again,mc,notes", 15 + 4)


def test_bad_eval_sets_are_value_errors_naming_the_path(tmp_path, eval_file):
    cases = [((), "decontam.eval_paths is empty"), ((str(tmp_path / "gone.jsonl"),), "gone.jsonl' does not exist"),
             ((str(tmp_path / "*.parquet"),), "matches no"), ((str(tmp_path / "void"),), "holds no")]
    (tmp_path / "void").mkdir()
    (tmp_path / "empty").mkdir()
    write_jsonl(tmp_path / "empty" / "nofields.jsonl", [{"task_id": "x", "body": TRAIN}])
    cases.append(((str(tmp_path / "empty"),), "nofields.jsonl: no item has a field of decontam.text_fields"))
    short = write_jsonl(tmp_path / "short.jsonl", [{"answer": "yes"}])
    cases.append(((short,), "short.jsonl has no text of at least decontam.min_item_words = 8 words"))
    (tmp_path / "bad.jsonl").write_text('{"question": "ok"}\n{oops\n')
    cases.append(((str(tmp_path / "bad.jsonl"),), "bad.jsonl:2: not JSON"))
    (tmp_path / "cut.jsonl.gz").write_bytes(gzip.compress(json.dumps({"question": TRAIN}).encode())[:30])
    cases.append(((str(tmp_path / "cut.jsonl.gz"),), "cut.jsonl.gz: cannot read the eval file"))
    twin = tmp_path / "twin"
    twin.mkdir()
    cases.append(((eval_file, write_jsonl(twin / "mini_bench.jsonl", ITEMS)), "two benchmarks named 'mini_bench'"))
    for paths, message in cases:
        with pytest.raises(ValueError, match=message.replace("*", r"\*")):
            build_index(DecontamConfig(eval_paths=paths))
    with pytest.raises(ConfigError, match="cannot build the stages: .*gone.jsonl' does not exist"):
        build_stages(load_config(None, [STAGES, f"decontam.eval_paths=['{tmp_path}/gone.jsonl']"]))
    with pytest.raises(ConfigError, match="decontam: mode must be one of"):
        load_config(None, ["decontam.mode=remove"])


def test_the_pickled_stage_carries_its_set_and_decides_the_same(stage):
    copy = pickle.loads(pickle.dumps(stage))
    assert (copy.index.hashes == stage.index.hashes).all() and copy.index.hashes.dtype == "uint64"
    text = filler(100) + " " + TRAIN.upper()
    assert copy.measure({"text": text}) == stage.measure({"text": text}) == {
        "decontam_matches": 15, "decontam_benchmarks": "mini_bench", "decontam_cuts": None}


def test_rules_follow_the_mode_into_the_statistics(eval_file):
    drop = load_config(None, [STAGES])
    assert [reason for reason, _ in all_rules(drop) if reason.startswith("decontam:")] == ["decontam:ngram_overlap"]
    cut = load_config(None, [STAGES, "decontam.mode=cut", "decontam.max_cuts=4"])
    assert [reason for reason, _ in all_rules(cut) if reason.startswith("decontam:")] == [
        "decontam:too_many_cuts", "decontam:all_cut"]
    thresholds = [(r.signal, r.drops_when, r.threshold, r.config_key) for _, r in decision_rules(cut)
                  if r is not None and r.reason == "decontam:too_many_cuts"]
    assert thresholds == [("decontam_cuts", ">", 4.0, "decontam.max_cuts")]
    assert "decontam" not in load_config(None, []).pipeline.stages  # opt-in


def corpus_documents(tmp_path: Path) -> tuple[str, dict[str, tuple[str | None, str]]]:
    """A JSONL input and the (reason, text) each of its documents must end with in cut mode."""
    before, after = UNIT * 23, " " + UNIT * 23
    gap = " " + UNIT * 23
    docs = {
        "clean": (filler(400), None, filler(400)),
        "near_miss": (" ".join(TRAIN.split()[:12]) + " " + filler(300), None, None),
        "cut": (before + textwrap.fill(TRAIN.upper(), 60) + after, None, before[:306] + PIECE_SEPARATOR + after[200:]),
        "all_cut": (UNIT + CODE + UNIT, "decontam:all_cut", ""),
        "too_many": (gap.join([before] + [PLANTS] * 11 + [before]), "decontam:too_many_cuts", None),
    }
    path = write_jsonl(tmp_path / "docs.jsonl", [{"id": doc_id, "text": text} for doc_id, (text, _, _) in docs.items()])
    return path, {doc_id: (reason, text if expected is None else expected)
                  for doc_id, (text, reason, expected) in docs.items()}


def run_stages_rows(docs: str, out: Path, eval_file: str, mode: str) -> pa.Table:
    assert run_stages.main(["--stages", "decontam", "--input", docs, "--output", str(out),
                            "--set", f"decontam.eval_paths={json.dumps([eval_file])}",
                            "--set", f"decontam.mode={mode}"]) == 0
    return pq.read_table(out / "documents.parquet").sort_by("id")


def test_run_stages_gives_the_exact_reasons_and_texts(tmp_path, eval_file):
    docs, expected = corpus_documents(tmp_path)
    rows = run_stages_rows(docs, tmp_path / "cut", eval_file, "cut").to_pylist()
    assert {row["id"]: (row["drop_reason"], row["text"]) for row in rows} == expected
    dropped = run_stages_rows(docs, tmp_path / "drop", eval_file, "drop").to_pylist()
    assert {row["id"]: (row["drop_reason"], row["decontam_benchmarks"]) for row in dropped} == {
        "clean": (None, None), "near_miss": (None, None), "cut": ("decontam:ngram_overlap", "mini_bench"),
        "all_cut": ("decontam:ngram_overlap", "mini_bench"), "too_many": ("decontam:ngram_overlap", "mini_bench")}


@pytest.mark.parametrize("mode", ["cut", "drop"])
def test_spark_gives_the_same_rows_as_run_stages(spark, tmp_path, eval_file, mode):
    from pipeline.spark.job import build_corpus

    docs, expected = corpus_documents(tmp_path)
    local = run_stages_rows(docs, tmp_path / "local", eval_file, mode)
    config = load_config(None, [STAGES, f"decontam.eval_paths={json.dumps([eval_file])}", f"decontam.mode={mode}"])
    build_corpus(spark, [docs], str(tmp_path / "spark"), config)
    on_spark = pa.concat_tables([read_corpus(tmp_path / "spark"), pq.read_table(tmp_path / "spark" / "rejected")])
    assert on_spark.num_rows == local.num_rows == 5
    columns = ["id", "text", "drop_reason", "decontam_matches", "decontam_benchmarks", "decontam_cuts"]
    assert on_spark.sort_by("id").select(columns).to_pylist() == local.select(columns).to_pylist()
    if mode == "cut":
        assert {row["id"]: (row["drop_reason"], row["text"]) for row in on_spark.to_pylist()} == expected
