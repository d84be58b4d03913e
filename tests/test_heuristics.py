"""Heuristic filters: each rule tripped by a minimal document, exact signals, and datatrove agreement."""
from __future__ import annotations

import dataclasses
from typing import Any

import pyarrow as pa
import pytest

from filters.heuristics.badwords import BadWordsConfig
from filters.heuristics.c4 import C4Config, c4_clean
from filters.heuristics.fineweb import FineWebConfig
from filters.heuristics.gopher_quality import GopherQualityConfig
from filters.heuristics.gopher_repetition import GopherRepetitionConfig, gopher_repetition_signals
from filters.heuristics.stage import HeuristicsConfig, HeuristicsStage
from filters.text import count_sentences, split_words
from pipeline.schema import document_schema
from pipeline.stages import chain_batches

# Six distinct sentences, one per line: passes every rule with the default settings.
BASE_LINES = [
    "The library opened a new reading room on the north side of the old town hall.",
    "Volunteers spent three weekends painting the walls and building wooden shelves.",
    "Local schools donated books about science, history and poetry to the collection.",
    "Visitors can borrow up to five titles at once with a free membership card.",
    "The room stays open late on Thursdays so that working families have time to visit.",
    "Next spring the staff plans a series of talks with writers from the region.",
]
BASE = "\n".join(BASE_LINES)
FAMILIES = ("c4", "gopher_quality", "gopher_repetition", "fineweb", "badwords")
LANG = pa.field("lang", pa.string())


def config(family: str | None = None, **overrides: Any) -> HeuristicsConfig:
    """Default config; with `family`, only that family is on and `overrides` go to its block."""
    if family is None:
        return HeuristicsConfig()
    blocks = {
        "c4": C4Config, "gopher_quality": GopherQualityConfig, "gopher_repetition": GopherRepetitionConfig,
        "fineweb": FineWebConfig, "badwords": BadWordsConfig,
    }
    values = {name: cls(enabled=False) for name, cls in blocks.items() if name != family}
    values[family] = blocks[family](**overrides)
    return HeuristicsConfig(**values)


def run(stage: HeuristicsStage, docs: list[dict[str, Any]], compute_all_signals: bool = False) -> list[dict]:
    """Apply the stage through the real adapter; returns the output rows."""
    schema = document_schema([LANG, *stage.fields])
    rows = [{"id": f"doc-{i}", "drop_reason": None, **doc} for i, doc in enumerate(docs)]
    batch = pa.RecordBatch.from_pylist(rows, schema=schema)
    out = list(chain_batches([stage], schema, compute_all_signals)(iter([batch])))
    return [row for b in out for row in b.to_pylist()]


def reason(text: str | None, cfg: HeuristicsConfig | None = None, lang: str | None = None) -> str | None:
    return run(HeuristicsStage(cfg or HeuristicsConfig()), [{"text": text, "lang": lang}])[0]["drop_reason"]


def test_base_document_passes_every_rule():
    assert reason(BASE) is None


# ------------------------------------------------------------------------ one minimal document per rule

SENTS = [line for line in BASE_LINES]
REPEAT_10 = "the small bakery on the corner sells fresh bread every morning"  # 11 words



def NEXT(rule: str) -> str:  # noqa: N802 - reads as a table entry
    return f"heuristics:gopher_{rule}_char_frac_too_high"


