"""The tokenize job: round trip of every document, the split by id hash, sampling weights, byte-identical
output with 1 and 2 Ray workers and without Ray, resume after a kill, refusal of a foreign rerun, uint32,
and the test session's own Ray whatever RAY_ADDRESS says."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from tokenizers import Tokenizer

from jobs import tokenize_corpus as job
from pipeline.outputs import RunMismatchError
from tests.token_cases import (LONG_TEXT, SHARD_TOKENS, VAL_FRACTION, corpus_in, documents_with, is_val, output_files,
                               save_small_tokenizer, save_wide_tokenizer, tokenize_serially)
from testkit.text_corpus import write_corpus
from tokenizer import encode
from tokenizer.config import TokenizeConfig, TokenizeJobConfig
from tokenizer.encode import serial_map, tokenize_corpus
from tokenizer.shards import ShardFormatError, open_shards

CONFIG = TokenizeJobConfig(TokenizeConfig(val_fraction=VAL_FRACTION, shard_tokens=SHARD_TOKENS, batch_rows=4))


@pytest.fixture(scope="module")
def docs():
    return documents_with([{"id": "long", "text": LONG_TEXT, "lang": "en"}, {"id": "null", "text": None, "lang": None}])


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, docs):
    return corpus_in(tmp_path_factory.mktemp("corpus"), docs)


@pytest.fixture(scope="module")
def tokenizer_path(tmp_path_factory, docs):
    return save_small_tokenizer(tmp_path_factory.mktemp("tok") / "tokenizer.json", docs)


@pytest.fixture(scope="module")
def reference(tmp_path_factory, corpus, tokenizer_path):
    """The run without Ray that every other run must reproduce byte for byte."""
    out = tmp_path_factory.mktemp("reference")
    manifest = tokenize_serially(corpus, tokenizer_path, out, CONFIG)
    return out, manifest


def read_documents(directory: Path, split: str) -> list[tuple[str, str, int, list[int]]]:
    """(id, part, row, tokens) of every document of `split`, in shard order, through the manifest."""
    found = []
    for reader in open_shards(directory, split, verify_sha256=True):
        lineage = pq.read_table(reader.path.with_suffix(".docs.parquet")).to_pylist()
        assert len(lineage) == len(reader)
        found += [(row["id"], row["part"], row["row"], reader.document(i).tolist()) for i, row in enumerate(lineage)]
    return found


def test_every_document_round_trips_in_its_split(reference, docs, corpus, tokenizer_path):
    out, manifest = reference
    tokenizer = Tokenizer.from_file(str(tokenizer_path))
    texts = {d["id"]: d["text"] for d in docs}
    expected_order = {split: [] for split in ("train", "val")}
    for part in sorted(corpus.glob("part-*.parquet")):
        for row, (identifier, text) in enumerate(zip(*pq.read_table(part, columns=["id", "text"]).to_pydict().values())):
            if text is not None:
                expected_order["val" if is_val(identifier) else "train"].append((identifier, part.name, row))
    assert expected_order["val"] and expected_order["train"]
    for split in ("train", "val"):
        found = read_documents(out, split)
        assert [(i, p, r) for i, p, r, _ in found] == expected_order[split]
        for identifier, _, _, tokens in found:
            assert tokenizer.decode(tokens, skip_special_tokens=False) == texts[identifier]
    assert manifest["source_corpus"]["null_text"] == 1 and manifest["source_corpus"]["rows"] == len(docs)
    assert manifest["dtype"] == "uint16" and manifest["tokenizer"]["separator_id"] == 0
    assert manifest["tokenizer"]["sha256"] == hashlib.sha256(tokenizer_path.read_bytes()).hexdigest()
    for entry in manifest["shards"]:
        assert entry["sha256"] == hashlib.sha256((out / entry["name"]).read_bytes()).hexdigest()
        assert entry["tokens"] <= SHARD_TOKENS or entry["documents"] == 1  # only a long document overflows
    assert any(entry["tokens"] > SHARD_TOKENS for entry in manifest["shards"])
    by_language = manifest["splits"]["train"]["by_language"]
    assert sum(row["tokens"] for row in by_language.values()) == manifest["splits"]["train"]["tokens"]


def test_modded_nanogpt_reader_reads_every_shard(reference):
    out, manifest = reference
    for entry in manifest["shards"]:
        path = out / entry["name"]
        with open(path, "rb") as f:
            header = np.fromfile(f, dtype=np.int32, count=256)
        assert header[0] == 20240520 and header[1] == 1
        tokens = np.fromfile(path, dtype=np.uint16, offset=1024)
        assert len(tokens) == header[2] == entry["tokens"]
        assert tokens[0] == 0 and np.count_nonzero(tokens == 0) == entry["documents"]


def test_manifest_catches_a_changed_shard(reference, tmp_path):
    out, manifest = reference
    copy = tmp_path / "copy"
    copy.mkdir()
    for path in out.iterdir():
        if path.is_file():
            (copy / path.name).write_bytes(path.read_bytes())
    assert len(open_shards(copy, "val", verify_sha256=True)) == manifest["splits"]["val"]["shards"]
    name = manifest["shards"][1]["name"]
    raw = bytearray((copy / name).read_bytes())
    raw[-1] ^= 1  # one bit of the last token
    (copy / name).write_bytes(bytes(raw))
    assert len(open_shards(copy, "train")) == manifest["splits"]["train"]["shards"]  # sizes still agree
    with pytest.raises(ShardFormatError, match=f"{name}: sha256='[0-9a-f]{{64}}' != expected_sha256='{manifest['shards'][1]['sha256']}'"):
        open_shards(copy, "train", verify_sha256=True)


# The session fixture's start (tests/conftest.py) in a process of its own, then a task on what it started.
RAY_PROBE = """
import json, ray
from tests.conftest import start_local_ray
start_local_ray(num_cpus=1)
@ray.remote
def cluster_of_task():
    return ray.get_runtime_context().gcs_address
