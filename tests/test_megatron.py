"""`tokenize.output_format = "megatron"`: megatron-core's own IndexedDataset reads every shard and each
sequence is the tokenizer's encoding of its document followed by the separator, in the manifest's order;
the shard plan equals the nanogpt run's; reruns and a killed run give identical bytes; int32 above 65,499 ids."""
from __future__ import annotations

import hashlib
import warnings
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from tokenizers import Tokenizer

from jobs import tokenize_corpus as job
from tests.token_cases import (LONG_TEXT, SHARD_TOKENS, VAL_FRACTION, corpus_in, documents_with, is_val, output_files,
                               save_small_tokenizer, save_wide_tokenizer, tokenize_serially)
from testkit.text_corpus import doc_id, write_corpus
from tokenizer import encode
from tokenizer.config import TokenizeConfig, TokenizeJobConfig
from tokenizer.encode import serial_map, tokenize_corpus, verify_manifest
from tokenizer.megatron import megatron_dtype
from tokenizer.shards import ShardFormatError, open_shards

with warnings.catch_warnings():  # megatron.core warns that Transformer Engine and Apex are absent (CPU)
    warnings.simplefilter("ignore")
    from megatron.core.datasets.indexed_dataset import DType, IndexedDataset

NANOGPT = TokenizeConfig(val_fraction=VAL_FRACTION, shard_tokens=SHARD_TOKENS, batch_rows=4)
CONFIG = TokenizeJobConfig(TokenizeConfig(**{**NANOGPT.__dict__, "output_format": "megatron"}))


@pytest.fixture(scope="module")
def docs():
    return documents_with([{"id": "long", "text": LONG_TEXT, "lang": "en"}, {"id": "null", "text": None, "lang": None},
                           {"id": "empty", "text": "", "lang": "en"},
                           {"id": "separator", "text": "a literal <|endoftext|> inside", "lang": "en"}])


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, docs):
    return corpus_in(tmp_path_factory.mktemp("corpus"), docs)


@pytest.fixture(scope="module")
def tokenizer_path(tmp_path_factory, docs):
    return save_small_tokenizer(tmp_path_factory.mktemp("tok") / "tokenizer.json", docs)


@pytest.fixture(scope="module")
def reference(tmp_path_factory, corpus, tokenizer_path):
    out = tmp_path_factory.mktemp("megatron")
    manifest = tokenize_serially(corpus, tokenizer_path, out, CONFIG)
    return out, manifest


def megatron_documents(out: Path, manifest: dict, split: str) -> list[tuple[str, list[int]]]:
    """(id, sequence) of every document of `split` through megatron-core's IndexedDataset, in manifest order."""
    found = []
    for entry in (e for e in manifest["shards"] if e["split"] == split):
        dataset = IndexedDataset(str(out / Path(entry["name"]).stem))
        ids = pq.read_table(out / Path(entry["name"]).with_suffix(".docs.parquet")).column("id").to_pylist()
        assert len(dataset) == len(ids) == entry["documents"]
        assert dataset.document_indices.tolist() == list(range(entry["documents"] + 1))  # one sequence each
        assert int(dataset.sequence_lengths.sum()) == entry["tokens"]
        found += [(identifier, dataset[i].tolist()) for i, identifier in enumerate(ids)]
    return found


def test_megatron_reads_every_document_as_its_encoding(reference, docs, corpus, tokenizer_path):
    out, manifest = reference
    tokenizer = Tokenizer.from_file(str(tokenizer_path))
    tokenizer.encode_special_tokens = True  # a literal "<|endoftext|>" in a text is text, not the separator
    separator = tokenizer.token_to_id("<|endoftext|>")
    texts = {d["id"]: d["text"] for d in docs}
    expected_order = {"train": [], "val": []}
    for part in sorted(corpus.glob("part-*.parquet")):
        for identifier, text in zip(*pq.read_table(part, columns=["id", "text"]).to_pydict().values()):
            if text is not None:
                expected_order["val" if is_val(identifier) else "train"].append(identifier)
    assert expected_order["val"] and expected_order["train"]
    for split in ("train", "val"):
        found = megatron_documents(out, manifest, split)
        assert [identifier for identifier, _ in found] == expected_order[split]
        for identifier, sequence in found:
            assert sequence == tokenizer.encode(texts[identifier], add_special_tokens=False).ids + [separator]
        assert len(found) == manifest["splits"][split]["documents"]
    assert [doc_id("empty"), [separator]] in [list(f) for f in megatron_documents(out, manifest, "train")
                                              + megatron_documents(out, manifest, "val")]
    assert manifest["format"]["name"] == "megatron" and manifest["config"]["output_format"] == "megatron"
    assert manifest["dtype"] == "uint16" and manifest["format"]["dtype_code"] == 8
    for entry in manifest["shards"]:
        assert IndexedDataset(str(out / Path(entry["name"]).stem)).index.dtype == np.uint16
        for name, digest in ((entry["name"], "sha256"), (Path(entry["name"]).with_suffix(".idx").name, "idx_sha256")):
            assert entry[digest] == hashlib.sha256((out / name).read_bytes()).hexdigest()
    assert any(entry["tokens"] > SHARD_TOKENS and entry["documents"] == 1 for entry in manifest["shards"])