# (rule, family, text, overrides that let the earlier rules of the family pass, override relaxing the rule,
#  [the decision once the rule is relaxed: None, or the next repetition rule where one text trips several])
RULE_CASES = [
    ("c4_lorem_ipsum", "c4", BASE + "\nLorem ipsum dolor sit amet, consectetur adipiscing elit.", {},
     {"drop_lorem_ipsum": False}),
    ("c4_curly_bracket", "c4", BASE + "\nThe page template greets each reader with {name} today.", {},
     {"drop_curly_bracket": False}),
    ("c4_too_few_sentences", "c4", "\n".join(BASE_LINES[:4]), {}, {"min_sentences": 4}),
    ("gopher_too_few_words", "gopher_quality", "The cat and the dog sat with me.", {}, {"min_words": 8}),
    ("gopher_too_many_words", "gopher_quality", BASE, {"max_words": 81}, {"max_words": 82}),
    ("gopher_mean_word_length_out_of_range", "gopher_quality", "It is an ox and the ox is with me.",
     {"min_words": 1}, {"min_mean_word_length": {"default": 2.4}}),
    ("gopher_symbol_ratio_too_high", "gopher_quality",
     BASE + "\n" + " ".join(f"#{w}" for w in "news books town hall room talks art poems maps kids film jazz".split()),
     {}, {"max_symbol_to_word_ratio": 0.2}),
    ("gopher_bullet_lines_frac_too_high", "gopher_quality", "\n".join(f"- {s}" for s in BASE_LINES), {},
     {"max_bullet_lines_frac": 1.0}),
    ("gopher_ellipsis_lines_frac_too_high", "gopher_quality",
     "\n".join(s[:-1] + "..." if i < 2 else s for i, s in enumerate(BASE_LINES)), {},
     {"max_ellipsis_lines_frac": 1 / 3}),
    ("gopher_alpha_words_frac_too_low", "gopher_quality",
     BASE + "\n" + " ".join(str(i) for i in range(1, 21)) + ".", {}, {"min_alpha_words_frac": 0.7}),
    ("gopher_too_few_stop_words", "gopher_quality",
     "Volunteers spent three weekends painting walls in our new reading room.\n"
     "Local schools donated books about science, history or poetry for its collection.\n"
     "Visitors can borrow up from five titles at once using a free membership card.\n"
     "This room stays open late on Thursdays so working families find time for visits.\n"
     "Next spring our staff plans a series about talks by writers from this region.\n"
     "Everyone in town is welcome at the opening party.",
     {}, {"min_stop_words": 1}),
    ("gopher_dup_para_frac_too_high", "gopher_repetition",
     "\n\n".join(["\n".join(BASE_LINES[0:3]), "See you soon.", "\n".join(BASE_LINES[3:6]), "See you soon.",
                  "See you soon."]), {}, {"max_dup_para_frac": 0.5}),
    ("gopher_dup_para_char_frac_too_high", "gopher_repetition",
     "\n\n".join([BASE_LINES[0], BASE_LINES[1], BASE_LINES[2], BASE_LINES[0]]), {},
     {"max_dup_para_char_frac": 0.3, "max_dup_line_char_frac": 0.3}, NEXT("dup_5gram")),
    ("gopher_dup_line_frac_too_high", "gopher_repetition",
     "\n".join(BASE_LINES[:3] + ["Yes."] * 4 + BASE_LINES[3:5]), {}, {"max_dup_line_frac": 0.5}),
    ("gopher_dup_line_char_frac_too_high", "gopher_repetition", "\n".join(BASE_LINES[:3] + BASE_LINES[:1]),
     {}, {"max_dup_line_char_frac": 0.3}, NEXT("dup_5gram")),
    ("gopher_top_2gram_char_frac_too_high", "gopher_repetition", "New York New York New York", {},
     {"max_top_2gram_char_frac": 1.0}, NEXT("top_3gram")),
    ("gopher_top_3gram_char_frac_too_high", "gopher_repetition", "New York City New York City New York City",
     {"max_top_2gram_char_frac": 1.0}, {"max_top_3gram_char_frac": 1.0}, NEXT("top_4gram")),
    ("gopher_top_4gram_char_frac_too_high", "gopher_repetition",
     f"{REPEAT_10} and {REPEAT_10}", {"max_top_2gram_char_frac": 1.0, "max_top_3gram_char_frac": 1.0},
     {"max_top_4gram_char_frac": 1.0}, NEXT("dup_5gram")),
    *[
        (f"gopher_dup_{n}gram_char_frac_too_high", "gopher_repetition", f"{REPEAT_10} and {REPEAT_10}",
         {"max_top_2gram_char_frac": 1.0, "max_top_3gram_char_frac": 1.0, "max_top_4gram_char_frac": 1.0,
          **{f"max_dup_{m}gram_char_frac": 1.0 for m in range(5, n)}},
         {f"max_dup_{n}gram_char_frac": 1.0}, NEXT(f"dup_{n + 1}gram") if n < 10 else None)
        for n in range(5, 11)
    ],
    ("fineweb_line_punct_ratio_too_low", "fineweb", "\n".join(s[:-1] for s in BASE_LINES), {},
     {"min_line_punct_ratio": 0.0}),
    ("fineweb_short_line_ratio_too_high", "fineweb",
     "The cat sat on the mat.\nA dog ran in the park.\nBirds sing in the trees.", {},
     {"max_short_line_ratio": 1.0}),
    ("fineweb_char_dup_ratio_too_high", "fineweb", BASE + "\n" + BASE_LINES[2], {}, {"max_char_dup_ratio": 0.2}),
    ("fineweb_newline_word_ratio_too_high", "fineweb",
     "\n".join(f"{'x' * 35}{chr(97 + i)}." for i in range(6)), {}, {"max_newline_to_word_ratio": 0.5}),
]


