"""Packed token shards: writer and validating reader.

A shard is two files (REFERENCE.md, "Formats"):

`NAME.bin`: the modded-nanogpt / llm.c layout, so their loaders read it unchanged. A header of 256
little-endian int32 (1024 bytes): [0] magic, [1] version, [2] number of tokens, then the tokens. uint16
tokens use magic 20240520 / version 1 (modded-nanogpt, llm.c GPT-2); uint32 tokens (vocabularies over
65,536) use 20240801 / version 7 (llm.c's Llama 3 files). Their readers only check words 0-2; this
project also writes [3] number of documents and [4] the separator token id, and checks them.

`NAME.idx`: this project's document index, self-describing and checked on read. 32 bytes of header,
little-endian: 8-byte magic b"TOKIDX\\0\\1", uint32 version (1), uint32 token width in bytes (2 or 4),
uint64 number of documents, uint64 number of tokens; then one int64 per document: the token position of
its separator. Every document is prefixed with the separator (`<|endoftext|>`), so a shard starts with it
and document i is tokens[start[i] + 1 : start[i + 1]] (the last one ends at the end of the shard).

Writes go to a temporary name and are renamed (`storage.atomic.write_atomic`; the .idx first, the .bin
last). The reader checks magic, version, the token count against the file size, the index against the
header and the tokens, and, when given the manifest's digests, the sha256 of the .bin and .idx; every
failure raises ShardFormatError naming the values. `open_shards(directory, split)` gives the readers of a
split in manifest order.

Every function takes an optional pyarrow `filesystem` (None: the local disk, as before): shards on an object
store (`tokenize_corpus --output s3://...`) are written, verified and read through it. Tokens are memory-mapped
on the local disk and read into memory from other filesystems (an object store has no mmap).
"""
from __future__ import annotations

import hashlib
import json
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.fs as pafs

from storage.atomic import write_atomic

HEADER_INTS = 256
HEADER_BYTES = HEADER_INTS * 4
# (magic, version) -> token dtype; modded-nanogpt/llm.c GPT-2 shards and llm.c's uint32 variant
FORMATS = {(20240520, 1): np.dtype("<u2"), (20240801, 7): np.dtype("<u4")}
FORMAT_OF_DTYPE = {dtype: key for key, dtype in FORMATS.items()}
IDX_MAGIC = b"TOKIDX\x00\x01"
IDX_VERSION = 1
IDX_HEADER = struct.Struct("<8sIIQQ")  # magic, version, token bytes, documents, tokens
MAX_TOKENS = 2**31 - 1  # header word [2] is an int32
HASH_CHUNK = 1 << 22


class ShardFormatError(ValueError):
    """A shard or its index is not what its header, its index or the manifest says."""


def token_dtype(vocab_size: int) -> np.dtype:
    """uint16 when every id fits (vocab_size <= 2**16), else uint32."""
    return np.dtype("<u2") if vocab_size <= 2**16 else np.dtype("<u4")


@dataclass(frozen=True)
class ShardInfo:
    name: str  # file name of the .bin
    tokens: int
    documents: int
    sha256: str  # of the .bin
    idx_sha256: str

    def as_dict(self) -> dict[str, int | str]:
        return {"name": self.name, "tokens": self.tokens, "documents": self.documents,
                "sha256": self.sha256, "idx_sha256": self.idx_sha256}


def idx_path(bin_path: str | Path) -> Path:
    return Path(bin_path).with_suffix(".idx")


def _on_disk(filesystem: pafs.FileSystem | None) -> bool:
    return filesystem is None or isinstance(filesystem, pafs.LocalFileSystem)


def _open(path: str | Path, filesystem: pafs.FileSystem | None):
    """A binary input stream of `path`: the local file, or through `filesystem`."""
    return open(path, "rb") if filesystem is None else filesystem.open_input_stream(str(path))


def file_exists(path: str | Path, filesystem: pafs.FileSystem | None = None) -> bool:
    if filesystem is None:
        return Path(path).exists()
    return filesystem.get_file_info(str(path)).type != pafs.FileType.NotFound


def file_size(path: str | Path, filesystem: pafs.FileSystem | None = None) -> int:
    """Bytes of the file at `path`; FileNotFoundError when there is none."""
    if filesystem is None:
        return Path(path).stat().st_size
    info = filesystem.get_file_info(str(path))
    if info.type != pafs.FileType.File:
        raise FileNotFoundError(f"{path}: no such file")
    return int(info.size)


def read_bytes(path: str | Path, filesystem: pafs.FileSystem | None = None, count: int = -1) -> bytes:
    """The first `count` bytes of the file (-1: all of it)."""
    with _open(path, filesystem) as stream:
        return stream.read() if count < 0 else stream.read(count)


