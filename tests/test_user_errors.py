"""Issue 17: odd names in --input/--output work on both engines, and every user mistake is one line on
stderr and a non-zero exit, never a traceback (the jobs run as real subprocesses)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from dedup.decisions import REASON_EXACT
from pipeline.config import load_config
from pipeline.inputs import HadoopPathError, hadoop_path
from pipeline.spark.job import build_corpus
from testkit.records import ARTICLE, info, response
from testkit.warc_writer import record_id_for, write_warc
from tests.conftest import ROOT

ODD = "out dir [1] é#%?{a,b}*"  # space, glob and URI characters, non-ASCII
DEDUP_ONLY = ["pipeline.stages=['extract', 'dedup']"]


def run_job(script: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, f"jobs/{script}", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def assert_one_line_error(done: subprocess.CompletedProcess, status: int, start: str, *parts: str) -> None:
    """Exit `status`, stderr exactly one line starting with `start` and holding `parts`, no traceback."""
    lines = done.stderr.strip().splitlines()
    assert done.returncode == status, done.stderr[-3000:]
    assert len(lines) == 1 and lines[0].startswith(start), done.stderr[-3000:]
    assert all(part in lines[0] for part in parts), lines[0]


# ------------------------------------------------------------------------------------- odd output names


def page(topic: str) -> str:
    """An article sharing no 5-word shingle with ARTICLE or with another topic's page."""
    words = [f"{topic}{i}" for i in range(400)]
    paragraphs = "".join(f"<p>{' '.join(words[k:k + 40])}.</p>" for k in range(0, 400, 40))
    return f"<html><head><title>{topic}</title></head><body><article>{paragraphs}</article></body></html>"


@pytest.fixture(scope="module")
def odd_inputs(tmp_path_factory) -> list[str]:
    """Two WARCs in a folder and under names with glob and URI characters; page b2 repeats a1 exactly."""
    root = tmp_path_factory.mktemp("in") / "in [x] é#%"
    root.mkdir()
    first = write_warc(root / "a [1] é#%.warc.gz", [info(), response("a1", ARTICLE), response("a2", page("gate"))])
    second = write_warc(root / "b?{1}.warc.gz", [info(), response("b1", page("kite")), response("b2", ARTICLE)])
    return [str(first), str(second)]