@pytest.mark.parametrize("case", RULE_CASES, ids=[c[0] for c in RULE_CASES])
def test_rule_trips_exactly(case):
    rule, family, text, setup, relax = case[:5]
    after = case[5] if len(case) > 5 else None
    assert reason(text, config(family, **setup)) == f"heuristics:{rule}"
    # Relaxing this one rule changes the decision: the document passes (or, for texts that repeat, the
    # next repetition rule in the fixed order is the first one it fails).
    assert reason(text, config(family, **{**setup, **relax})) == after


@pytest.mark.parametrize("family", ["c4", "gopher_quality", "gopher_repetition", "fineweb", "badwords"])
def test_base_passes_each_family_alone(family):
    assert reason(BASE, config(family)) is None


def test_mean_word_length_too_long_is_the_same_rule():
    text = "Internationalization characteristically overcomplicates bureaucratic documentation."
    cfg = config("gopher_quality", min_words=1, min_stop_words=0)
    assert reason(text, cfg) == "heuristics:gopher_mean_word_length_out_of_range"
    relaxed = config("gopher_quality", min_words=1, min_stop_words=0, max_mean_word_length={"default": 20.0})
    assert reason(text, relaxed) is None


def test_ellipsis_counts_in_symbol_ratio():
    text = BASE + "\n" + " ".join(["wait…"] * 12)
    assert reason(text, config("gopher_quality", max_ellipsis_lines_frac=1.0)) == (
        "heuristics:gopher_symbol_ratio_too_high"
    )


def test_empty_text_is_named():
    for text in ("", None, "  \n\t\n "):
        assert reason(text) == "heuristics:empty_text"
        assert reason(text, config("fineweb")) == "heuristics:empty_text"


def test_c4_cleanup_that_empties_the_text_is_c4s_drop():
    assert reason("Menu\nHome\nContact") == "heuristics:c4_too_few_sentences"


def test_badwords(tmp_path):
    words = tmp_path / "words.txt"
    words.write_text("# test list\nbadword\ntwo words\nb@d\n", encoding="utf-8")
    cfg = config("badwords", list_paths={"default": (str(words),)})
    rows = run(HeuristicsStage(cfg), [
        {"text": "A BadWord, two  words? No: two words. badwords and b@d."},
        {"text": "Nothing to see; badwordy is a longer word."},
    ])
    # Whole words only, case-insensitive; "two  words" has two spaces and does not match.
    assert [r["badwords_count"] for r in rows] == [3, 0]
    assert [r["drop_reason"] for r in rows] == ["heuristics:badwords_count_too_high", None]
    assert reason("a badword here.", config("badwords", list_paths={"default": (str(words),)}, max_badwords=1)) is None


def test_badwords_default_english_list_and_languages_without_list():
    cfg = config("badwords", list_paths={"default": ("badwords/en.txt",), "de": ()})
    assert reason("This page is about porn.", cfg) == "heuristics:badwords_count_too_high"
    rows = run(HeuristicsStage(cfg), [{"text": "This page is about porn.", "lang": "de"}])
    assert rows[0]["badwords_count"] is None and rows[0]["drop_reason"] is None


