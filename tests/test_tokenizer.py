"""Tokenizer training: the bounded, deterministic sample, exact round trips, reproducible files, the job."""
from __future__ import annotations

import hashlib
import json
import random
import unicodedata

import pytest
from tokenizers import Tokenizer, pre_tokenizers

from jobs import train_tokenizer as job
from testkit.text_corpus import TRICKY_TEXTS, sample_documents, write_corpus
from pipeline.toml_config import load_job_config
from tokenizer.config import TokenizerConfig, TrainTokenizerJobConfig
from tokenizer.train import for_encoding, sample_corpus, train_tokenizer

SMALL = TokenizerConfig(vocab_size=600, heldout_fraction=0.2)


def blake(seed: int, doc_id: str) -> float:
    """The sample priority, computed here independently of tokenizer.corpus."""
    digest = hashlib.blake2b(f"tokenizer-sample\x1f{seed}\x1f{doc_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


@pytest.fixture(scope="module")
def docs():
    return sample_documents()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, docs):
    directory = tmp_path_factory.mktemp("corpus")
    write_corpus(directory, docs)
    return directory


@pytest.fixture(scope="module")
def bpe(docs):
    texts = [d["text"] for d in docs]
    return train_tokenizer(texts, len(texts), SMALL)


def test_sample_is_the_lowest_hash_prefix_that_fits_and_ignores_layout(tmp_path, docs):
    budget = 40_000
    config = TokenizerConfig(sample_bytes=budget, heldout_fraction=0.2, heldout_bytes=10**9, batch_rows=5)
    shuffled = docs[:]
    random.Random(1).shuffle(shuffled)
    write_corpus(tmp_path / "a", docs, parts=3)
    write_corpus(tmp_path / "b", shuffled, parts=5)
    sample_a = sample_corpus(tmp_path / "a", config)
    sample_b = sample_corpus(tmp_path / "b", TokenizerConfig(**{**config.__dict__, "batch_rows": 2}))
    assert sample_a.train == sample_b.train and sample_a.heldout == sample_b.heldout

    candidates = sorted((blake(0, d["id"]), d["id"], d["text"]) for d in docs if d["text"])
    expected, used = [], 0
    for u, _, text in candidates:
        if u < 0.2:
            continue
        size = len(text.encode("utf-8"))
        if used + size > budget:
            break
        expected.append(text)
        used += size
    assert sample_a.train == expected and 0 < used <= budget
    heldout = [d["text"] for d in docs if d["text"] and blake(0, d["id"]) < 0.2]
    assert sorted(t for texts in sample_a.heldout.values() for t in texts) == sorted(heldout)
    assert not set(heldout) & set(sample_a.train)


def test_language_weights_split_the_budget(corpus, docs):
    config = TokenizerConfig(sample_bytes=30_000, heldout_fraction=0.0, language_weights={"de": 1.0, "*": 2.0})
    sample = sample_corpus(corpus, config)
    assert sample.train_bytes_by_pool.keys() == {"de", "*"}
    assert 0 < sample.train_bytes_by_pool["de"] <= 10_000 and 10_000 < sample.train_bytes_by_pool["*"] <= 20_000
    german = {d["text"] for d in docs if d["lang"] == "de"}
    assert sum(text in german for text in sample.train) >= 1
    only_de = sample_corpus(corpus, TokenizerConfig(sample_bytes=10**9, heldout_fraction=0.0, language_weights={"de": 1.0}))
    assert set(only_de.train) == german


@pytest.mark.parametrize("nfkc", [False, True])
def test_every_text_round_trips(docs, nfkc):
    texts = [d["text"] for d in docs]
    tokenizer = for_encoding(train_tokenizer(texts, len(texts), TokenizerConfig(vocab_size=600, nfkc=nfkc)))
    for text in texts:
        ids = tokenizer.encode(text, add_special_tokens=False).ids
        assert 0 not in ids and 1 not in ids  # literal special-token strings stay text
        back = tokenizer.decode(ids, skip_special_tokens=False)
        assert back == (unicodedata.normalize("NFKC", text) if nfkc else text)
    nfkc_text = TRICKY_TEXTS["nfkc"]
    assert (tokenizer.decode(tokenizer.encode(nfkc_text).ids) == nfkc_text) is not nfkc


def test_bpe_file_is_reproducible_and_has_the_special_ids(bpe, docs):
    texts = [d["text"] for d in docs]
    again = train_tokenizer(texts, len(texts), SMALL)
    assert bpe.to_str() == again.to_str()
    assert bpe.get_vocab_size() == 600
    assert (bpe.token_to_id("<|endoftext|>"), bpe.token_to_id("<|pad|>")) == (0, 1)
    assert set(pre_tokenizers.ByteLevel.alphabet()) <= set(bpe.get_vocab())


