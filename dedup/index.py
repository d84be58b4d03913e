"""The persisted dedup index: what a later crawl is de-duplicated against without re-processing this one.

Layout of `OUT/dedup/index/` (written by `dedup_table(..., index_dir=...)` or `dedup_frame`):
- `part-NNNNN.parquet`: one row per document this run kept that has text to compare: `id` (string),
  `exact_hash` (16-byte SHA-1 prefix of the normalized text), `signature` (list<uint32>, num_perm MinHash
  values). File k holds the ids whose SHA-1 (first 4 bytes, big-endian) mod the file count is k, sorted
  by id; the file count is ceil(rows / ROWS_PER_FILE). Same kept set -> byte-identical files, whichever
  engine or partitioning wrote them.
- `_index.json`: format, version, row and file counts and every parameter a signature depends on
  (normalization version, ngram_size, num_perm, seed, scheme, shingle_hash). It is written last, so an
  index without it is incomplete. Reading checks these parameters against the current config and
  refuses a mismatch with a message naming it: signatures of different schemes, seeds or hash functions
  must never be compared (REFERENCE). Band hashes are recomputed from the signatures on read, so a later
  run may use another threshold or bands x rows.
Signatures are those of `datasketch.MinHash(num_perm, seed, scheme, hashfunc)` (see `dedup.minhash`);
`MinHash(hashvalues=row["signature"], seed=..., scheme=...)` loads one into datasketch.
"""
from __future__ import annotations

import hashlib
import json
import os
from typing import Any, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from dedup.config import DedupConfig
from storage.atomic import atomic_path, write_atomic
from storage.parquet import write_parquet

FORMAT = "corpus-pipeline dedup index"
VERSION = 1
NORMALIZATION_VERSION = 1  # bump when dedup.normalize changes what a text normalizes to
META_FILE = "_index.json"
ROWS_PER_FILE = 1_000_000
ROW_GROUP_ROWS = 100_000
INDEX_SCHEMA = pa.schema([
    pa.field("id", pa.string(), nullable=False),
    pa.field("exact_hash", pa.binary(), nullable=False),
    pa.field("signature", pa.list_(pa.uint32()), nullable=False),
])
SIGNATURE_KEYS = ("normalization", "ngram_size", "num_perm", "seed", "scheme", "shingle_hash")


class IndexMismatchError(ValueError):
    """An index was built with parameters its signatures cannot be compared under."""


def _filesystem(uri: str) -> tuple[pafs.FileSystem, str]:
    if "://" in uri:
        return pafs.FileSystem.from_uri(uri)
    return pafs.LocalFileSystem(), os.path.abspath(uri)


def signature_params(config: DedupConfig) -> dict[str, Any]:
    return {"normalization": NORMALIZATION_VERSION, "ngram_size": config.ngram_size, "num_perm": config.num_perm,
            "seed": config.seed, "scheme": config.scheme, "shingle_hash": config.shingle_hash}