def token_array(path: str | Path, dtype: np.dtype, offset: int, count: int,
                filesystem: pafs.FileSystem | None = None) -> np.ndarray:
    """`count` tokens from byte `offset`: a read-only memmap on the local disk, bytes read into memory from
    any other filesystem."""
    if count == 0:
        return np.zeros(0, dtype=dtype)
    if _on_disk(filesystem):
        return np.memmap(str(path), dtype=dtype, mode="r", offset=offset, shape=(count,))
    with filesystem.open_input_file(str(path)) as stream:
        stream.seek(offset)
        return np.frombuffer(stream.read(count * dtype.itemsize), dtype=dtype)


def sha256_file(path: str | Path, filesystem: pafs.FileSystem | None = None) -> str:
    digest = hashlib.sha256()
    with _open(path, filesystem) as stream:
        while chunk := stream.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def shard_header(n_tokens: int, n_documents: int, separator_id: int, dtype: np.dtype) -> np.ndarray:
    magic, version = FORMAT_OF_DTYPE[np.dtype(dtype)]
    header = np.zeros(HEADER_INTS, dtype="<i4")
    header[:5] = (magic, version, n_tokens, n_documents, separator_id)
    return header


def check_documents(name: str, tokens: np.ndarray, starts: np.ndarray, separator_id: int) -> None:
    """Refuses an empty shard and tokens that are not documents each starting with `separator_id` at `starts`."""
    n_tokens, n_documents = len(tokens), len(starts)
    if n_documents == 0 or n_tokens > MAX_TOKENS:
        raise ShardFormatError(f"{name}: {n_documents=} must be > 0 and {n_tokens=} <= {MAX_TOKENS}")
    if starts[0] != 0 or np.any(np.diff(starts) <= 0) or starts[-1] >= n_tokens:
        raise ShardFormatError(f"{name}: document starts must rise from 0 below {n_tokens=}")
    if np.any(tokens[starts] != separator_id):
        raise ShardFormatError(f"{name}: a document does not start with {separator_id=}")
    if np.count_nonzero(tokens == separator_id) != n_documents:
        raise ShardFormatError(f"{name}: {separator_id=} occurs inside a document "
                               f"({np.count_nonzero(tokens == separator_id)=} != {n_documents=})")


def write_shard(path: str | Path, tokens: np.ndarray, starts: np.ndarray, separator_id: int,
                filesystem: pafs.FileSystem | None = None) -> ShardInfo:
    """Write `tokens` (uint16 or uint32, documents each starting with `separator_id` at `starts`) to
    `path` (.bin) and its .idx, atomically. Refuses an empty shard and tokens that break the layout."""
    path = Path(path)
    dtype = np.dtype(tokens.dtype).newbyteorder("<")
    if dtype not in FORMAT_OF_DTYPE:
        raise ShardFormatError(f"{path.name}: tokens must be uint16 or uint32, got {tokens.dtype}")
    starts = np.asarray(starts, dtype="<i8")
    check_documents(path.name, tokens, starts, separator_id)
    n_tokens, n_documents = len(tokens), len(starts)
    header = shard_header(n_tokens, n_documents, separator_id, dtype)
    idx_header = IDX_HEADER.pack(IDX_MAGIC, IDX_VERSION, dtype.itemsize, n_documents, n_tokens)
    idx_sha256 = write_atomic(idx_path(path), [idx_header, starts.tobytes()], filesystem)
    sha256 = write_atomic(path, [header.tobytes(), np.ascontiguousarray(tokens, dtype=dtype).tobytes()], filesystem)
    return ShardInfo(path.name, n_tokens, n_documents, sha256, idx_sha256)