def test_unigram_is_reproducible_covers_all_bytes_and_round_trips(docs):
    texts = [d["text"] for d in docs]
    config = TokenizerConfig(model="unigram", vocab_size=400)
    first, second = (train_tokenizer(texts[:20], 20, config) for _ in range(2))  # Unigram trains slowly
    assert first.to_str() == second.to_str()
    assert json.loads(first.to_str())["model"]["type"] == "Unigram"
    assert set(pre_tokenizers.ByteLevel.alphabet()) <= set(first.get_vocab())
    encoder = for_encoding(first)
    for text in texts:
        assert encoder.decode(encoder.encode(text, add_special_tokens=False).ids, skip_special_tokens=False) == text


def test_job_writes_loadable_tokenizer_and_report(corpus, tmp_path, capsys):
    out = tmp_path / "tok"
    args = ["--input", str(corpus), "--output", str(out), "--set", "tokenizer.vocab_size=600",
            "--set", "tokenizer.heldout_fraction=0.3"]
    assert job.main(args) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["_config.toml", "report.json", "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json"]
    loaded = Tokenizer.from_file(str(out / "tokenizer.json"))
    assert loaded.get_vocab_size() == 600
    report = json.loads((out / "report.json").read_text())
    rows = report["heldout_compression"]
    assert "all" in rows and len(rows) >= 3
    assert sum(rows[lang]["documents"] for lang in rows if lang != "all") == rows["all"]["documents"] > 0
    assert all(row["roundtrip_failures"] == 0 for row in rows.values())
    for row in rows.values():
        if row["tokens"]:
            assert row["bytes_per_token"] == round(row["bytes"] / row["tokens"], 4)
    assert "bytes/token" in capsys.readouterr().out
    first = (out / "tokenizer.json").read_bytes()
    assert job.main(args) == 0 and (out / "tokenizer.json").read_bytes() == first  # rerun: same bytes
    assert job.main(args[:-2] + ["--set", "tokenizer.heldout_fraction=0.5"]) == 1  # another config: refused


def test_config_errors_name_the_key(tmp_path, capsys):
    with pytest.raises(Exception, match=r"unknown key 'tokenizer.vocab'"):
        load_job_config(TrainTokenizerJobConfig, None, ["tokenizer.vocab=10"])
    with pytest.raises(Exception, match=r"tokenizer.nfkc: expected bool, got str"):
        load_job_config(TrainTokenizerJobConfig, None, ["tokenizer.nfkc='yes'"])
    with pytest.raises(Exception, match=r"model must be one of bpe, unigram, got 'wordpiece'"):
        load_job_config(TrainTokenizerJobConfig, None, ["tokenizer.model=wordpiece"])
    with pytest.raises(Exception, match=r"this job reads only \[tokenizer\]"):
        load_job_config(TrainTokenizerJobConfig, None, ["tokenize.seed=1"])
    config_file = tmp_path / "c.toml"
    config_file.write_text("[tokenizer]\nvocab_size = 4096\n[tokenizer.language_weights]\nen = 2\n[other]\nx = 1\n")
    config = load_job_config(TrainTokenizerJobConfig, config_file, ["tokenizer.seed=3"])
    assert (config.tokenizer.vocab_size, config.tokenizer.seed, config.tokenizer.language_weights) == (4096, 3, {"en": 2.0})
    assert job.main(["--input", "x", "--output", "y", "--config", str(config_file), "--dry-run"]) == 0
    assert "vocab_size = 4096" in capsys.readouterr().out
    assert job.main(["--input", "x", "--output", "y", "--set", "tokenizer.vocab_size=-1"]) == 2


def test_transformers_loads_the_tokenizer(corpus, tmp_path):
    transformers = pytest.importorskip("transformers")
    out = tmp_path / "tok"
    assert job.main(["--input", str(corpus), "--output", str(out), "--set", "tokenizer.vocab_size=600"]) == 0
    fast = transformers.PreTrainedTokenizerFast(tokenizer_file=str(out / "tokenizer.json"), clean_up_tokenization_spaces=False)
    auto = transformers.AutoTokenizer.from_pretrained(str(out))
    text = "Plain text, with spaces . and <|endoftext|> markers \u65e5\u672c"
    ours = Tokenizer.from_file(str(out / "tokenizer.json")).encode(text).ids
    assert fast(text)["input_ids"] == ours == auto(text)["input_ids"]
    assert auto.eos_token_id == 0 and auto.pad_token_id == 1
    assert auto.decode(ours) == text
