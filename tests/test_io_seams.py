"""The one-of-each mechanisms: atomic writes, the Parquet writer, the config-hash header, the repeated-id rule."""
from __future__ import annotations

import hashlib
import io
import random
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from storage.atomic import atomic_path, write_atomic
from pipeline.corpus import repeated_across_inputs
from storage.parquet import write_parquet
from pipeline.spark.job import flag_repeats
from pipeline.toml_config import config_hash, read_config_hash, to_toml


def test_write_atomic_returns_the_sha256_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "a.bin"
    digest = write_atomic(target, [b"abc", b"def"])
    assert target.read_bytes() == b"abcdef" and digest == hashlib.sha256(b"abcdef").hexdigest()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin"]


def test_a_failed_write_keeps_the_previous_version_and_removes_its_temporary(tmp_path):
    target = tmp_path / "a.bin"
    target.write_bytes(b"old")

    def chunks():
        yield b"half"
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, chunks())
    with pytest.raises(RuntimeError, match="killed"):
        with atomic_path(target) as temporary:
            open(temporary, "wb").write(b"half a checkpoint")  # the trainer's torch.save writes a path like this
            raise RuntimeError("killed")
    assert target.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["a.bin"]


@pytest.mark.parametrize("row_group_rows", [None, 1000])
def test_write_parquet_writes_the_bytes_of_zstd_write_table(row_group_rows):
    table = pa.table({"id": [f"doc-{i}" for i in range(2500)], "row": list(range(2500))})
    ours, theirs = io.BytesIO(), io.BytesIO()
    write_parquet(table, ours, row_group_rows)
    pq.write_table(table, theirs, compression="zstd", row_group_size=row_group_rows)
    assert ours.getvalue() == theirs.getvalue()
    metadata = pq.read_metadata(io.BytesIO(ours.getvalue()))
    assert metadata.num_row_groups == (3 if row_group_rows else 1)
    assert metadata.row_group(0).column(0).compression == "ZSTD"


@dataclass(frozen=True)
class _Section:
    n: int = 1


@dataclass(frozen=True)
class _Job:
    section: _Section = _Section()


def test_the_config_hash_header_reads_back():
    first_line = to_toml(_Job()).split("\n", 1)[0]
    assert first_line == f"# config_hash = {config_hash(_Job())}"
    assert read_config_hash(first_line) == config_hash(_Job()) != config_hash(_Job(_Section(2)))
    assert read_config_hash("[section]") is None


def test_the_spark_path_applies_the_rule_to_whole_id_groups_across_batches():
    rng = random.Random(7)
    for _ in range(300):
        rows = sorted((f"id{rng.randint(0, 6)}", f"file-{rng.randint(0, 3)}") for _ in range(rng.randint(0, 30)))
        table = pa.table({"id": [r[0] for r in rows], "warc_path": [r[1] for r in rows]}, schema=pa.schema(
            [("id", pa.string()), ("warc_path", pa.string())]))
        cuts = sorted(rng.sample(range(len(rows) + 1), k=min(len(rows) + 1, rng.randint(0, 6))))
        # batches as Spark hands them over: an id's rows may be split between batches, and a batch may be empty
        batches = [pa.RecordBatch.from_pylist(table.slice(a, b - a).to_pylist(), schema=table.schema)
                   for a, b in zip([0] + cuts, cuts + [len(rows)])]
        flagged = pa.Table.from_batches(list(flag_repeats(iter(batches))),
                                        schema=table.schema.append(pa.field("repeat", pa.bool_())))
        lowest = {doc_id: min(path for i, path in rows if i == doc_id) for doc_id, _ in rows}
        assert flagged.column("id").to_pylist() == [r[0] for r in rows]
        assert flagged.column("repeat").to_pylist() == [path != lowest[doc_id] for doc_id, path in rows]
        assert repeated_across_inputs([r[0] for r in rows], [r[1] for r in rows]) == flagged.column("repeat").to_pylist()
