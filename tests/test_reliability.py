"""Crashes and retries at the process level (issue 11), with the jobs run as users run them (subprocesses):

- `spark-submit jobs/build_corpus.py` SIGKILLed with its whole process session (JVM, Python workers,
  extraction sandboxes) at seeded random points, rerun, and compared file by file with an uninterrupted
  run (benchmarks/kill_trials.py; the in-process resume tests are in test_build_corpus.py);
- a Spark task that fails once per input and pass (`CORPUS_FAIL_ONCE_DIR`, pipeline/spark.py) on a master
  that retries: the job finishes with the clean run's files, each record counted once;
- `jobs/tokenize_corpus.py` killed with its local Ray the same way (slow: set CORPUS_SLOW_TESTS=1).

The corpus job's fixed cost (JVM start, the dedup stage's Spark jobs) is about a minute per run here, so
three kill trials (a kill, then a full rerun each) take several minutes however small the input; they run
in `make test` because a kill must be shown to resume. The tokenize trials run only with CORPUS_SLOW_TESTS=1.
"""
from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from benchmarks.kill_trials import (build_progress, differences, kill_trials, run_to_completion, short_temp_dir,
                                    tokenize_progress)
from pipeline.corpus import part_name
from pipeline.spark import FAIL_ONCE_ENV
from tests.process_jobs import ROOT, reference_build, reference_tokens
from tokenizer.testing import sample_documents, write_corpus

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
            "warc_path": path, "pass": number, "attempt": 0, "code_file": str(ROOT / "pipeline" / "spark.py")}
        assert f"injected failure of pass {number} for {path} (attempt=0)" in log.read_text()
    assert differences(out, retried) == []  # summary.json included: nothing counted twice


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
