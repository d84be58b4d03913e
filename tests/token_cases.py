"""What the token-shard tests share (tests/test_tokenize_corpus.py, tests/test_megatron.py): the corpus with
its awkward extra documents, the small BPE, the split rule computed independently of tokenizer/, the output
files, and a tokenizer whose every text token id is above 65,535."""
from __future__ import annotations

import hashlib
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, pre_tokenizers

from testkit.text_corpus import doc_id, sample_documents, write_corpus
from tokenizer.config import TokenizeJobConfig, TokenizerConfig
from tokenizer.encode import serial_map, tokenize_corpus
from tokenizer.train import train_tokenizer

VAL_FRACTION = 0.2
SHARD_TOKENS = 3000
LONG_TEXT = "A document longer than one shard. " * 1200
BIG_VOCAB_TEXT_IDS = 69_000  # the wide tokenizer's byte symbols start here


def documents_with(extra: list[dict]) -> list[dict]:
    """The sample documents plus `extra` ({id name, text, lang}), given the corpus columns the rest have."""
    rows = sample_documents()
    for i, row in enumerate(extra):
        row.update(id=doc_id(row["id"]), url=f"https://site.example/extra{i}", crawl="CC-MAIN-2026-08",
                   warc_path="x.warc.gz", warc_offset=i, drop_reason=None)
    return rows + extra


def corpus_in(directory: Path, docs: list[dict], parts: int = 3) -> Path:
    """`docs` written as a corpus of `parts` Parquet parts in `directory`."""
    write_corpus(directory, docs, parts=parts)
    return directory


def tokenize_serially(corpus: Path, tokenizer_path: Path, out: Path, config: TokenizeJobConfig) -> dict:
    """tokenize_corpus without Ray and without progress lines: the run the others are compared with."""
    return tokenize_corpus(str(corpus), str(tokenizer_path), str(out), config, serial_map, log=lambda _: None)


def save_small_tokenizer(path: Path, docs: list[dict]) -> Path:
    texts = [d["text"] for d in docs if d["text"]]
    train_tokenizer(texts, len(texts), TokenizerConfig(vocab_size=600)).save(str(path))
    return path


def save_wide_tokenizer(path: Path) -> Tokenizer:
    """A byte-level tokenizer whose byte symbols sit above 65,535: every token of a document is > uint16."""
    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    vocab = {"<|endoftext|>": 0, "<|pad|>": 1} | {f"<unused{i}>": i for i in range(2, BIG_VOCAB_TEXT_IDS)}
    vocab |= {symbol: BIG_VOCAB_TEXT_IDS + i for i, symbol in enumerate(alphabet)}
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.add_special_tokens(["<|endoftext|>", "<|pad|>"])
    tokenizer.save(str(path))
    return tokenizer


def is_val(identifier: str) -> bool:
    """The split rule, computed here independently of tokenizer/."""
    digest = hashlib.blake2b(f"val\x1f{identifier}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 < VAL_FRACTION


def output_files(directory: Path) -> dict[str, bytes]:
    """Every output file (not the `_` bookkeeping, whose _config.toml names the worker count)."""
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file() and not p.name.startswith("_")}
