"""Reading `OUT/corpus/` for the tokenizer jobs: the part files in sorted order, their rows in record
batches, and the per-document hashes that decide samples and splits.

Decisions depend only on a document's `id` (a stable WARC-Record-ID) and a seed, never on file order,
batch boundaries or which worker saw the row (datatrove and Dolma sample the same way).

The corpus directory is a local path or a URI of any pyarrow filesystem (s3://, gs://, hdfs://, file://): parts
are listed and read through pyarrow (`pipeline.inputs`), on the driver and inside the workers' tasks alike.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Iterator
from urllib.parse import quote, unquote

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from pipeline.inputs import _filesystem, is_uri

UNKNOWN_LANGUAGE = "und"  # ISO 639 "undetermined": rows without a `lang` value


def join_location(directory: str | Path, name: str) -> str:
    """`name` inside `directory`: a URI keeps its scheme and gets the name percent-encoded (as
    `FileSystem.from_uri` parses it back), a local path is joined."""
    directory = str(directory)
    if is_uri(directory):
        return f"{directory.rstrip('/')}/{quote(name, safe='')}"
    return os.path.join(directory, name)


def read_location(location: str) -> bytes:
    """The bytes of a file named by a local path or a URI."""
    fs, path = _filesystem(str(location))
    with fs.open_input_stream(path) as stream:
        return stream.read()


def absolute_location(location: str | Path) -> str:
    """A URI as it is, a local path made absolute: what the workers are handed, whatever their directory."""
    return str(location) if is_uri(str(location)) else os.path.abspath(location)


def corpus_parts(corpus_dir: str | Path) -> list[str]:
    """The data files of a corpus directory (`part-*.parquet`; names starting with `_` are not data): their
    locations (`join_location`), sorted by name."""
    location = str(corpus_dir)
    try:
        fs, root = _filesystem(location)
        kind = fs.get_file_info(root).type
    except (pa.ArrowException, ValueError) as error:  # an unknown scheme or a malformed URI
        raise FileNotFoundError(f"corpus directory {location} cannot be read: {error}") from error
    if kind != pafs.FileType.Directory:
        raise FileNotFoundError(f"corpus directory {location} does not exist")
    names = sorted(info.base_name for info in fs.get_file_info(pafs.FileSelector(root))
                   if info.type == pafs.FileType.File and info.base_name.endswith(".parquet")
                   and not info.base_name.startswith(("_", ".")))
    if not names:
        raise FileNotFoundError(f"no *.parquet data files in {location}")
    return [join_location(location, name) for name in names]


def part_name(location: str) -> str:
    """The file name of a part location (what manifests and part caches are keyed by)."""
    if is_uri(location):
        return unquote(location.rstrip("/").rsplit("/", 1)[-1])
    return os.path.basename(location)


def corpus_fingerprint(parts: list[str]) -> list[dict[str, int | str]]:
    """Name, size and row count of every part (from the Parquet footer: no data is read)."""
    fingerprint = []
    for part in parts:
        fs, path = _filesystem(part)
        with fs.open_input_file(path) as stream:
            fingerprint.append({"name": part_name(part), "bytes": stream.size(),
                                "rows": pq.ParquetFile(stream).metadata.num_rows})
    return fingerprint


def unit_hash(*keys: str) -> float:
    """A uniform number in [0, 1) from blake2b of the keys: the same on every machine and Python run."""
    digest = hashlib.blake2b("\x1f".join(keys).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def read_batches(part: str | Path, columns: tuple[str, ...], batch_rows: int) -> Iterator[pa.RecordBatch]:
    """Record batches of `columns` (those the file has; `id` and `text` are required), in row order."""
    fs, path = _filesystem(str(part))
    with fs.open_input_file(path) as stream:
        parquet = pq.ParquetFile(stream)
        schema = parquet.schema_arrow
        missing = [name for name in ("id", "text") if name not in schema.names]
        if missing:
            raise ValueError(f"{part}: corpus file lacks column(s) {missing} (has {schema.names})")
        present = [name for name in columns if name in schema.names]
        yield from parquet.iter_batches(batch_size=batch_rows, columns=present)


def column_or_none(batch: pa.RecordBatch, name: str) -> list[str | None]:
    """The column as Python values, or all None when the file has no such column."""
    if name in batch.schema.names:
        return batch.column(name).cast(pa.string()).to_pylist()
    return [None] * batch.num_rows
