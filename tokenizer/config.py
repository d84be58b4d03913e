"""Typed config of the tokenizer jobs: `[tokenizer]` (training) and `[tokenize]` (shards).

Both sections live in the project's one TOML file and are loaded with the project's one loader
(`pipeline.toml_config.load_job_config`: unknown keys and wrong types are errors that name the key). Each
job reads its own section and ignores the others; a `--set` that names another section is an error, so a
typo cannot be ignored silently.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from contract.bounds import bounded, check_bounds
from pipeline.toml_config import config_dict, config_hash

MODELS = ("bpe", "unigram")
SEPARATOR_TOKEN = "<|endoftext|>"  # GPT-2's document separator; every shard document starts with it
PAD_TOKEN = "<|pad|>"
MAX_SHARD_TOKENS = 2**31 - 1  # header word [2] is an int32 (modded-nanogpt / llm.c layout)
MAX_VOCAB_SIZE = 1 << 20  # far above any LLM vocabulary (Llama 3: 128,256; Gemma: 256,000)
OUTPUT_FORMATS = ("nanogpt", "megatron")  # tokenizer/shards.py, tokenizer/megatron.py
MAX_COPIES = 100  # a sampling weight is the expected copies of a document: 100 passes is already absurd


@dataclass(frozen=True)
class TokenizerConfig:
    model: str = "bpe"  # "bpe" (byte-level BPE, GPT-2 style) or "unigram" (over the same byte alphabet)
    # including the 256 byte symbols and the special tokens; <= 65,536 -> uint16 shards
    vocab_size: int = bounded(32_768, le=MAX_VOCAB_SIZE)
    min_frequency: int = bounded(2, ge=0)  # BPE: a merge needs a pair seen at least this often
    # Unigram: longest piece in byte symbols (sentencepiece's default)
    max_piece_length: int = bounded(16, ge=1, le=1024)
    nfkc: bool = False  # NFKC normalizer in the tokenizer; off: decode(encode(text)) == text exactly
    separator_token: str = SEPARATOR_TOKEN  # id 0: prefixed to every document in the shards
    pad_token: str = PAD_TOKEN  # id 1
    extra_special_tokens: tuple[str, ...] = ()  # ids 2.. in order
    # UTF-8 bytes of text the trainer sees, whatever the corpus size
    sample_bytes: int = bounded(200_000_000, ge=1, le=1 << 40)
    # documents (by id hash) kept out of training for the compression report
    heldout_fraction: float = bounded(0.01, ge=0, lt=1)
    heldout_bytes: int = bounded(2_000_000, ge=0, le=1 << 40)  # per language, cap on the held-out sample
    # Share of sample_bytes per language (`lang` column; documents without one count as "und"); "*" pools
    # every language not named. Empty: one pool, no balancing. Shares are normalised to sum to 1.
    language_weights: dict[str, float] = bounded(default_factory=dict, ge=0, le=MAX_COPIES)
    seed: int = 0  # the sample is the documents with the smallest blake2b(seed, id) that fit the budget
    batch_rows: int = bounded(1024, ge=1, le=1 << 20)  # rows per Parquet read batch

    def __post_init__(self) -> None:
        check_bounds(self)
        if self.model not in MODELS:
            raise ValueError(f"model must be one of {', '.join(MODELS)}, got {self.model!r}")
        specials = self.special_tokens
        if len(set(specials)) != len(specials) or any(not token for token in specials):
            raise ValueError(f"special tokens must be distinct and non-empty, got {specials}")
        if self.vocab_size < 256 + len(specials) + 1:
            raise ValueError(f"vocab_size must be > 256 byte symbols + {len(specials)} special tokens, got {self.vocab_size}")
        if self.language_weights and sum(self.language_weights.values()) <= 0:
            raise ValueError("language_weights must have a positive weight")

    @property
    def special_tokens(self) -> tuple[str, ...]:
        return (self.separator_token, self.pad_token) + self.extra_special_tokens


@dataclass(frozen=True)
class TokenizeConfig:
    # documents with blake2b("val", id) below this go to val (no seed: stable split)
    val_fraction: float = bounded(0.01, ge=0, lt=1)
    # target tokens per shard (modded-nanogpt's FineWeb shards hold 10^8)
    shard_tokens: int = bounded(100_000_000, ge=1, le=MAX_SHARD_TOKENS)
    # Expected copies of a document per language / per source (`source_column`); unnamed keys weigh 1.0.
    # 0 drops, 0.5 keeps half (chosen by blake2b(seed, id)), 2.0 repeats every document in a second pass.
    # The two weights multiply. Val documents are sampled the same way but never repeated.
    language_weights: dict[str, float] = bounded(default_factory=dict, ge=0, le=MAX_COPIES)
    source_weights: dict[str, float] = bounded(default_factory=dict, ge=0, le=MAX_COPIES)
    source_column: str = "crawl"
    seed: int = 0
    separator_token: str = SEPARATOR_TOKEN  # must be a special token of the tokenizer
    # "nanogpt": modded-nanogpt/llm.c .bin + this project's .idx; "megatron": Megatron-LM IndexedDataset .bin/.idx
    output_format: str = "nanogpt"
    # documents per encode_batch call (execution only: does not change the output)
    batch_rows: int = bounded(1024, ge=1, le=1 << 20)
    # Ray tasks at a time; 0 = as many as the Ray cluster has CPUs (execution only)
    num_workers: int = bounded(0, ge=0, le=1 << 16)

    def __post_init__(self) -> None:
        check_bounds(self)
        if self.output_format not in OUTPUT_FORMATS:
            raise ValueError(f"output_format must be one of {', '.join(OUTPUT_FORMATS)}, got {self.output_format!r}")


# Fields that change how a job runs, never what it writes: left out of the hash that guards reruns, so a
# killed run can be resumed with another worker count.
EXECUTION_ONLY_FIELDS = ("batch_rows", "num_workers")


@dataclass(frozen=True)
class TrainTokenizerJobConfig:
    tokenizer: TokenizerConfig = field(default_factory=TokenizerConfig)


@dataclass(frozen=True)
class TokenizeJobConfig:
    tokenize: TokenizeConfig = field(default_factory=TokenizeConfig)


def output_config(config: TokenizeJobConfig) -> dict[str, Any]:
    """The config fields that decide the output bytes (without the execution-only ones)."""
    values = config_dict(config)
    for name in EXECUTION_ONLY_FIELDS:
        values["tokenize"].pop(name)
    return values


def output_config_hash(config: TokenizeJobConfig) -> str:
    without = dataclasses.replace(config, tokenize=dataclasses.replace(
        config.tokenize, **{name: getattr(TokenizeConfig(), name) for name in EXECUTION_ONLY_FIELDS}))
    return config_hash(without)
