"""Typed config of the tokenizer jobs: `[tokenizer]` (training) and `[tokenize]` (shards).

Both sections live in the project's one TOML file and are validated with the same machinery as the corpus
job (`pipeline.config._build`: unknown keys and wrong types are errors that name the key). Each job reads
its own section and ignores the others; a `--set` that names another section is an error, so a typo
cannot be ignored silently.
"""
from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.config import ConfigError, _build, apply_overrides, config_dict, config_hash, parse_override

MODELS = ("bpe", "unigram")
SEPARATOR_TOKEN = "<|endoftext|>"  # GPT-2's document separator; every shard document starts with it
PAD_TOKEN = "<|pad|>"
MAX_SHARD_TOKENS = 2**31 - 1  # header word [2] is an int32 (modded-nanogpt / llm.c layout)


def _check_weights(name: str, weights: dict[str, float]) -> None:
    for key, weight in weights.items():
        if weight < 0:
            raise ValueError(f"{name}.{key} must be >= 0, got {weight}")


@dataclass(frozen=True)
class TokenizerConfig:
    model: str = "bpe"  # "bpe" (byte-level BPE, GPT-2 style) or "unigram" (over the same byte alphabet)
    vocab_size: int = 32_768  # including the 256 byte symbols and the special tokens; <= 65,536 -> uint16 shards
    min_frequency: int = 2  # BPE: a merge needs a pair seen at least this often
    max_piece_length: int = 16  # Unigram: longest piece in byte symbols (sentencepiece's default)
    nfkc: bool = False  # NFKC normalizer in the tokenizer; off: decode(encode(text)) == text exactly
    separator_token: str = SEPARATOR_TOKEN  # id 0: prefixed to every document in the shards
    pad_token: str = PAD_TOKEN  # id 1
    extra_special_tokens: tuple[str, ...] = ()  # ids 2.. in order
    sample_bytes: int = 200_000_000  # UTF-8 bytes of text the trainer sees, whatever the corpus size
    heldout_fraction: float = 0.01  # documents (by id hash) kept out of training for the compression report
    heldout_bytes: int = 2_000_000  # per language, cap on the held-out sample
    # Share of sample_bytes per language (`lang` column; documents without one count as "und"); "*" pools
    # every language not named. Empty: one pool, no balancing. Shares are normalised to sum to 1.
    language_weights: dict[str, float] = field(default_factory=dict)
    seed: int = 0  # the sample is the documents with the smallest blake2b(seed, id) that fit the budget
    batch_rows: int = 1024  # rows per Parquet read batch

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise ValueError(f"model must be one of {', '.join(MODELS)}, got {self.model!r}")
        specials = self.special_tokens
        if len(set(specials)) != len(specials) or any(not token for token in specials):
            raise ValueError(f"special tokens must be distinct and non-empty, got {specials}")
        if self.vocab_size < 256 + len(specials) + 1:
            raise ValueError(f"vocab_size must be > 256 byte symbols + {len(specials)} special tokens, got {self.vocab_size}")
        if not 0.0 <= self.heldout_fraction < 1.0:
            raise ValueError(f"heldout_fraction must be in [0, 1), got {self.heldout_fraction}")
        if self.sample_bytes <= 0 or self.heldout_bytes < 0 or self.batch_rows <= 0 or self.min_frequency < 0:
            raise ValueError("sample_bytes and batch_rows must be > 0, heldout_bytes and min_frequency >= 0")
        _check_weights("language_weights", self.language_weights)
        if self.language_weights and sum(self.language_weights.values()) <= 0:
            raise ValueError("language_weights must have a positive weight")

    @property
    def special_tokens(self) -> tuple[str, ...]:
        return (self.separator_token, self.pad_token) + self.extra_special_tokens


@dataclass(frozen=True)
class TokenizeConfig:
    val_fraction: float = 0.01  # documents with blake2b("val", id) below this go to val (no seed: stable split)
    shard_tokens: int = 100_000_000  # target tokens per shard (modded-nanogpt's FineWeb shards hold 10^8)
    # Expected copies of a document per language / per source (`source_column`); unnamed keys weigh 1.0.
    # 0 drops, 0.5 keeps half (chosen by blake2b(seed, id)), 2.0 repeats every document in a second pass.
    # The two weights multiply. Val documents are sampled the same way but never repeated.
    language_weights: dict[str, float] = field(default_factory=dict)
    source_weights: dict[str, float] = field(default_factory=dict)
    source_column: str = "crawl"
    seed: int = 0
    separator_token: str = SEPARATOR_TOKEN  # must be a special token of the tokenizer
    batch_rows: int = 1024  # documents per encode_batch call (execution only: does not change the output)
    num_workers: int = 0  # Ray tasks at a time; 0 = as many as the Ray cluster has CPUs (execution only)

    def __post_init__(self) -> None:
        if not 0.0 <= self.val_fraction < 1.0:
            raise ValueError(f"val_fraction must be in [0, 1), got {self.val_fraction}")
        if not 0 < self.shard_tokens <= MAX_SHARD_TOKENS:
            raise ValueError(f"shard_tokens must be in [1, {MAX_SHARD_TOKENS}], got {self.shard_tokens}")
        if self.batch_rows <= 0 or self.num_workers < 0:
            raise ValueError(f"batch_rows must be > 0 and num_workers >= 0, got {self.batch_rows}, {self.num_workers}")
        _check_weights("language_weights", self.language_weights)
        _check_weights("source_weights", self.source_weights)


# Fields that change how a job runs, never what it writes: left out of the hash that guards reruns, so a
# killed run can be resumed with another worker count.
EXECUTION_ONLY_FIELDS = ("batch_rows", "num_workers")


@dataclass(frozen=True)
class TrainTokenizerJobConfig:
    tokenizer: TokenizerConfig = field(default_factory=TokenizerConfig)


@dataclass(frozen=True)
class TokenizeJobConfig:
    tokenize: TokenizeConfig = field(default_factory=TokenizeConfig)


def load_job_config(cls: type, path: str | Path | None = None, overrides: list[str] | None = None) -> Any:
    """The job's section(s) of the TOML file at `path`, with `--set` overrides, validated into `cls`."""
    sections = {f.name for f in dataclasses.fields(cls)}
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{path}: not valid TOML: {error}") from error
    for assignment in overrides or []:
        keys, _ = parse_override(assignment)
        if keys[0] not in sections:
            raise ConfigError(f"--set {assignment!r}: this job reads only [{'], ['.join(sorted(sections))}]")
    data = apply_overrides(data, overrides or [])
    return _build(cls, {name: data[name] for name in sections if name in data}, "")


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