def test_same_shard_plan_as_nanogpt_and_nanogpt_readers_refuse(reference, corpus, tokenizer_path, tmp_path):
    out, manifest = reference
    nanogpt = tokenize_corpus(str(corpus), str(tokenizer_path), str(tmp_path), TokenizeJobConfig(NANOGPT),
                              serial_map, log=lambda _: None)
    plan = [(e["name"], e["tokens"], e["documents"], e["docs_sha256"]) for e in manifest["shards"]]
    assert plan == [(e["name"], e["tokens"], e["documents"], e["docs_sha256"]) for e in nanogpt["shards"]]
    assert nanogpt["format"]["name"] == "nanogpt" and nanogpt["config"]["output_format"] == "nanogpt"
    with pytest.raises(ShardFormatError, match="holds megatron shards, not nanogpt ones"):
        open_shards(out, "train")


def test_rerun_and_killed_run_give_identical_bytes(reference, corpus, tokenizer_path, tmp_path):
    class Killed(BaseException):
        """Stands for SIGKILL: nothing after it runs."""

    def killed_after(n_packs: int):
        def run(fn, items, kwargs):
            results = []
            for item in items:
                if fn is encode.pack_shard and len(results) == n_packs:
                    Path(kwargs["settings"].output_dir, "train-00009.bin.tmp-0123").write_bytes(b"half a shard")
                    raise Killed()
                results.append(fn(item, **kwargs))
            return results
        return run

    expected = output_files(reference[0])
    assert len(expected) == 3 * len(reference[1]["shards"]) + 1
    out = tmp_path / "out"
    with pytest.raises(Killed):
        tokenize_corpus(str(corpus), str(tokenizer_path), str(out), CONFIG, killed_after(3), log=lambda _: None)
    assert len(list(out.glob("*.bin"))) == 3 and not (out / "manifest.json").exists()
    tokenize_serially(corpus, tokenizer_path, out, CONFIG)
    assert output_files(out) == expected and not list(out.rglob("*.tmp-*"))

    # Files lost or changed after a finished run: the command line's rerun rewrites exactly those.
    (out / "train-00000.bin").unlink()
    (out / "val-00000.idx").unlink()
    (out / "train-00001.bin").write_bytes((out / "train-00001.bin").read_bytes()[:-2] + b"\x05\x00")
    args = ["--no-ray", "--input", str(corpus), "--tokenizer", str(tokenizer_path), "--output", str(out),
            "--set", f"tokenize.val_fraction={VAL_FRACTION}", "--set", f"tokenize.shard_tokens={SHARD_TOKENS}",
            "--set", "tokenize.batch_rows=4", "--set", "tokenize.output_format=megatron"]
    assert job.main(args) == 0
    assert output_files(out) == expected
    verify_manifest(out)

    raw = bytearray((out / "train-00001.bin").read_bytes())
    raw[0] ^= 1
    (out / "train-00001.bin").write_bytes(bytes(raw))
    with pytest.raises(ShardFormatError, match="train-00001.bin: sha256="):
        verify_manifest(out)


def test_dtype_follows_megatron_and_large_vocabulary_gives_int32(corpus, docs, tmp_path):
    for vocab_size in (600, 65_499, 65_500, 65_536, 69_256):
        assert megatron_dtype(vocab_size) == np.dtype(DType.optimal_dtype(vocab_size))
    tokenizer = save_wide_tokenizer(tmp_path / "big.json")
    small = tmp_path / "small"
    rows = docs[:6] + docs[-8:]
    write_corpus(small, rows, parts=2)
    out = tmp_path / "out"
    manifest = tokenize_serially(small, tmp_path / "big.json", out, CONFIG)
    assert manifest["dtype"] == "int32" and manifest["format"]["dtype_code"] == 4
    texts = {d["id"]: d["text"] for d in rows}
    found = megatron_documents(out, manifest, "train") + megatron_documents(out, manifest, "val")
    assert len(found) == sum(1 for d in rows if d["text"] is not None)
    for identifier, sequence in found:
        assert sequence[-1] == 0 and all(t >= 69_000 for t in sequence[:-1])
        assert tokenizer.decode(sequence[:-1], skip_special_tokens=False) == texts[identifier]
    assert IndexedDataset(str(out / Path(manifest["shards"][0]["name"]).stem)).index.dtype == np.int32


def test_unknown_output_format_is_a_config_error(corpus, tokenizer_path, tmp_path, capsys):
    args = ["--input", str(corpus), "--tokenizer", str(tokenizer_path), "--output", str(tmp_path / "o"),
            "--set", "tokenize.output_format=hf"]
    assert job.main(args) == 2
    assert "output_format must be one of nanogpt, megatron, got 'hf'" in capsys.readouterr().err
