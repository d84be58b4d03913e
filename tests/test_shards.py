"""Shard writer and reader: the modded-nanogpt/llm.c byte layout, the .idx sidecar, random access, and
loud refusal of corrupted files."""
from __future__ import annotations

import hashlib
import struct

import numpy as np
import pytest

from tokenizer.shards import HEADER_BYTES, ShardFormatError, ShardReader, token_dtype, write_shard

SEP = 0


def documents_to_shard(docs: list[list[int]], dtype: str) -> tuple[np.ndarray, np.ndarray]:
    tokens = np.array([t for doc in docs for t in [SEP, *doc]], dtype=dtype)
    starts = np.cumsum([0] + [len(doc) + 1 for doc in docs[:-1]])
    return tokens, starts


DOCS16 = [[5, 6, 7], [], [65535, 1, 2, 3, 4], [9]]
DOCS32 = [[70_000, 5], [2**32 - 1], [], [65_536, 65_535, 3]]


def test_uint16_shard_is_read_by_a_modded_nanogpt_style_reader(tmp_path):
    tokens, starts = documents_to_shard(DOCS16, "uint16")
    info = write_shard(tmp_path / "train-00000.bin", tokens, starts, SEP)
    path = tmp_path / "train-00000.bin"
    # modded-nanogpt's _load_data_shard, with numpy instead of torch
    with open(path, "rb") as f:
        header = np.fromfile(f, dtype=np.int32, count=256)
    assert header[0] == 20240520, "magic number mismatch in the data .bin file"
    assert header[1] == 1, "unsupported version"
    num_tokens = int(header[2])
    read = np.fromfile(path, dtype=np.uint16, offset=1024)
    assert len(read) == num_tokens == 4 + 1 + 6 + 2
    assert read.tolist() == [0, 5, 6, 7, 0, 0, 65535, 1, 2, 3, 4, 0, 9]
    assert path.stat().st_size == 1024 + 2 * num_tokens
    assert header[3:5].tolist() == [4, SEP] and not header[5:].any()
    assert info.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (info.tokens, info.documents) == (13, 4)


def test_uint32_shard_uses_llmc_magic_and_reads_back(tmp_path):
    assert token_dtype(65_536) == np.uint16 and token_dtype(65_537) == np.uint32
    tokens, starts = documents_to_shard(DOCS32, "uint32")
    write_shard(tmp_path / "s.bin", tokens, starts, SEP)
    header = np.fromfile(tmp_path / "s.bin", dtype="<i4", count=256)
    assert header[:3].tolist() == [20240801, 7, 10]
    assert np.fromfile(tmp_path / "s.bin", dtype="<u4", offset=HEADER_BYTES).tolist() == tokens.tolist()
    reader = ShardReader(tmp_path / "s.bin")
    assert reader.dtype == np.dtype("<u4")
    assert [reader.document(i).tolist() for i in range(len(reader))] == DOCS32


def test_random_access_to_documents(tmp_path):
    tokens, starts = documents_to_shard(DOCS16, "uint16")
    write_shard(tmp_path / "s.bin", tokens, starts, SEP)
    reader = ShardReader(tmp_path / "s.bin")
    assert len(reader) == 4 and isinstance(reader.tokens, np.memmap)
    assert [reader.document(i).tolist() for i in range(4)] == DOCS16
    assert reader.document(2, with_separator=True).tolist() == [SEP, *DOCS16[2]]
    assert reader.document(-1).tolist() == DOCS16[-1]
    assert reader.document_lengths().tolist() == [4, 1, 6, 2]
    with pytest.raises(IndexError):
        reader.document(4)
    idx = (tmp_path / "s.idx").read_bytes()
    assert idx[:8] == b"TOKIDX\x00\x01" and struct.unpack_from("<IIQQ", idx, 8) == (1, 2, 4, 13)
    assert np.frombuffer(idx, dtype="<i8", offset=32).tolist() == [0, 4, 5, 11]


@pytest.fixture
def shard(tmp_path):
    tokens, starts = documents_to_shard(DOCS16, "uint16")
    info = write_shard(tmp_path / "s.bin", tokens, starts, SEP)
    return tmp_path / "s.bin", info


def corrupt(path, offset: int, data: bytes) -> None:
    raw = bytearray(path.read_bytes())
    raw[offset:offset + len(data)] = data
    path.write_bytes(bytes(raw))


def test_reader_refuses_bad_magic(shard):
    path, _ = shard
    corrupt(path, 0, np.array([20240521], dtype="<i4").tobytes())
    with pytest.raises(ShardFormatError, match=r"unknown magic=20240521 version=1"):
        ShardReader(path)


def test_reader_refuses_truncated_shard(shard):
    path, _ = shard
    path.write_bytes(path.read_bytes()[:-2])
    with pytest.raises(ShardFormatError, match=r"n_tokens=12 != header_tokens=13"):
        ShardReader(path)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ShardFormatError, match=r"file_bytes=100 is shorter than the 1024-byte header"):
        ShardReader(path)


def test_reader_checks_sha256_when_given(shard):
    path, info = shard
    ShardReader(path, expected_sha256=info.sha256, expected_idx_sha256=info.idx_sha256)
    corrupt(path, HEADER_BYTES + 2, np.array([6], dtype="<u2").tobytes())  # a token changed, sizes intact
    with pytest.raises(ShardFormatError, match=f"!= expected_sha256='{info.sha256}'"):
        ShardReader(path, expected_sha256=info.sha256)


def test_reader_refuses_a_bad_index(shard):
    path, _ = shard
    idx = path.with_suffix(".idx")
    good = idx.read_bytes()
    idx.write_bytes(good[:-8])
    with pytest.raises(ShardFormatError, match=r"len\(data\)=56 != 32 \+ 8 \* idx_documents=4"):
        ShardReader(path)
    idx.write_bytes(good[:32] + np.array([0, 4, 6, 11], dtype="<i8").tobytes())
    with pytest.raises(ShardFormatError, match=r"document 2 starts with token 65535, not the separator 0"):
        ShardReader(path)
    idx.write_bytes(b"MMIDIDX\x00" + good[8:])
    with pytest.raises(ShardFormatError, match=r"magic=b'MMIDIDX\\x00'"):
        ShardReader(path)
    idx.write_bytes(good[:16] + struct.pack("<QQ", 5, 13) + good[32:])
    with pytest.raises(ShardFormatError, match=r"idx_documents=5\) != shard's \(2, header_tokens=13, header_documents=4\)"):
        ShardReader(path)
    idx.unlink()
    with pytest.raises(ShardFormatError, match=r"s.idx: missing"):
        ShardReader(path)


def test_writer_refuses_what_would_break_the_layout(tmp_path):
    tokens, starts = documents_to_shard(DOCS16, "uint16")
    with pytest.raises(ShardFormatError, match=r"separator_id=5 occurs inside|does not start with separator_id=5"):
        write_shard(tmp_path / "a.bin", tokens, starts, 5)
    inside = tokens.copy()
    inside[2] = SEP
    with pytest.raises(ShardFormatError, match=r"occurs inside a document"):
        write_shard(tmp_path / "a.bin", inside, starts, SEP)
    with pytest.raises(ShardFormatError, match=r"n_documents=0 must be > 0"):
        write_shard(tmp_path / "a.bin", tokens[:0], starts[:0], SEP)
    with pytest.raises(ShardFormatError, match=r"must be uint16 or uint32, got int64"):
        write_shard(tmp_path / "a.bin", tokens.astype(np.int64), starts, SEP)
    assert not list(tmp_path.iterdir())  # nothing half-written
