"""Reading `OUT/corpus/` for the tokenizer jobs: the part files in sorted order, their rows in record
batches, and the per-document hashes that decide samples and splits.

Decisions depend only on a document's `id` (a stable WARC-Record-ID) and a seed, never on file order,
batch boundaries or which worker saw the row (datatrove and Dolma sample the same way).
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Iterator

import pyarrow as pa
import pyarrow.parquet as pq

UNKNOWN_LANGUAGE = "und"  # ISO 639 "undetermined": rows without a `lang` value


def corpus_parts(corpus_dir: str | Path) -> list[Path]:
    """The data files of a corpus directory (`part-*.parquet`; names starting with `_` are not data)."""
    root = Path(corpus_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"corpus directory {root} does not exist")
    parts = sorted(p for p in root.iterdir()
                   if p.is_file() and p.suffix == ".parquet" and not p.name.startswith(("_", ".")))
    if not parts:
        raise FileNotFoundError(f"no *.parquet data files in {root}")
    return parts


def corpus_fingerprint(parts: list[Path]) -> list[dict[str, int | str]]:
    """Name, size and row count of every part (from the Parquet footer: no data is read)."""
    return [{"name": p.name, "bytes": p.stat().st_size, "rows": pq.ParquetFile(p).metadata.num_rows} for p in parts]


def unit_hash(*keys: str) -> float:
    """A uniform number in [0, 1) from blake2b of the keys: the same on every machine and Python run."""
    digest = hashlib.blake2b("\x1f".join(keys).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def read_batches(part: Path, columns: tuple[str, ...], batch_rows: int) -> Iterator[pa.RecordBatch]:
    """Record batches of `columns` (those the file has; `id` and `text` are required), in row order."""
    schema = pq.read_schema(part)
    missing = [name for name in ("id", "text") if name not in schema.names]
    if missing:
        raise ValueError(f"{part}: corpus file lacks column(s) {missing} (has {schema.names})")
    present = [name for name in columns if name in schema.names]
    yield from pq.ParquetFile(part).iter_batches(batch_size=batch_rows, columns=present)


def column_or_none(batch: pa.RecordBatch, name: str) -> list[str | None]:
    """The column as Python values, or all None when the file has no such column."""
    if name in batch.schema.names:
        return batch.column(name).cast(pa.string()).to_pylist()
    return [None] * batch.num_rows