class ShardReader:
    """A validated shard: `tokens` (read-only memmap, separators included), `len(reader)` documents,
    `reader.document(i)` (the document's tokens without its separator)."""

    def __init__(self, path: str | Path, expected_sha256: str | None = None,
                 expected_idx_sha256: str | None = None, filesystem: pafs.FileSystem | None = None) -> None:
        self.path = Path(path)
        self.filesystem = filesystem
        name = self.path.name
        file_bytes = file_size(self.path, filesystem)
        if file_bytes < HEADER_BYTES:
            raise ShardFormatError(f"{name}: {file_bytes=} is shorter than the {HEADER_BYTES}-byte header")
        header = np.frombuffer(read_bytes(self.path, filesystem, HEADER_BYTES), dtype="<i4", count=HEADER_INTS)
        magic, version, header_tokens, header_documents, separator_id = (int(v) for v in header[:5])
        if (magic, version) not in FORMATS:
            raise ShardFormatError(f"{name}: unknown {magic=} {version=} (known: {sorted(FORMATS)})")
        self.dtype = FORMATS[(magic, version)]
        n_tokens = (file_bytes - HEADER_BYTES) // self.dtype.itemsize
        if file_bytes != HEADER_BYTES + header_tokens * self.dtype.itemsize:
            raise ShardFormatError(f"{name}: {n_tokens=} != {header_tokens=} ({file_bytes=}, {self.dtype} tokens)")
        if expected_sha256 is not None and (sha256 := sha256_file(self.path, filesystem)) != expected_sha256:
            raise ShardFormatError(f"{name}: {sha256=} != {expected_sha256=}")
        self.separator_id = separator_id
        self.tokens = token_array(self.path, self.dtype, HEADER_BYTES, header_tokens, filesystem)
        self.starts = self._read_idx(header_tokens, header_documents, expected_idx_sha256)

    def _read_idx(self, header_tokens: int, header_documents: int, expected_sha256: str | None) -> np.ndarray:
        path = idx_path(self.path)
        name = path.name
        if not file_exists(path, self.filesystem):
            raise ShardFormatError(f"{name}: missing (the document index of {self.path.name})")
        data = read_bytes(path, self.filesystem)
        if len(data) < IDX_HEADER.size:
            raise ShardFormatError(f"{name}: {len(data)=} is shorter than the {IDX_HEADER.size}-byte header")
        magic, version, token_bytes, idx_documents, idx_tokens = IDX_HEADER.unpack_from(data)
        if magic != IDX_MAGIC or version != IDX_VERSION:
            raise ShardFormatError(f"{name}: {magic=} {version=} != {IDX_MAGIC!r} {IDX_VERSION}")
        if expected_sha256 is not None and (sha256 := hashlib.sha256(data).hexdigest()) != expected_sha256:
            raise ShardFormatError(f"{name}: {sha256=} != {expected_sha256=}")
        if token_bytes != self.dtype.itemsize or idx_tokens != header_tokens or idx_documents != header_documents:
            raise ShardFormatError(f"{name}: ({token_bytes=}, {idx_tokens=}, {idx_documents=}) != shard's "
                                   f"({self.dtype.itemsize}, {header_tokens=}, {header_documents=})")
        if len(data) != IDX_HEADER.size + 8 * idx_documents:
            raise ShardFormatError(f"{name}: {len(data)=} != {IDX_HEADER.size} + 8 * {idx_documents=}")
        starts = np.frombuffer(data, dtype="<i8", offset=IDX_HEADER.size)
        if idx_documents and (starts[0] != 0 or np.any(np.diff(starts) <= 0) or starts[-1] >= header_tokens):
            raise ShardFormatError(f"{name}: document starts must rise from 0 below {header_tokens=}")
        if idx_documents and np.any(self.tokens[starts] != self.separator_id):
            bad = int(np.flatnonzero(self.tokens[starts] != self.separator_id)[0])
            raise ShardFormatError(f"{name}: document {bad} starts with token {int(self.tokens[starts[bad]])}, "
                                   f"not the separator {self.separator_id}")
        return starts

    def __len__(self) -> int:
        return len(self.starts)

    def bounds(self, i: int) -> tuple[int, int]:
        """Token range [start, stop) of document i, its separator included."""
        if not -len(self) <= i < len(self):
            raise IndexError(f"document {i} of a shard with {len(self)} documents")
        i %= len(self)
        stop = int(self.starts[i + 1]) if i + 1 < len(self) else len(self.tokens)
        return int(self.starts[i]), stop

    def document(self, i: int, with_separator: bool = False) -> np.ndarray:
        start, stop = self.bounds(i)
        return np.asarray(self.tokens[start if with_separator else start + 1: stop])

    def document_lengths(self) -> np.ndarray:
        """Tokens per document, separators included."""
        return np.diff(np.append(self.starts, len(self.tokens)))


def read_manifest(directory: str | Path, filesystem: pafs.FileSystem | None = None) -> dict:
    """`manifest.json` of a shard directory (written by jobs/tokenize_corpus.py)."""
    return json.loads(read_bytes(Path(directory) / "manifest.json", filesystem).decode("utf-8"))


def open_shards(directory: str | Path, split: str, verify_sha256: bool = False,
                filesystem: pafs.FileSystem | None = None) -> list[ShardReader]:
    """Readers for the shards of `split` in manifest order; each is checked against its manifest entry
    (token and document counts always, sha256 digests of .bin and .idx when `verify_sha256`)."""
    manifest = read_manifest(directory, filesystem)
    if (name := manifest["format"].get("name", "nanogpt")) != "nanogpt":
        raise ShardFormatError(f"{directory}: holds {name} shards, not nanogpt ones (tokenize.output_format)")
    readers = []
    for entry in manifest["shards"]:
        if entry["split"] != split:
            continue
        digests = (entry["sha256"], entry["idx_sha256"]) if verify_sha256 else (None, None)
        reader = ShardReader(Path(directory) / entry["name"], *digests, filesystem=filesystem)
        if (len(reader.tokens), len(reader)) != (entry["tokens"], entry["documents"]):
            raise ShardFormatError(f"{entry['name']}: ({len(reader.tokens)=}, {len(reader)=}) != manifest's "
                                   f"({entry['tokens']}, {entry['documents']})")
        readers.append(reader)
    return readers