print(json.dumps({"gcs_address": ray.get_runtime_context().gcs_address,
                  "started_here": ray._private.worker.global_worker.node.head,
                  "task_ran_on": ray.get(cluster_of_task.remote())}))
ray.shutdown()
"""


def test_the_session_ray_is_its_own_whatever_ray_address_says(ray_local):
    # this session started the Ray it uses (a process that attaches to a cluster holds no head node)
    assert ray_local.is_initialized() and ray_local._private.worker.global_worker.node.head
    bogus = "127.0.0.1:9"  # discard port: no Ray there; without address="local", ray.init() would try it
    env = dict(os.environ, RAY_ADDRESS=bogus, TOKENIZERS_PARALLELISM="false")
    probe = subprocess.run([sys.executable, "-c", RAY_PROBE], cwd=Path(__file__).resolve().parents[1], env=env,
                           capture_output=True, text=True, timeout=300)
    assert probe.returncode == 0, probe.stderr[-3000:]
    found = json.loads(probe.stdout.strip().splitlines()[-1])
    assert found["started_here"] is True
    assert found["task_ran_on"] == found["gcs_address"] != bogus


def test_one_and_two_ray_workers_give_identical_bytes(ray_local, reference, corpus, tokenizer_path, tmp_path):
    from tokenizer.ray_engine import ray_mapper

    one = tmp_path / "one"
    tokenize_corpus(str(corpus), str(tokenizer_path), str(one), CONFIG, ray_mapper(1), log=lambda _: None)
    two = tmp_path / "two"  # through the command line, as a user runs it
    args = ["--input", str(corpus), "--tokenizer", str(tokenizer_path), "--output", str(two),
            "--set", f"tokenize.val_fraction={VAL_FRACTION}", "--set", f"tokenize.shard_tokens={SHARD_TOKENS}",
            "--set", "tokenize.num_workers=2", "--set", "tokenize.batch_rows=1000"]
    assert job.main(args) == 0
    expected = output_files(reference[0])
    assert len(expected) == 3 * len(reference[1]["shards"]) + 1
    assert output_files(one) == expected
    assert output_files(two) == expected

    # A killed run (shards, markers and index gone, a shard rewritten, a temporary left) resumes on Ray.
    for name in ("train-00000.bin", "val-00000.idx", "train-00002.docs.parquet"):
        (two / name).unlink()
    (two / "_done" / "train-00001.json").unlink()
    (two / "train-00003.bin").write_bytes((two / "train-00003.bin").read_bytes()[:-2] + b"\x05\x00")
    (two / "train-00004.bin.tmp-deadbeef").write_bytes(b"partial")
    assert job.main(args) == 0
    assert output_files(two) == expected
    assert not list(two.rglob("*.tmp-*")) and not (two / "_parts").exists()


class Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs."""


def test_killed_run_resumes_to_identical_bytes(reference, corpus, tokenizer_path, tmp_path):
    def mapper_killed_after(n_packs: int):
        """A serial mapper that dies, leaving a half-written temporary, when shard n_packs + 1 starts."""
        def run(fn, items, kwargs):
            results = []
            for item in items:
                if fn is encode.pack_shard and len(results) == n_packs:
                    Path(kwargs["settings"].output_dir, "train-00009.bin.tmp-0123").write_bytes(b"half a shard")
                    raise Killed()
                results.append(fn(item, **kwargs))
            return results
        return run

    out = tmp_path / "out"
    with pytest.raises(Killed):
        tokenize_corpus(str(corpus), str(tokenizer_path), str(out), CONFIG, mapper_killed_after(3), log=lambda _: None)
    assert len(list(out.glob("*.bin"))) == 3 and not (out / "manifest.json").exists()
    logs: list[str] = []
    tokenize_corpus(str(corpus), str(tokenizer_path), str(out), CONFIG, serial_map, log=logs.append)
    assert output_files(out) == output_files(reference[0])
    assert not list(out.rglob("*.tmp-*"))

    # Rerunning a finished run verifies and writes nothing; execution-only settings may change.
    mtimes = {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.suffix == ".bin"}
    faster = TokenizeJobConfig(TokenizeConfig(**{**CONFIG.tokenize.__dict__, "num_workers": 7, "batch_rows": 99}))
    tokenize_corpus(str(corpus), str(tokenizer_path), str(out), faster, serial_map, log=logs.append)
    assert logs[-1].startswith("Up to date:")
    assert mtimes == {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.suffix == ".bin"}

    other = TokenizeJobConfig(TokenizeConfig(**{**CONFIG.tokenize.__dict__, "val_fraction": 0.3}))
    with pytest.raises(RunMismatchError, match=r"holds shards of another run \(config_hash differ\)"):
        tokenize_corpus(str(corpus), str(tokenizer_path), str(out), other, serial_map, log=logs.append)