def test_badwords_substring_match_for_character_based_languages(tmp_path):
    words = tmp_path / "zh.txt"
    words.write_text("坏词\n", encoding="utf-8")
    cfg = config("badwords", list_paths={"default": (), "zh": (str(words),)})
    rows = run(HeuristicsStage(cfg), [{"text": "这是一个坏词的例子，坏词。", "lang": "zh"}])
    assert rows[0]["badwords_count"] == 2


def test_missing_list_file_fails_at_construction(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.txt"):
        HeuristicsStage(config("badwords", list_paths={"default": (str(tmp_path / "nope.txt"),)}))


def test_per_language_table_needs_default():
    with pytest.raises(ValueError, match="stop_words"):
        HeuristicsStage(config("gopher_quality", stop_words={"en": ("the",)}))


# ------------------------------------------------------------------------ exact signals by hand


def test_gopher_quality_signals_by_hand():
    text = "The cat sat. The dog ran!\n# ..."
    # tokens: The cat sat . The dog ran ! # ...  -> 10 tokens, 6 with a letter, 6 non-symbol words
    row = run(HeuristicsStage(config("gopher_quality")), [{"text": text}])[0]
    assert split_words(text) == ["The", "cat", "sat", ".", "The", "dog", "ran", "!", "#", "..."]
    assert row["gopher_word_count"] == 6
    assert row["gopher_mean_word_length"] == 3.0
    assert row["gopher_symbol_word_ratio"] == 1 / 10  # one "#" and one "..." per 10 tokens
    assert row["gopher_bullet_lines_frac"] == 0.0
    assert row["gopher_ellipsis_lines_frac"] == 1 / 2
    assert row["gopher_alpha_words_frac"] == 6 / 10
    assert row["gopher_stop_word_count"] == 0  # "The" is not "the": Gopher's check is case-sensitive


def test_gopher_repetition_signals_by_hand():
    text = "a b\na b\nc d"  # 11 characters
    row = run(HeuristicsStage(config("gopher_repetition")), [{"text": text}])[0]
    assert row["gopher_dup_para_frac"] == 0.0
    assert row["gopher_dup_line_frac"] == 1 / 3
    assert row["gopher_dup_line_char_frac"] == 3 / 11
    assert row["gopher_top_2gram_char_frac"] == 2 * 3 / 11  # "a b" twice
    assert row["gopher_top_3gram_char_frac"] == 5 / 11  # all once: the first, "a b a"
    assert row["gopher_top_4gram_char_frac"] == 7 / 11
    assert row["gopher_dup_5gram_char_frac"] == 0.0
    # words: x y z x y z x y z -> 5-grams: xyzxy yzxyz zxyzx xyzxy(dup: 5 chars, jump 5)
    row = run(HeuristicsStage(config("gopher_repetition")), [{"text": "x y z x y z x y z"}])[0]
    assert row["gopher_dup_5gram_char_frac"] == 5 / 17


def test_fineweb_signals_by_hand():
    text = "First line ends here.\nshort\n\nFirst line ends here.\nno punctuation at the end of this one"
    row = run(HeuristicsStage(config("fineweb")), [{"text": text}])[0]
    assert row["fineweb_line_punct_ratio"] == 2 / 4
    assert row["fineweb_short_line_ratio"] == 3 / 4  # 21, 5, 21 characters <= 30
    assert row["fineweb_char_dup_ratio"] == 21 / (len(text) - 4)
    assert row["fineweb_newline_word_ratio"] == 4 / len(split_words(text))


def test_c4_line_cleanup_rewrites_text():
    text = (
        "Home\n"  # too few words, no punctuation
        "This sentence has a footnote[1] and an edit link.[edit]\n"
        "Please enable JavaScript to view the comments.\n"
        "We use cookies. Read our privacy policy.\n"
        "Is this a question?\n"
        "A line with a " + "x" * 1001 + " word.\n"
        "\n"
        "She said \"stop.\" Then she left! It was late."
    )
    row = run(HeuristicsStage(config("c4", min_sentences=0)), [{"text": text}])[0]
    assert row["text"] == (
        "This sentence has a footnote and an edit link.\nIs this a question?\n"
        "She said \"stop.\" Then she left! It was late."
    )
    assert row["c4_lines_removed"] == 4
    assert row["c4_sentence_count"] == 1 + 1 + 3
    assert row["c4_has_lorem_ipsum"] is False and row["c4_has_curly_bracket"] is False


def test_sentence_counter_like_spacy():
    assert count_sentences("Mr. Smith went to Washington. He said: \"Hi.\" Then (he left).") == 3
    assert count_sentences("The U.S. economy grew 3.5 percent. Wow...") == 2
    assert count_sentences("") == 0


def test_later_families_measure_the_c4_cleaned_text():
    text = BASE + "\nHome\nMenu"
    row = run(HeuristicsStage(config()), [{"text": text}])[0]
    assert row["text"] == BASE and row["c4_lines_removed"] == 2
    assert row["fineweb_line_punct_ratio"] == 1.0  # the two menu lines are gone before FineWeb measures


def test_disabled_family_writes_nulls_and_never_decides():
    row = run(HeuristicsStage(config("fineweb")), [{"text": "tiny"}])[0]
    assert row["gopher_word_count"] is None and row["c4_sentence_count"] is None
    assert row["text"] == "tiny"  # C4 off: text untouched


def test_compute_all_signals_measures_dropped_rows_without_changing_their_reason():
    stage = HeuristicsStage()
    schema = document_schema([LANG, *stage.fields])
    batch = pa.RecordBatch.from_pylist(
        [{"id": "a", "text": BASE, "drop_reason": "langid:below_threshold"}, {"id": "b", "text": None,
                                                                             "drop_reason": "x:y"}],
        schema=schema,
    )
    rows = list(chain_batches([stage], schema, compute_all_signals=True)(iter([batch])))[0].to_pylist()
    assert rows[0]["drop_reason"] == "langid:below_threshold" and rows[0]["gopher_word_count"] == 82
    assert rows[1]["gopher_word_count"] == 0
    rows = list(chain_batches([stage], schema, compute_all_signals=False)(iter([batch])))[0].to_pylist()
    assert rows[0]["gopher_word_count"] is None


# ------------------------------------------------------------------------ languages


def test_chinese_word_count_is_character_based_and_uses_chinese_settings():
    text = "今天天气很好，我们去公园散步。" * 8  # 13 Han characters + 2 punctuation marks per sentence
    row = run(HeuristicsStage(config("gopher_quality")), [{"text": text, "lang": "zh"}])[0]
    assert row["gopher_word_count"] == round(13 * 8 / 1.5)
    assert row["gopher_mean_word_length"] == pytest.approx(1.5)
    # Chinese: no stop-word list and a relaxed word-length floor, so the document passes...
    assert row["drop_reason"] is None
    # ...while the same text without a language falls back to the English "default" settings, where
    # (as with spaCy's English tokenizer) a run of text without spaces is one word.
    row = run(HeuristicsStage(config("gopher_quality")), [{"text": text}])[0]
    assert row["gopher_word_count"] == 1 and row["drop_reason"] == "heuristics:gopher_too_few_words"


def test_thai_uses_its_characters_per_word():
    text = "ภาษาไทยเป็นภาษาที่สวยงาม " * 10
    row = run(HeuristicsStage(config("gopher_quality", min_words=1)), [{"text": text, "lang": "th"}])[0]
    thai_chars = len("ภาษาไทยเป็นภาษาที่สวยงาม") * 10
    assert row["gopher_word_count"] == round(thai_chars / 4.0)


def test_config_is_frozen_and_its_field_types_are_the_allowed_ones():
    allowed = {"bool", "int", "float", "str", "str | None", "tuple[str, ...]", "dict[str, float]",
               "dict[str, tuple[str, ...]]"}
    for cls in (HeuristicsConfig, C4Config, GopherQualityConfig, GopherRepetitionConfig, FineWebConfig,
                BadWordsConfig):
        assert cls.__dataclass_params__.frozen
        for f in dataclasses.fields(cls):
            assert f.type in allowed or f.type.endswith("Config"), (cls.__name__, f.name, f.type)


def test_stage_pickles_without_loaded_lists():
    import pickle

    stage = HeuristicsStage()
    run(stage, [{"text": BASE}])
    assert "_loaded_badwords" in stage.__dict__
    clone = pickle.loads(pickle.dumps(stage))
    assert "_loaded_badwords" not in clone.__dict__
    assert run(clone, [{"text": BASE}])[0]["drop_reason"] is None


# ------------------------------------------------------------------------ agreement with datatrove

AGREEMENT_DOCS = [
    BASE,
    "\n".join(BASE_LINES * 2),
    "\n".join(BASE_LINES[:4]),
    "\n".join(s[:-1] for s in BASE_LINES),
    BASE + "\nLorem ipsum dolor sit amet, consectetur adipiscing elit.",
    BASE + "\nThe template greets each reader with {name} today.",
    "\n".join(f"- {s}" for s in BASE_LINES),
    BASE + "\n" + " ".join(str(i) for i in range(1, 21)) + ".",
    "Home\nAbout us\nContact\nShop\nCart\nLogin",
    f"{REPEAT_10} and {REPEAT_10}. " * 3,
    "It's a don't-miss event: the U.S. team (led by Mr. Smith) won 3-1 at 10:30 p.m. on e-mail...\n" + BASE,
]


@pytest.mark.parametrize("index", range(len(AGREEMENT_DOCS)))
def test_decisions_agree_with_datatrove(index):
    pytest.importorskip("datatrove")
    pytest.importorskip("spacy")  # datatrove's English word tokenizer
    from datatrove.data import Document
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
    )

    text = AGREEMENT_DOCS[index]
    theirs = {
        "c4": C4QualityFilter(),
        "gopher_quality": GopherQualityFilter(),
        "gopher_repetition": GopherRepetitionFilter(),
        "fineweb": FineWebQualityFilter(),
    }
    for family, filter_ in theirs.items():
        result = filter_.filter(Document(text=text, id="x"))
        datatrove_keeps = result is True or (not isinstance(result, tuple) and bool(result))
        ours = reason(text, config(family))
        assert (ours is None) == datatrove_keeps, (family, ours, result)