@pytest.fixture(scope="module")
def odd_run(spark, odd_inputs, tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("odd") / ODD
    return out, build_corpus(spark, odd_inputs, str(out), load_config(None, DEDUP_ONLY))


def kept_ids(root: Path, folder: str) -> list[str]:
    rows = pq.read_table(root / folder, columns=["id"], ignore_prefixes=[".", "_", "README"])  # corpus/: the card
    return sorted(rows.column("id").to_pylist())


def test_hadoop_paths_name_the_file_literally():
    assert hadoop_path("/data/a b/x[1].parquet", reading=False) == "file:///data/a b/x[1].parquet"
    assert hadoop_path("/d/x[1]*?{2}\\", reading=True) == "file:///d/x\\[1\\]\\*\\?\\{2\\}\\\\"
    assert hadoop_path("s3://bucket/a%20b/%25x", reading=False) == "s3://bucket/a b/%x"
    with pytest.raises(HadoopPathError, match="':'"):
        hadoop_path("/data/a:b", reading=False)


def test_spark_job_writes_into_and_reads_from_odd_names(odd_run):
    out, summary = odd_run
    assert (summary["documents"], summary["kept"], summary["dropped_by_reason"]) == (4, 3, {REASON_EXACT: 1})
    # the exact duplicate pair (a1, b2) keeps its smaller id (dedup.decisions' rank: no quality, then id)
    expected = sorted([record_id_for("a2"), record_id_for("b1"), min(record_id_for("a1"), record_id_for("b2"))])
    assert kept_ids(out, "corpus") == expected
    assert json.loads((out / "dedup" / "index" / "_index.json").read_text())["rows"] == 3


def test_spark_reads_an_index_under_an_odd_name(spark, odd_run, odd_inputs, tmp_path):
    out, _ = odd_run
    config = load_config(None, DEDUP_ONLY + [f"dedup.index_paths=[{json.dumps(str(out / 'dedup'))}]"])
    again = build_corpus(spark, odd_inputs, str(tmp_path / f"{ODD} 2"), config)
    assert (again["kept"], again["dropped_by_reason"]) == (0, {REASON_EXACT: 4})  # all were indexed


def test_in_process_job_gives_the_same_rows_under_odd_names(odd_run, odd_inputs, tmp_path):
    spark_out, _ = odd_run
    local_out = tmp_path / f"local {ODD}"
    done = run_job("run_stages.py", "--stages", "extract,dedup", "--input", str(Path(odd_inputs[0]).parent),
                   "--output", str(local_out))
    assert done.returncode == 0, done.stderr[-3000:]
    local = pq.read_table(local_out / "documents.parquet", columns=["id", "drop_reason"]).to_pylist()
    assert sorted(row["id"] for row in local if row["drop_reason"] is None) == kept_ids(spark_out, "corpus")
    assert json.loads((local_out / "dedup" / "index" / "_index.json").read_text())["rows"] == 3


# ------------------------------------------------------------------------------------- one-line errors


@pytest.fixture(scope="module")
def corpus_input(tmp_path_factory) -> str:
    root = tmp_path_factory.mktemp("small")
    return str(write_warc(root / "a.warc.gz", [info(), response("a1", ARTICLE)]))


@pytest.mark.parametrize("script", ["build_corpus.py", "run_stages.py"])
@pytest.mark.parametrize("extra, start, parts", [
    (["--set", "extract.timeout_seconds=nan"], "config error: ", ["extract.timeout_seconds", "finite"]),
    (["--set", "pipeline.batch_rows=0"], "config error: ", ["pipeline.batch_rows: must be >= 1"]),
    (["--set", "extract.memory_limit_mb=1"], "config error: ", ["extract.memory_limit_mb: must be >= 256"]),
    (["--set", "langid.min_score={en=nan}"], "config error: ", ["langid.min_score.en"]),
    (["--set", "dedup.num_perm=1e8"], "config error: ", ["dedup.num_perm: expected an integer"]),
    (["--set", "extract"], "config error: ", ["--set expects section.key=value"]),
    (["--set", "extract.fast.x=1"], "config error: ", ["extract.fast: expected bool"]),
    (["--config", "/nonexistent/cfg.toml"], "config error: ", ["/nonexistent/cfg.toml", "cannot read"]),
    (["--config", "/"], "config error: ", ["cannot read the config file"]),
])
def test_bad_settings_are_one_line(script, extra, start, parts, corpus_input, tmp_path):
    done = run_job(script, "--input", corpus_input, "--output", str(tmp_path / "o"), *extra)
    assert_one_line_error(done, 2, start, *parts)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("script", ["build_corpus.py", "run_stages.py"])
def test_inputs_matching_nothing_are_one_line(script, tmp_path):
    (tmp_path / "empty").mkdir()
    for spec in [str(tmp_path / "missing.warc.gz"), str(tmp_path / "none-*.warc.gz"), str(tmp_path / "empty"),
                 str(tmp_path / "warc.paths.gz")]:
        done = run_job(script, "--input", spec, "--output", str(tmp_path / "o"))
        assert_one_line_error(done, 2, "input error: ", repr(spec))
    assert not (tmp_path / "o").exists()


def test_outputs_that_cannot_be_used_are_one_line(corpus_input, tmp_path):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    for script in ("build_corpus.py", "run_stages.py"):
        done = run_job(script, "--input", corpus_input, "--output", str(a_file))
        assert_one_line_error(done, 2, "output error: ", "is a file")
        done = run_job(script, "--input", corpus_input, "--output", str(a_file / "below"))
        assert_one_line_error(done, 2, "output error: ", "cannot be created")
    # Spark (Hadoop) cannot list below a name with ':': refused before the session starts
    done = run_job("build_corpus.py", "--input", corpus_input, "--output", str(tmp_path / "a:b"))
    assert_one_line_error(done, 2, "output error: ", "':'")
    assert not (tmp_path / "a:b").exists()


def test_output_of_another_config_is_refused_in_one_line(corpus_input, tmp_path):
    out = str(tmp_path / "o")
    assert run_job("run_stages.py", "--stages", "extract", "--input", corpus_input, "--output", out).returncode == 0
    for script in ("build_corpus.py", "run_stages.py"):
        done = run_job(script, "--input", corpus_input, "--output", out, "--set", "pipeline.stages=['extract']",
                       "--set", "extract.timeout_seconds=3")
        assert_one_line_error(done, 1, "output error: ", "holds output of another config")


@pytest.mark.parametrize("args, status, start, parts", [
    (["--input", "/nonexistent/corpus", "--output", "{tmp}/tok"], 1, "train_tokenizer failed: ", ["/nonexistent/corpus"]),
    (["--input", "{tmp}", "--output", "{tmp}/tok", "--set", "tokenizer.vocab_size=10000000"], 2, "config error: ",
     ["tokenizer.vocab_size: must be <= 1048576"]),
    (["--input", "{tmp}", "--output", "{tmp}/tok", "--set", "tokenizer.heldout_fraction=nan"], 2, "config error: ",
     ["tokenizer.heldout_fraction: expected a finite number"]),
    (["--input", "{tmp}", "--output", "{tmp}/tok", "--config", "{tmp}"], 2, "config error: ", ["cannot read"]),
])
def test_train_tokenizer_errors_are_one_line(args, status, start, parts, tmp_path):
    done = run_job("train_tokenizer.py", *[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert_one_line_error(done, status, start, *parts)


@pytest.mark.parametrize("args, status, start, parts", [
    (["--input", "/nonexistent/corpus", "--tokenizer", "{tmp}/tok.json", "--output", "{tmp}/t"], 2,
     "input error: ", ["/nonexistent/corpus"]),
    (["--input", "{tmp}", "--tokenizer", "{tmp}/missing.json", "--output", "{tmp}/t", "--no-ray"], 2,
     "input error: ", ["missing.json"]),
    (["--input", "{tmp}", "--tokenizer", "{tmp}/t.json", "--output", "{tmp}/t", "--set", "tokenize.val_fraction=1.5"],
     2, "config error: ", ["tokenize.val_fraction: must be >= 0 and < 1"]),
    (["--input", "{tmp}", "--tokenizer", "{tmp}/t.json", "--output", "{tmp}/t", "--set", "tokenize.shard_tokens=0"],
     2, "config error: ", ["tokenize.shard_tokens: must be >= 1"]),
])
def test_tokenize_corpus_errors_are_one_line(args, status, start, parts, tmp_path):
    done = run_job("tokenize_corpus.py", *[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert_one_line_error(done, status, start, *parts)


def test_report_errors_are_one_line(tmp_path):
    done = run_job("report.py", str(tmp_path / "missing"))
    assert_one_line_error(done, 1, "report failed: ", "missing")
    done = run_job("report.py", str(tmp_path))  # a directory that holds no run
    assert_one_line_error(done, 1, "report failed: ", str(tmp_path))


@pytest.mark.parametrize("args, status, start, parts", [
    (["--positives", "/nonexistent/pos.jsonl", "--negatives", "/nonexistent/neg.jsonl", "--output", "{tmp}/m"], 1,
     "train_quality_classifier failed: ", ["/nonexistent/pos.jsonl"]),
    (["--positives", "x", "--negatives", "y", "--output", "{tmp}/m", "--set", "train_quality.lr=nan"], 2,
     "config error: ", ["train_quality.lr: expected a finite number"]),
    (["--positives", "x", "--negatives", "y", "--output", "{tmp}/m", "--set", "train_quality.bucket=1e12"], 2,
     "config error: ", ["train_quality.bucket: expected an integer"]),
    (["--positives", "x", "--negatives", "y", "--output", "{tmp}/m", "--set", "train_quality.dim=100000"], 2,
     "config error: ", ["train_quality.dim: must be <= 4096"]),
    (["--positives", "x", "--negatives", "y", "--output", "{tmp}/m", "--config", "/nonexistent.toml"], 2,
     "config error: ", ["cannot read"]),
])
def test_train_quality_classifier_errors_are_one_line(args, status, start, parts, tmp_path):
    done = run_job("train_quality_classifier.py", *[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert_one_line_error(done, status, start, *parts)
