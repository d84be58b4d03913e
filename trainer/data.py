"""Training and evaluation sequences from packed token shards, each batch a pure function of its step.

The shards of a split (tokenizer/shards.py: validated readers, tokens memory-mapped, never loaded whole)
are read as one token stream in manifest order. The stream is cut into windows of seq_len + 1 tokens (the
inputs and their next-token targets) in one of two modes:

- `contiguous`: a window every seq_len tokens, across document and shard boundaries; consecutive windows
  share one token (the last target of one is the first input of the next), as in nanoGPT.
- `documents`: every window starts with a document's separator (BOS / <|endoftext|>; positions from the
  .idx): the first at token 0, each next one at the first separator at or after the previous start +
  seq_len. A short document is followed by the next ones in its window; the part of a document longer than a
  window that does not fit is skipped (the trade modded-nanogpt's BOS-aligned loader makes).

Order: global sequence slot s is window order(seed, s // N)[s % N], where N is the number of windows and
order(seed, epoch) a permutation drawn from (seed, epoch): every window once per epoch, a new order each
epoch. Step k owns the G = micro_batch * grad_accum * world_size slots from k * G; rank r's micro-step m
takes the micro_batch of them from k * G + (m * world_size + r) * micro_batch. So a batch depends only on
(seed, step, micro-step, rank, world_size) and the shards: a resumed run reads exactly what an uninterrupted
one reads, the ranks' slices of a step are disjoint and together are the step's G slots, and the global
batch is the same however G is split into ranks and micro-steps.

Evaluation reads the first windows of the split in stream order (no shuffle), dealt round-robin to ranks.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from tokenizer.shards import open_shards, read_manifest

MODES = ("contiguous", "documents")


class TokenStream:
    """The shards of one split as a single token sequence."""

    def __init__(self, tokens_dir: str | Path, split: str) -> None:
        self.shards = open_shards(tokens_dir, split)
        if not self.shards:
            raise FileNotFoundError(f"{tokens_dir}: manifest.json lists no {split!r} shards")
        self.separator_id = read_manifest(tokens_dir)["tokenizer"]["separator_id"]
        if any(shard.separator_id != self.separator_id for shard in self.shards):
            raise ValueError(f"{tokens_dir}: shard separator ids {[s.separator_id for s in self.shards]} "
                             f"!= manifest's {self.separator_id}")
        sizes = [len(shard.tokens) for shard in self.shards]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)  # shard i: [offsets[i], offsets[i+1])

    @property
    def n_tokens(self) -> int:
        return int(self.offsets[-1])

    def read(self, start: int, n_tokens: int) -> np.ndarray:
        """Tokens [start, start + n_tokens) of the stream as int64, gathered across shard boundaries."""
        if start < 0 or start + n_tokens > self.n_tokens:
            raise IndexError(f"tokens [{start}, {start + n_tokens}) outside a stream of {self.n_tokens}")
        out = np.empty(n_tokens, dtype=np.int64)
        filled = 0
        shard = int(np.searchsorted(self.offsets, start, side="right")) - 1
        while filled < n_tokens:
            local = start + filled - int(self.offsets[shard])
            piece = self.shards[shard].tokens[local: local + n_tokens - filled]
            out[filled: filled + len(piece)] = piece
            filled += len(piece)
            shard += 1
        return out

    def document_starts(self) -> np.ndarray:
        """Stream positions of every document's separator, ascending (from the shards' .idx)."""
        return np.concatenate([shard.starts + offset for shard, offset in zip(self.shards, self.offsets)])


def contiguous_starts(n_tokens: int, seq_len: int) -> np.ndarray:
    """A window start every seq_len tokens while seq_len + 1 tokens fit."""
    return np.arange(0, n_tokens - seq_len, seq_len, dtype=np.int64)


def document_aligned_starts(document_starts: np.ndarray, n_tokens: int, seq_len: int) -> np.ndarray:
    """Window starts on separators: from 0, each next one the first separator >= previous start + seq_len,
    while seq_len + 1 tokens fit."""
    # successor[i]: index of the first separator at or after document i's start + seq_len
    successor = np.searchsorted(document_starts, document_starts + seq_len, side="left")
    fits = document_starts + seq_len + 1 <= n_tokens
    chosen = []
    i = 0
    while i < len(document_starts) and fits[i]:
        chosen.append(i)
        i = int(successor[i])
    return document_starts[np.array(chosen, dtype=np.int64)]


class SequenceSource:
    """The windows of one split (module docstring) and their tokens."""

    def __init__(self, tokens_dir: str | Path, split: str, seq_len: int, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"data mode must be one of {MODES}, got {mode!r}")
        self.stream = TokenStream(tokens_dir, split)
        self.split, self.seq_len, self.mode = split, seq_len, mode
        if mode == "contiguous":
            self.starts = contiguous_starts(self.stream.n_tokens, seq_len)
        else:
            self.starts = document_aligned_starts(self.stream.document_starts(), self.stream.n_tokens, seq_len)
        if len(self.starts) == 0:
            raise ValueError(f"{tokens_dir} {split}: {self.stream.n_tokens} tokens hold no window of "
                             f"{seq_len + 1} tokens ({mode})")

    def __len__(self) -> int:
        return len(self.starts)

    def read(self, windows: np.ndarray) -> np.ndarray:
        """Tokens of windows (indices into `starts`): (len(windows), seq_len + 1) int64."""
        return np.stack([self.stream.read(int(self.starts[w]), self.seq_len + 1) for w in windows])

    def fingerprint(self) -> dict[str, object]:
        """What the windows depend on; a resumed run checks it against its checkpoint's."""
        return {"split": self.split, "mode": self.mode, "seq_len": self.seq_len, "windows": len(self),
                "tokens": self.stream.n_tokens,
                "shards": [[shard.path.name, len(shard.tokens)] for shard in self.stream.shards]}