def test_sampling_weights_drop_keep_and_repeat_by_hash(docs, corpus, tokenizer_path, tmp_path):
    weights = {"de": 0.0, "fr": 2.0, "es": 0.5}
    config = TokenizeJobConfig(TokenizeConfig(val_fraction=VAL_FRACTION, shard_tokens=SHARD_TOKENS, seed=7,
                                              language_weights=weights, source_weights={"CC-MAIN-2026-13": 1.0}))
    manifest = tokenize_serially(corpus, tokenizer_path, tmp_path, config)

    def keep_half(identifier: str) -> bool:
        digest = hashlib.blake2b(f"tokenize-sample\x1f7\x1f{identifier}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") / 2**64 < 0.5

    expected: dict[str, int] = {}
    for d in docs:
        if d["text"] is None or d["lang"] == "de" or (d["lang"] == "es" and not keep_half(d["id"])):
            continue
        expected[d["id"]] = 2 if d["lang"] == "fr" and not is_val(d["id"]) else 1
    train = [identifier for identifier, *_ in read_documents(tmp_path, "train")]
    val = [identifier for identifier, *_ in read_documents(tmp_path, "val")]
    found = {identifier: train.count(identifier) + val.count(identifier) for identifier in set(train + val)}
    assert found == expected
    assert 0 < sum(d["lang"] == "es" for d in docs if d["id"] in found) < sum(d["lang"] == "es" for d in docs)
    french = [i for i, identifier in enumerate(train) if expected[identifier] == 2]
    first_pass = len(train) - len(french) // 2
    assert all(i < first_pass for i in french[: len(french) // 2]) and all(i >= first_pass for i in french[len(french) // 2:])
    assert manifest["source_corpus"]["dropped_by_weight"] == len(docs) - 1 - len(expected)
    assert manifest["splits"]["train"]["by_language"]["fr"]["documents"] == 2 * manifest["splits"]["train"]["by_language"]["fr"]["unique_documents"]


def test_large_vocabulary_gives_uint32_shards(corpus, docs, tmp_path):
    tokenizer = save_wide_tokenizer(tmp_path / "big.json")
    small = tmp_path / "small"
    write_corpus(small, docs[:6] + docs[-8:], parts=2)
    out = tmp_path / "out"
    manifest = tokenize_serially(small, tmp_path / "big.json", out, CONFIG)
    assert manifest["dtype"] == "uint32" and manifest["tokenizer"]["vocab_size"] == 69_256
    header = np.fromfile(out / manifest["shards"][0]["name"], dtype=np.int32, count=256)
    assert header[:2].tolist() == [20240801, 7]
    texts = {d["id"]: d["text"] for d in docs}
    found = read_documents(out, "train") + read_documents(out, "val")
    assert len(found) == sum(1 for d in docs[:6] + docs[-8:] if d["text"] is not None)
    for identifier, _, _, tokens in found:
        assert all(t >= 69_000 for t in tokens)
        assert tokenizer.decode(tokens, skip_special_tokens=False) == texts[identifier]


def test_command_line_config_and_errors(corpus, tokenizer_path, tmp_path, capsys):
    base = ["--input", str(corpus), "--tokenizer", str(tokenizer_path), "--output", str(tmp_path / "o")]
    assert job.main(base + ["--dry-run", "--set", "tokenize.shard_tokens=1000"]) == 0
    assert "shard_tokens = 1000" in capsys.readouterr().out
    assert job.main(base + ["--set", "tokenize.shard_tokens=0"]) == 2
    assert "tokenize.shard_tokens: must be >= 1 and <= 2147483647, got 0" in capsys.readouterr().err
    assert job.main(base + ["--set", "tokenize.weights={en=1}"]) == 2
    assert "unknown key 'tokenize.weights'" in capsys.readouterr().err
    assert job.main(base + ["--no-ray", "--set", "tokenize.separator_token='<|bos|>'"]) == 1
    assert "separator token '<|bos|>' is not in the tokenizer's vocabulary" in capsys.readouterr().err