def _dup_chars_by_string_scan(words: list[str], n: int) -> int:
    """Gopher's duplicated n-gram characters written the plain way (tuples of words, every position)."""
    seen: set[tuple[str, ...]] = set()
    total = i = 0
    while i < len(words) - n + 1:
        gram = tuple(words[i : i + n])
        if gram in seen:
            total += sum(map(len, gram))
            i += n
        else:
            seen.add(gram)
            i += 1
    return total


def test_dup_ngram_fractions_match_a_plain_scan():
    import random


    rng = random.Random(7)
    for trial in range(40):
        vocabulary = ["a", "bb", "ccc", "dddd", "e"][: 2 + trial % 4]
        words = [rng.choice(vocabulary) for _ in range(rng.randint(0, 60))]
        text = " ".join(words) or "x"
        signals = gopher_repetition_signals(text, words)
        for n in range(5, 11):
            assert signals[f"gopher_dup_{n}gram_char_frac"] == _dup_chars_by_string_scan(words, n) / len(text)


def test_top_ngram_matches_counter_most_common():
    import random
    from collections import Counter


    rng = random.Random(3)
    for _ in range(40):
        words = [rng.choice(["a", "bb", "ccc", "dd"]) for _ in range(rng.randint(2, 30))]
        text = " ".join(words)
        signals = gopher_repetition_signals(text, words)
        for n in (2, 3, 4):
            grams = [" ".join(words[i : i + n]) for i in range(len(words) - n + 1)]
            expected = 0.0
            if grams:
                gram, count = Counter(grams).most_common(1)[0]  # ties: first seen, as datatrove
                expected = len(gram) * count / len(text)
            assert signals[f"gopher_top_{n}gram_char_frac"] == expected