@dataclass(frozen=True)
class BatchLayout:
    micro_batch: int  # sequences per micro-step per rank
    grad_accum: int  # micro-steps per optimizer step
    rank: int = 0
    world_size: int = 1

    @property
    def global_batch(self) -> int:
        """Sequences per optimizer step over all ranks."""
        return self.micro_batch * self.grad_accum * self.world_size

    def slots(self, step: int, micro_step: int) -> np.ndarray:
        """Global sequence slots of this rank's micro-step `micro_step` of optimizer step `step` (0-based)."""
        if not 0 <= micro_step < self.grad_accum:
            raise IndexError(f"{micro_step=} outside [0, {self.grad_accum=})")
        first = step * self.global_batch + (micro_step * self.world_size + self.rank) * self.micro_batch
        return np.arange(first, first + self.micro_batch, dtype=np.int64)


@functools.lru_cache(maxsize=2)  # a batch spans at most two epochs
def epoch_order(seed: int, epoch: int, n_windows: int) -> np.ndarray:
    """The order in which epoch `epoch` visits the windows: a permutation drawn from (seed, epoch) alone."""
    order = np.random.default_rng([seed, epoch]).permutation(n_windows)
    order.flags.writeable = False  # shared by the cache
    return order


def shuffled_windows(slots: np.ndarray, n_windows: int, seed: int) -> np.ndarray:
    """Window index of each global slot: order(seed, slot // n_windows)[slot % n_windows]."""
    epochs, positions = np.divmod(slots, n_windows)
    return np.array([epoch_order(seed, int(e), n_windows)[p] for e, p in zip(epochs, positions)], dtype=np.int64)


class TrainBatches:
    """Training sequences of one rank: `sequences(step, micro_step)` -> (micro_batch, seq_len + 1) int64."""

    def __init__(self, source: SequenceSource, layout: BatchLayout, seed: int) -> None:
        self.source, self.layout, self.seed = source, layout, seed

    def windows(self, step: int, micro_step: int) -> np.ndarray:
        return shuffled_windows(self.layout.slots(step, micro_step), len(self.source), self.seed)

    def sequences(self, step: int, micro_step: int) -> np.ndarray:
        return self.source.read(self.windows(step, micro_step))

    def state(self, step: int) -> dict[str, object]:
        """Data position before optimizer step `step`, with what it depends on (stored in checkpoints)."""
        next_slot = step * self.layout.global_batch
        return {**self.source.fingerprint(), "seed": self.seed, "global_batch": self.layout.global_batch,
                "step": step, "next_slot": next_slot, "epoch": next_slot // len(self.source)}


def eval_sequences(source: SequenceSource, max_sequences: int, layout: BatchLayout) -> Iterator[np.ndarray]:
    """This rank's share of the split's first `max_sequences` windows (stream order, dealt round-robin over
    ranks), in batches of at most micro_batch sequences."""
    windows = np.arange(min(max_sequences, len(source)), dtype=np.int64)[layout.rank::layout.world_size]
    for first in range(0, len(windows), layout.micro_batch):
        yield source.read(windows[first: first + layout.micro_batch])
