"""Megatron-LM indexed dataset shards (`tokenize.output_format = "megatron"`): writer and validating reader.

The layout `megatron.core.datasets.indexed_dataset.IndexedDataset(path_prefix)` reads (REFERENCE.md,
"Megatron"; megatron-core 0.16's `_IndexWriter` / `_IndexReader`):

`NAME.bin`: the tokens, no header. `NAME.idx`, little-endian: b"MMIDIDX\\x00\\x00", uint64 version 1, uint8
dtype code (8 uint16, 4 int32), uint64 sequence count, uint64 document count (sequences + 1: the document
indices start at 0), then int32 sequence lengths, int64 byte offsets of the sequences in the .bin, int64
document indices (a document is the sequences [indices[d], indices[d + 1])).

One sequence per document, so the document indices are 0, 1, ..., n. A sequence is the document's tokens
followed by the separator, not preceded by it: Megatron's `preprocess_data.py --append-eod` puts the EOD
last, and GPTDataset's EOD handling (reset_position_ids, reset_attention_mask, eod_mask_loss) treats an EOD
as the end of the document before it. Each sequence has as many tokens as the document has in the nanogpt
shards (separator included), so both formats share one shard plan and the manifest's counts mean the same.
Token dtype: uint16 below 65,500 ids, else int32 (Megatron's `DType.optimal_dtype`).

Writes are atomic (.idx first, .bin last, like tokenizer/shards.py); the reader checks the header, the
index against itself and the .bin's size, the separator at the end of every sequence and, when given the
manifest's digests, the sha256 of both files; every failure raises ShardFormatError naming the values.
"""
from __future__ import annotations

import hashlib
import struct
from pathlib import Path

import numpy as np
import pyarrow.fs as pafs

from storage.atomic import write_atomic
from tokenizer.shards import (ShardFormatError, ShardInfo, check_documents, file_exists, file_size, idx_path,
                              read_bytes, read_manifest, sha256_file, token_array)

MAGIC = b"MMIDIDX\x00\x00"
VERSION = 1
HEADER = struct.Struct("<9sQBQQ")  # magic, version, dtype code, sequences, documents + 1
DTYPE_CODES = {np.dtype("<u2"): 8, np.dtype("<i4"): 4}  # megatron.core DType: uint16 = 8, int32 = 4
UINT16_BELOW = 65_500  # DType.optimal_dtype: uint16 when the vocabulary has fewer ids


def megatron_dtype(vocab_size: int) -> np.dtype:
    return np.dtype("<u2") if vocab_size < UINT16_BELOW else np.dtype("<i4")


def manifest_format(dtype: np.dtype) -> dict[str, object]:
    """The manifest's `format` entry of a megatron output."""
    return {"name": "megatron",
            "bin": "Megatron-LM IndexedDataset: raw tokens, one sequence per document (its tokens, then the separator)",
            "idx": "MMIDIDX v1: dtype code, sequence and document counts, int32 lengths, int64 byte pointers, "
                   "int64 document indices", "dtype_code": DTYPE_CODES[dtype],
            "docs": "parquet: id, part, row of every document"}


def index_bytes(lengths: np.ndarray, dtype: np.dtype) -> bytes:
    """The .idx of one-document sequences of `lengths` tokens."""
    lengths = np.asarray(lengths, dtype="<i4")
    pointers = np.concatenate([[0], np.cumsum(lengths[:-1], dtype="<i8")]).astype("<i8") * dtype.itemsize
    documents = np.arange(len(lengths) + 1, dtype="<i8")
    header = HEADER.pack(MAGIC, VERSION, DTYPE_CODES[dtype], len(lengths), len(documents))
    return header + lengths.tobytes() + pointers.tobytes() + documents.tobytes()


def write_megatron_shard(path: str | Path, tokens: np.ndarray, starts: np.ndarray, separator_id: int,
                         vocab_size: int, filesystem: pafs.FileSystem | None = None) -> ShardInfo:
    """Write `tokens` in the project's layout (every document starts with `separator_id` at `starts`) as a
    Megatron .bin/.idx pair at `path` (.bin), atomically."""
    path = Path(path)
    starts = np.asarray(starts, dtype="<i8")
    check_documents(path.name, tokens, starts, separator_id)
    dtype = megatron_dtype(vocab_size)
    if len(tokens) and int(tokens.max()) >= vocab_size:
        raise ShardFormatError(f"{path.name}: token {int(tokens.max())} >= {vocab_size=}")
    # [S d1 S d2 ... S dn] rotated left by one is [d1 S d2 S ... dn S]: every separator now ends the
    # document before it, and each sequence keeps its length.
    sequences = np.roll(np.asarray(tokens), -1).astype(dtype)
    lengths = np.diff(np.append(starts, len(tokens)))
    idx_sha256 = write_atomic(idx_path(path), [index_bytes(lengths, dtype)], filesystem)
    sha256 = write_atomic(path, [sequences.tobytes()], filesystem)
    return ShardInfo(path.name, len(tokens), len(starts), sha256, idx_sha256)