@pytest.mark.parametrize("text", [
    "It's 3.5 km -- e-mail me at a@b.com (ok) #tag 'quoted' U.S.A. http://x.y/z?q=1",
    "Mr. Smith, Dr. Who... plan A. end.Next example.com. 3.5. snake_case __x__ /clone @user don’t",
    "¿Qué? -Poco- «hola» “quotes” dogs' O'Neill 1,000 12:30 5-6 x²",
    "हिन्दी भाषा। ไทย 中文，日本語。",
])
def test_split_words_fast_paths_change_nothing(text):
    from filters.text import patterns

    slow: list[str] = []
    for chunk in text.split():
        patterns().tokenize_chunk(chunk, slow)
    assert split_words(text) == slow


def test_split_words_examples():
    assert split_words("Don't stop: the U.S. e-mail (v2.0) costs $3.50... dont cannot it's") == [
        "Do", "n't", "stop", ":", "the", "U.S.", "e", "-", "mail", "(", "v2.0", ")", "costs", "$", "3.50", "...",
        "do", "nt", "can", "not", "it", "'s",
    ]
    # Like spaCy, only affixes and a few infixes split a whitespace chunk.
    assert split_words("yesterday.--A read:-- •item -Poco 1,000 x-6 5-6 end.Next a/b Mr. A.") == [
        "yesterday.--A", "read:--", "•item", "-Poco", "1,000", "x-6", "5", "-", "6", "end", ".", "Next", "a", "/",
        "b", "Mr.", "A.",
    ]
    assert split_words("हिन्दी भाषा") == ["हिन्दी", "भाषा"]  # vowel signs stay inside words
    assert split_words("中文字", char_based=True) == ["中", "文", "字"]


