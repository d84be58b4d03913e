"""Crashes and retries at the process level (issue 11), with the jobs run as users run them (subprocesses):

- `spark-submit jobs/build_corpus.py` SIGKILLed with its whole process session (JVM, Python workers,
  extraction sandboxes) at seeded random points, rerun, and compared file by file with an uninterrupted
  run (testkit/kill_trials.py; the in-process resume tests are in test_build_corpus.py);
- a Spark task that fails once per input and pass (`CORPUS_FAIL_ONCE_DIR`, pipeline/spark/job.py) on a master
  that retries: the job finishes with the clean run's files, each record counted once;
- `jobs/run_stages.py` run in two fresh processes with different hash seeds: the same bytes (the other
  determinism tests rerun inside one process, where a set's iteration order or a process-wide cache
  cannot differ between the runs);
- `jobs/tokenize_corpus.py` killed with its local Ray the same way: one trial in the default suite, killed
  at a fixed phase (while it packs shards), and three at seeded random points with CORPUS_SLOW_TESTS=1.

The corpus job's fixed cost (JVM start, the dedup stage's Spark jobs) is about a minute per run here, so
three kill trials (a kill, then a full rerun each) take several minutes however small the input; they run
in `make test` because a kill must be shown to resume. A tokenize run spends most of its time starting Ray
(about 30 s on a loaded 2-core machine), so the default suite has one tokenize trial: the job on its local
Ray is killed (whole session: driver, GCS, raylet, workers) as soon as its first shard is packed, resumed
without Ray (`--no-ray`: the same bytes, one Ray start fewer) and compared file by file with an
uninterrupted `--no-ray` run. The three random-point tokenize trials (a Ray reference run, then a kill and
a Ray rerun each; about 140 s) run only with CORPUS_SLOW_TESTS=1.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
from collections import Counter
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from pipeline.corpus import part_name
from pipeline.spark.job import FAIL_ONCE_ENV
from testkit.kill_trials import build_progress, count_files, differences, file_digests, kill_trials, tokenize_progress
from testkit.processes import run_to_completion, short_temp_dir
from testkit.text_corpus import sample_documents, write_corpus
from tests.process_jobs import (ENGLISH_TEXTS, ROOT, TEST_SETS, reference_build, reference_tokens, run_and_kill_when,
                                small_setup, write_inputs)
from tokenizer.config import TokenizerConfig
from tokenizer.train import train_tokenizer

TRIALS = 3
SEED = 12  # draws kills at 0.57, 0.91, 0.26 of the corpus run and 0.49, 0.31, 0.74 of the tokenize run
slow = pytest.mark.skipif(os.environ.get("CORPUS_SLOW_TESTS") != "1",
                          reason="slow (minutes on a 2-core machine): set CORPUS_SLOW_TESTS=1")


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """(setup, output, seconds) of the uninterrupted local-mode corpus run (shared with test_cluster.py)."""
    return reference_build(tmp_path_factory.getbasetemp())


def records_by_type(paths: list[str]) -> Counter:
    """WARC records per type, counted with warcio (an independent reader)."""
    counts: Counter = Counter()
    for path in paths:
        with open(path, "rb") as stream:
            counts.update(record.rec_type for record in ArchiveIterator(stream))
    return counts


def test_inputs_and_reference_run_are_what_the_tests_assume(reference):
    setup, out, _ = reference
    assert records_by_type(setup.inputs) == {"warcinfo": 2, "request": 1, "response": 9}
    summary = json.loads((out / "stats" / "summary.json").read_text())
    # by construction (tests/process_jobs.py): a 404, an image, and one article in both files
    assert (summary["records_read"], summary["documents"], summary["kept"]) == (12, 9, 6)
    assert summary["dropped_by_reason"] == {"dedup:exact_duplicate": 1, "extract:not_html": 1,
                                            "warc:non_200_status": 1}


def test_corpus_job_killed_at_random_points_resumes_to_identical_output(reference, tmp_path):
    setup, out, reference_s = reference
    trials = kill_trials("build", setup.build_command, lambda run: build_progress(run, len(setup.inputs)), out,
                         reference_s, TRIALS, SEED, tmp_path, setup.env(tmp_path / "ray"))
    assert sum(trial.killed for trial in trials) == TRIALS
    assert [trial.differences for trial in trials] == [[] for _ in trials]


def test_task_failing_once_per_input_is_retried_and_counted_once(reference, tmp_path):
    setup, out, _ = reference
    fail_dir = tmp_path / "faults"
    fail_dir.mkdir()
    retried = tmp_path / "out"
    command = setup.build_command(retried)
    # local[2,4]: 2 threads, 4 attempts per task (plain local mode never retries a task)
    command[1:1] = ["--master", "local[2,4]", "--conf", f"spark.executorEnv.{FAIL_ONCE_ENV}={fail_dir}"]
    log = tmp_path / "job.log"
    run_to_completion(command, setup.env(tmp_path / "ray"), log)

    expected = {f"pass{number}-{part_name(path)}.json": (number, path) for number in (0, 1) for path in setup.inputs}
    assert sorted(p.name for p in fail_dir.iterdir()) == sorted(expected)  # extract and commit failed once each
    for name, (number, path) in expected.items():
        assert json.loads((fail_dir / name).read_text()) == {
            "warc_path": path, "pass": number, "attempt": 0, "code_file": str(ROOT / "pipeline" / "spark" / "job.py")}
        assert f"injected failure of pass {number} for {path} (attempt=0)" in log.read_text()
    assert differences(out, retried) == []  # summary.json included: nothing counted twice


def table_inputs(directory: Path, files: int = 4) -> list[str]:
    """JSONL files of two sample texts each (the second file repeats the first's first text under another id):
    with the two WARC files, enough inputs that an input order drawn from a set differs between processes."""
    texts = sorted(ENGLISH_TEXTS.glob("*.txt"))[6:6 + 2 * files - 1]
    texts.insert(2, texts[0])
    paths = []
    for number in range(files):
        rows = [{"id": f"doc-{number}-{k}", "url": f"https://table.example/{number}/{k}",
                 "text": texts[2 * number + k].read_text(encoding="utf-8")} for k in range(2)]
        path = directory / f"table-{number}.jsonl"
        path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
        paths.append(str(path))
    return paths


def test_run_stages_in_two_fresh_processes_writes_identical_bytes(tmp_path):
    inputs = write_inputs(tmp_path / "inputs") + table_inputs(tmp_path / "inputs")
    runs = [tmp_path / "run-a", tmp_path / "run-b"]
    for out, hash_seed in zip(runs, ("1", "2")):  # str hashes, and so set order, differ between the two
        command = [sys.executable, str(ROOT / "jobs" / "run_stages.py"), "--input", *inputs, "--output", str(out),
                   *[arg for value in TEST_SETS for arg in ("--set", value)]]
        run_to_completion(command, dict(os.environ, PYTHONHASHSEED=hash_seed), tmp_path / f"{out.name}.log")
    first, second = (file_digests(out) for out in runs)
    # every file the job writes (none of run_stages' outputs is documented as varying between runs)
    assert {"_config.toml", "documents.parquet", "stats/summary.json", "dedup/index/_index.json"} <= set(first)
    assert first == second
    summary = json.loads((runs[0] / "stats" / "summary.json").read_text())
    # the WARC files as in the Spark reference run (12 records, 9 documents, 6 kept), and 8 table rows of which
    # one repeats another's text
    assert (summary["inputs"], summary["records_read"], summary["documents"], summary["kept"]) == (6, 20, 17, 13)
    assert summary["dropped_by_reason"] == {"dedup:exact_duplicate": 2, "extract:not_html": 1,
                                            "warc:non_200_status": 1}


def test_tokenize_job_killed_while_packing_shards_resumes_to_identical_output(tmp_path):
    setup = small_setup(tmp_path, [])
    corpus, tokenizer = tmp_path / "corpus", tmp_path / "tokenizer.json"
    docs = sample_documents()  # 69 documents in 12 languages; with 512-token shards, dozens of shards
    write_corpus(corpus, docs, parts=4)
    texts = [doc["text"] for doc in docs if doc["text"]]
    train_tokenizer(texts, len(texts), TokenizerConfig(vocab_size=600)).save(str(tokenizer))
    reference, trial = tmp_path / "reference", tmp_path / "trial"

    def command(out: Path, *flags: str) -> list[str]:
        return setup.tokenize_command(corpus, tokenizer, out) + list(flags)

    ray_tmp = short_temp_dir("raytest")  # Ray's socket paths must be short; its own, so no other Ray is met
    try:
        env = setup.env(ray_tmp)
        run_to_completion(command(reference, "--no-ray"), env, tmp_path / "reference.log")
        killed = run_and_kill_when(command(trial), env, lambda: count_files(trial / "_done", "*.json") > 0,
                                   tmp_path / "trial.log")
        state = tokenize_progress(trial)
        packed = count_files(trial / "_done", "*.json")
        run_to_completion(command(trial, "--no-ray"), env, tmp_path / "trial.log")
    finally:
        shutil.rmtree(ray_tmp, ignore_errors=True)
    shards = len(json.loads((reference / "manifest.json").read_text())["shards"])
    assert killed >= 3, state  # the driver and its local Ray's daemons at least
    # killed mid-pack: every part encoded, some shards packed but not all, no manifest yet
    assert state.startswith("parts encoded 4, ") and "manifest no" in state, state
    assert 1 <= packed < shards, (packed, shards)
    assert differences(reference, trial) == []
    assert not (trial / "_parts").exists() and not list(trial.rglob("*.tmp-*"))


@slow
def test_tokenize_job_killed_at_random_points_resumes_to_identical_output(reference, tmp_path, tmp_path_factory):
    setup, _, _ = reference
    tokenizer, _, _ = reference_tokens(tmp_path_factory.getbasetemp())
    # More work than the two-file corpus (about 200 documents in 12 languages, 8 parts), so that kills also
    # land while parts are encoded and shards packed, not only while Ray starts.
    corpus = tmp_path / "corpus"
    write_corpus(corpus, sample_documents(), parts=8)

    def command(run: Path) -> list[str]:
        return setup.tokenize_command(corpus, tokenizer, run)

    ray_tmp = short_temp_dir("raytest")  # Ray's socket paths must be short; its own, so no other Ray is met
    try:
        env = setup.env(ray_tmp)
        reference_s = run_to_completion(command(tmp_path / "reference"), env, tmp_path / "reference.log")
        manifest = json.loads((tmp_path / "reference" / "manifest.json").read_text())
        assert min(split["shards"] for split in manifest["splits"].values()) >= 2  # kills can land between shards
        trials = kill_trials("tokenize", command, tokenize_progress, tmp_path / "reference", reference_s, TRIALS,
                             SEED, tmp_path, env)
    finally:
        shutil.rmtree(ray_tmp, ignore_errors=True)
    assert sum(trial.killed for trial in trials) == TRIALS
    assert [trial.differences for trial in trials] == [[] for _ in trials]