class MegatronShardReader:
    """A validated Megatron shard: `tokens` (read-only memmap), `len(reader)` documents, `reader.document(i)`
    (the document's tokens without its separator)."""

    def __init__(self, path: str | Path, separator_id: int, expected_sha256: str | None = None,
                 expected_idx_sha256: str | None = None, filesystem: pafs.FileSystem | None = None) -> None:
        self.path = Path(path)
        self.separator_id = separator_id
        name = idx_path(self.path).name
        data = read_bytes(idx_path(self.path), filesystem) if file_exists(idx_path(self.path), filesystem) else b""
        if len(data) < HEADER.size:
            raise ShardFormatError(f"{name}: {len(data)=} is shorter than the {HEADER.size}-byte header")
        if expected_idx_sha256 is not None and (sha256 := hashlib.sha256(data).hexdigest()) != expected_idx_sha256:
            raise ShardFormatError(f"{name}: {sha256=} != {expected_idx_sha256=}")
        magic, version, code, sequences, documents = HEADER.unpack_from(data)
        by_code = {c: d for d, c in DTYPE_CODES.items()}
        if magic != MAGIC or version != VERSION or code not in by_code:
            raise ShardFormatError(f"{name}: {magic=} {version=} {code=} != {MAGIC!r} {VERSION} {sorted(by_code)}")
        if documents != sequences + 1 or len(data) != HEADER.size + 12 * sequences + 8 * documents:
            raise ShardFormatError(f"{name}: {len(data)=} does not hold {sequences=} one-document sequences")
        self.dtype = by_code[code]
        offset = HEADER.size
        self.lengths = np.frombuffer(data, "<i4", sequences, offset)
        pointers = np.frombuffer(data, "<i8", sequences, offset + 4 * sequences)
        indices = np.frombuffer(data, "<i8", documents, offset + 12 * sequences)
        self.starts = np.concatenate([[0], np.cumsum(self.lengths[:-1], dtype=np.int64)]).astype(np.int64)
        if (not np.array_equal(indices, np.arange(documents)) or np.any(self.lengths < 1)
                or not np.array_equal(pointers, self.starts * self.dtype.itemsize)):
            raise ShardFormatError(f"{name}: lengths, pointers or document indices are not one document per sequence")
        n_tokens = int(self.lengths.sum())
        if (file_bytes := file_size(self.path, filesystem)) != n_tokens * self.dtype.itemsize:
            raise ShardFormatError(f"{self.path.name}: {file_bytes=} != {n_tokens=} x {self.dtype.itemsize} bytes")
        if expected_sha256 is not None and (sha256 := sha256_file(self.path, filesystem)) != expected_sha256:
            raise ShardFormatError(f"{self.path.name}: {sha256=} != {expected_sha256=}")
        self.tokens = token_array(self.path, self.dtype, 0, n_tokens, filesystem)
        ends = self.starts + self.lengths - 1
        if sequences and np.any(self.tokens[ends] != separator_id):
            bad = int(np.flatnonzero(self.tokens[ends] != separator_id)[0])
            raise ShardFormatError(f"{self.path.name}: sequence {bad} does not end with the separator {separator_id}")

    def __len__(self) -> int:
        return len(self.lengths)

    def document(self, i: int) -> np.ndarray:
        start = int(self.starts[i])
        return np.asarray(self.tokens[start: start + int(self.lengths[i]) - 1])


def open_megatron_shards(directory: str | Path, split: str, verify_sha256: bool = False,
                         filesystem: pafs.FileSystem | None = None) -> list[MegatronShardReader]:
    """Readers for the megatron shards of `split` in manifest order, checked against their manifest entries."""
    manifest = read_manifest(directory, filesystem)
    separator = manifest["tokenizer"]["separator_id"]
    readers = []
    for entry in manifest["shards"]:
        if entry["split"] != split:
            continue
        digests = (entry["sha256"], entry["idx_sha256"]) if verify_sha256 else (None, None)
        reader = MegatronShardReader(Path(directory) / entry["name"], separator, *digests, filesystem=filesystem)
        if (len(reader.tokens), len(reader)) != (entry["tokens"], entry["documents"]):
            raise ShardFormatError(f"{entry['name']}: ({len(reader.tokens)=}, {len(reader)=}) != manifest's "
                                   f"({entry['tokens']}, {entry['documents']})")
        readers.append(reader)
    return readers