CHINESE_ARTICLE = "\n".join(
    "今天早上我们在河边的公园里散步，看见很多老人在练太极拳，孩子们在草地上放风筝。" * 2 for _ in range(6)
)
GERMAN_ARTICLE = "\n".join(
    "Im Frühling gehen wir jeden Morgen mit dem Hund an den Fluss, und die Kinder sammeln Steine für den Garten."
    for _ in range(8)
)


@pytest.mark.parametrize("text", [
    "  [1] Cited first.  The U.S. grew 3.5 percent (he said).\n\nA javascript line is removed here today.\n"
    "   Mr. Smith went to Washington \"Hi.\" Then left, [edit] again and again.  ",
    "One line only, with e-mail a@b.example and https://x.example/y?z=1 inside it...",
    "",
])
def test_c4_tokens_are_the_kept_texts_tokens(text):
    # the Gopher and FineWeb signals take their words from c4_clean's line-by-line tokens, not from a second
    # tokenization of the cleaned text: the two must agree token for token
    cleaned, _, tokens = c4_clean(text, C4Config(min_words_per_line=3))
    assert tokens == split_words(cleaned) and (tokens != []) == bool(cleaned.strip())


def test_c4_keeps_chinese_lines_ending_in_a_full_width_stop():
    text, signals, _ = c4_clean(CHINESE_ARTICLE, C4Config(), chars_per_word=1.5)
    assert signals["c4_lines_removed"] == 0 and text == CHINESE_ARTICLE
    # Without the CJK terminators (C4's own five), every line goes.
    _, ascii_only, _ = c4_clean(CHINESE_ARTICLE, C4Config(line_endings=(".", "?", "!", '"', "'")), chars_per_word=1.5)
    assert ascii_only["c4_lines_removed"] == 6


def test_german_text_is_judged_with_german_stop_words():
    only_gopher_quality = config("gopher_quality")
    assert reason(GERMAN_ARTICLE, only_gopher_quality, lang="de") is None
    # The same text against the English fallback list has none of its stop words.
    assert reason(GERMAN_ARTICLE, only_gopher_quality, lang="xx") == "heuristics:gopher_too_few_stop_words"