def file_count(rows: int) -> int:
    return max(1, -(-rows // ROWS_PER_FILE))


def file_of(doc_id: str, files: int) -> int:
    """Index file of an id: SHA-1 of its UTF-8, first 4 bytes big-endian, mod the file count.

    Spark computes the same with `conv(substring(sha1(id), 1, 8), 16, 10) % files`.
    """
    return int.from_bytes(hashlib.sha1(doc_id.encode("utf-8")).digest()[:4], "big") % files


def part_name(number: int) -> str:
    return f"part-{number:05d}.parquet"


def index_table(ids: Sequence[str], exact_hashes: Sequence[bytes], signatures: np.ndarray) -> pa.Table:
    """Index rows sorted by id (the order every index file is written in)."""
    order = sorted(range(len(ids)), key=ids.__getitem__)
    num_perm = signatures.shape[1] if signatures.ndim == 2 else 0
    values = pa.array(np.ascontiguousarray(signatures[order]).reshape(-1), type=pa.uint32())
    offsets = pa.array(np.arange(len(order) + 1, dtype=np.int32) * num_perm, type=pa.int32())
    return pa.Table.from_arrays(
        [pa.array([ids[i] for i in order], type=pa.string()), pa.array([exact_hashes[i] for i in order], type=pa.binary()),
         pa.ListArray.from_arrays(offsets, values)],
        schema=INDEX_SCHEMA,
    )


def write_part(index_dir: str, number: int, table: pa.Table) -> None:
    """Write one index file atomically (temporary name, then rename); rows must be sorted by id."""
    fs, root = _filesystem(index_dir)
    fs.create_dir(root, recursive=True)
    with atomic_path(f"{root}/{part_name(number)}", fs) as temporary, fs.open_output_stream(temporary) as sink:
        write_parquet(table.cast(INDEX_SCHEMA), sink, ROW_GROUP_ROWS)


def prepare_dir(index_dir: str) -> None:
    """Remove the metadata and parts of an earlier write into `index_dir` (the metadata first)."""
    fs, root = _filesystem(index_dir)
    if fs.get_file_info(root).type == pafs.FileType.NotFound:
        fs.create_dir(root, recursive=True)
        return
    meta = f"{root}/{META_FILE}"
    if fs.get_file_info(meta).type == pafs.FileType.File:
        fs.delete_file(meta)
    for info in fs.get_file_info(pafs.FileSelector(root)):
        if info.type == pafs.FileType.File and info.base_name.startswith("part-"):
            fs.delete_file(info.path)


def write_meta(index_dir: str, config: DedupConfig, rows: int) -> None:
    """Write `_index.json` last: the index is complete once it exists."""
    fs, root = _filesystem(index_dir)
    files = file_count(rows)
    meta = {"format": FORMAT, "version": VERSION, "rows": rows, "files": [part_name(k) for k in range(files)],
            **signature_params(config)}
    write_atomic(f"{root}/{META_FILE}", [(json.dumps(meta, indent=2, sort_keys=True) + "\n").encode("utf-8")], fs)


def write_index(index_dir: str, table: pa.Table, config: DedupConfig) -> None:
    """Write the whole index (single machine): parts by id hash, sorted by id, then the metadata."""
    prepare_dir(index_dir)
    files = file_count(table.num_rows)
    numbers = np.array([file_of(doc_id, files) for doc_id in table.column("id").to_pylist()], dtype=np.int64)
    for number in range(files):
        part = table.filter(pa.array(numbers == number))
        write_part(index_dir, number, part.sort_by("id"))
    write_meta(index_dir, config, table.num_rows)


def resolve(path: str) -> str:
    """The index directory of a previous run: `path/index` (an OUT/dedup/ dir) or `path` itself."""
    fs, root = _filesystem(path)
    nested = f"{root}/index/{META_FILE}"
    if fs.get_file_info(nested).type == pafs.FileType.File:
        return path.rstrip("/") + "/index"
    return path


def read_meta(index_dir: str, config: DedupConfig) -> dict[str, Any]:
    """The index's metadata, checked against `config`; raises IndexMismatchError naming the first mismatch."""
    fs, root = _filesystem(index_dir)
    meta_path = f"{root}/{META_FILE}"
    if fs.get_file_info(meta_path).type != pafs.FileType.File:
        raise FileNotFoundError(f"{index_dir}: no {META_FILE} (not a dedup index, or its write did not finish)")
    with fs.open_input_stream(meta_path) as stream:
        meta = json.loads(stream.read().decode("utf-8"))
    if meta.get("format") != FORMAT or meta.get("version") != VERSION:
        raise IndexMismatchError(f"{index_dir}: format {meta.get('format')!r} version {meta.get('version')!r}, "
                                 f"expected {FORMAT!r} version {VERSION}")
    expected = signature_params(config)
    for key in SIGNATURE_KEYS:
        if meta.get(key) != expected[key]:
            raise IndexMismatchError(f"{index_dir}: index has {key}={meta.get(key)!r}, "
                                     f"this run has {key}={expected[key]!r}; "
                                     "signatures made with different parameters cannot be compared")
    return meta


def index_files(paths: Sequence[str], config: DedupConfig) -> list[str]:
    """URIs/paths of every part file of the given indexes (metadata checked), in a fixed order."""
    files = []
    for path in paths:
        directory = resolve(path)
        meta = read_meta(directory, config)
        files.extend(f"{directory.rstrip('/')}/{name}" for name in meta["files"])
    return files


def read_index(paths: Sequence[str], config: DedupConfig) -> pa.Table:
    """All rows of the given indexes (single machine), duplicates of the same (id, exact_hash) removed."""
    tables = []
    for file in index_files(paths, config):
        fs, inner = _filesystem(file)
        tables.append(pq.read_table(inner, filesystem=fs, schema=INDEX_SCHEMA))
    if not tables:
        return INDEX_SCHEMA.empty_table()
    table = pa.concat_tables(tables).sort_by([("id", "ascending"), ("exact_hash", "ascending")])
    ids = table.column("id").to_pylist()
    hashes = table.column("exact_hash").to_pylist()
    keep = [i == 0 or (ids[i], hashes[i]) != (ids[i - 1], hashes[i - 1]) for i in range(len(ids))]
    return table.filter(pa.array(keep))


def signature_matrix(table: pa.Table, num_perm: int) -> np.ndarray:
    """(rows, num_perm) uint32 from the index's `signature` column; checks every row's length."""
    column = table.column("signature")
    lengths = pc.list_value_length(column)
    if table.num_rows and (pc.min(lengths).as_py() != num_perm or pc.max(lengths).as_py() != num_perm):
        raise ValueError(f"index signatures have {pc.min(lengths).as_py()}..{pc.max(lengths).as_py()} values, "
                         f"expected {num_perm=}")
    values = pc.list_flatten(column).to_numpy(zero_copy_only=False).astype(np.uint32, copy=False)
    return values.reshape(table.num_rows, num_perm)


WRITTEN_SCHEMA = pa.schema([pa.field("file", pa.int64()), pa.field("rows", pa.int64())])


def write_parts_fn(index_dir: str):
    """Arrow batch function for Spark: rows (file, id, exact_hash, signature list<int32>) of whole files
    (repartitioned by `file`) -> one written part per file, sorted by id; yields (file, rows)."""

    def run(batches):
        tables = [pa.Table.from_batches([batch]) for batch in batches if batch.num_rows]
        if not tables:
            return
        table = pa.concat_tables(tables)
        numbers = table.column("file").to_numpy()
        for number in sorted(set(numbers.tolist())):
            part = table.filter(pa.array(numbers == number))
            flat = pc.list_flatten(part.column("signature")).to_numpy(zero_copy_only=False)
            signatures = flat.astype(np.int32).view(np.uint32)
            width = len(signatures) // max(part.num_rows, 1)
            rows = index_table(part.column("id").to_pylist(), part.column("exact_hash").to_pylist(),
                               signatures.reshape(part.num_rows, width))
            write_part(index_dir, number, rows)
            yield pa.RecordBatch.from_arrays([pa.array([number], pa.int64()), pa.array([part.num_rows], pa.int64())],
                                             schema=WRITTEN_SCHEMA)

    return run
