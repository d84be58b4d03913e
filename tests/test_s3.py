"""Object storage end to end (issue 21): run_stages, the report, train_tokenizer and tokenize_corpus (Ray, both
output formats) read their inputs from and write every output to an S3-compatible server on 127.0.0.1 (moto,
tests/conftest.py's `s3_server`), and each output is compared with the local run's, file by file.

Every file is byte-identical except where a file records the location it was made from: run_stages'
documents.parquet (the `warc_path` column) and stats/summary.json (`failed_inputs[].warc_path`), the report's
stats/stats.json (`sources`: the size of that documents.parquet), and tokenize_corpus's manifest.json
(`tokenizer.path`, `source_corpus.path`). Those are compared with the input locations mapped back to the local
ones, so every other byte of them is still checked. The report page itself is byte-identical.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jobs import report as report_job
from jobs import run_stages
from jobs import tokenize_corpus as tokenize_job
from jobs import train_tokenizer as train_job
from tests.conftest import SAMPLE_WARCS
from testkit.text_corpus import sample_documents, write_corpus

STAGES = "extract,dedup"
TOKENIZER_SETTINGS = ["--set", "tokenizer.vocab_size=400", "--set", "tokenizer.sample_bytes=200000"]
TOKENIZE_SETTINGS = ["--set", "tokenize.shard_tokens=2000", "--set", "tokenize.val_fraction=0.2",
                     "--set", "tokenize.batch_rows=8"]


def local_files(root: Path) -> dict[str, bytes]:
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def assert_same_files(remote: dict[str, bytes], local: dict[str, bytes], except_paths: set[str] = frozenset()) -> None:
    """The same relative names, and the same bytes for all but `except_paths` (compared by the caller)."""
    assert sorted(remote) == sorted(local)
    differing = sorted(name for name in remote if remote[name] != local[name])
    assert differing == sorted(name for name in except_paths if name in remote)


# ---- run_stages and the report ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def stages_runs(s3_server, tmp_path_factory):
    """run_stages on the sample WARCs: once local -> local, once s3 -> s3 (the WARCs uploaded first)."""
    bucket = s3_server.create_bucket()
    inputs = s3_server.upload(SAMPLE_WARCS, f"{bucket}/in/warc")
    local_out = tmp_path_factory.mktemp("stages") / "out"
    assert run_stages.main(["--stages", STAGES, "--input", str(SAMPLE_WARCS), "--output", str(local_out)]) == 0
    assert run_stages.main(["--stages", STAGES, "--input", inputs, "--output", f"{bucket}/out"]) == 0
    return inputs, f"{bucket}/out", local_out


def to_local_input(value: str, inputs: str) -> str:
    """An S3 input location as the local run named the same file."""
    assert value.startswith(inputs + "/"), value
    return str(SAMPLE_WARCS / value[len(inputs) + 1:])


def test_run_stages_reads_and_writes_s3_like_local(s3_server, stages_runs):
    inputs, out, local_out = stages_runs
    remote, local = s3_server.files(out), local_files(local_out)
    assert_same_files(remote, local, {"documents.parquet", "stats/summary.json", "stats/stats.json"})
    assert {"_config.toml", "documents.parquet", "stats/summary.json", "dedup/index/part-00000.parquet"} <= set(remote)
    # documents.parquet: the S3 run names its inputs by their s3:// URIs; with those mapped back, every row and
    # column is the local run's
    documents = pq.read_table(pa.BufferReader(remote["documents.parquet"]))
    expected = pq.read_table(pa.BufferReader(local["documents.parquet"]))
    assert documents.num_rows == expected.num_rows > 0
    mapped = [to_local_input(path, inputs) for path in documents.column("warc_path").to_pylist()]
    column = documents.schema.get_field_index("warc_path")
    assert documents.set_column(column, "warc_path", pa.array(mapped, pa.string())).equals(expected)
    warcs = sorted(path.name for path in SAMPLE_WARCS.glob("*.warc.gz"))  # the truncated file's records too
    assert sorted({path.rsplit("/", 1)[1] for path in documents.column("warc_path").to_pylist()}) == warcs
    summary = json.loads(remote["stats/summary.json"])
    [failed] = summary["failed_inputs"]
    assert failed["warc_path"] == f"{inputs}/CC-MAIN-2026-08-sample-truncated.warc.gz"
    failed["warc_path"] = to_local_input(failed["warc_path"], inputs)
    assert summary == json.loads(local["stats/summary.json"])
    assert summary["documents"] == documents.num_rows and summary["inputs"] == len(warcs)


def test_report_of_an_s3_run_is_written_beside_it(s3_server, stages_runs, capsys):
    inputs, out, local_out = stages_runs
    assert report_job.main([str(local_out)]) == 0
    assert report_job.main([out]) == 0
    printed = capsys.readouterr().out
    assert f"Wrote {out}/report/index.html (from {out}/stats/stats.json)" in printed
    remote, local = s3_server.files(out), local_files(local_out)
    assert "report/index.html" in remote and "stats/stats.json" in remote
    # the statistics computed from the S3 rows and the page drawn from them: the local run's, byte for byte
    assert_same_files(remote, local, {"documents.parquet", "stats/summary.json", "stats/stats.json"})
    assert remote["report/index.html"] == local["report/index.html"]
    # stats.json's `sources` holds [name, bytes] of the row files: documents.parquet, longer with s3:// paths
    stats, expected = json.loads(remote["stats/stats.json"]), json.loads(local["stats/stats.json"])
    assert stats.pop("sources") == [["documents.parquet", len(remote["documents.parquet"])]]
    assert expected.pop("sources") == [["documents.parquet", len(local["documents.parquet"])]]
    assert stats == expected


# ---- build_corpus (Spark) --------------------------------------------------------------------------------

# dedup on: the global stage reads the extracted parts and writes its decisions and index through pyarrow too
CORPUS_CONFIG = ["pipeline.stages=['extract','optout','langid','url','heuristics','dedup']",
                 "langid.languages=['en','de','fr','es','it']"]
# Files that name the inputs (warc_path columns, manifests, the failed input) or the size of such a file
NAMING_INPUTS = ("extracted/", "corpus/", "rejected/", "stats/inputs.jsonl", "stats/summary.json", "stats/stats.json",
                 "stats/parts/part-")


@pytest.fixture(scope="module")
def corpus_runs(spark, s3_server, tmp_path_factory):
    """build_corpus on the sample WARCs: local -> local, and S3 -> S3 (every output, the card included)."""
    from pipeline.config import load_config
    from pipeline.inputs import expand_inputs
    from pipeline.spark.job import build_corpus

    config = load_config(None, CORPUS_CONFIG)
    bucket = s3_server.create_bucket()
    inputs = s3_server.upload(SAMPLE_WARCS, f"{bucket}/in/warc")
    local_out = tmp_path_factory.mktemp("corpus run") / "out"
    command = ["spark-submit", "jobs/build_corpus.py"]
    build_corpus(spark, expand_inputs([str(SAMPLE_WARCS)]), str(local_out), config, command)
    build_corpus(spark, expand_inputs([inputs]), f"{bucket}/out", config, command)
    return inputs, f"{bucket}/out", local_out


def decoded(name: str, data: bytes, locations: dict[str, str]) -> bytes | pa.Table | dict:
    """A run's file with the input locations in `locations` (and the part names made from them) replaced:
    Parquet as a table, stats.json without `sources` and the card without `download_size` (the row files'
    sizes, longer with s3:// paths), others as bytes."""
    from pipeline.corpus import part_name

    if name.endswith(".parquet"):
        table = pq.read_table(pa.BufferReader(data))
        if "warc_path" not in table.column_names:
            return table
        column = table.schema.get_field_index("warc_path")
        return table.set_column(column, "warc_path", pa.array(
            [locations.get(path, path) for path in table.column("warc_path").to_pylist()], pa.string()))
    text = data.decode("utf-8")
    for uri, path in locations.items():
        text = text.replace(uri, path).replace(part_name(uri), part_name(path))
    if name == "stats/stats.json":
        return {key: value for key, value in json.loads(text).items() if key != "sources"}
    if name == "corpus/README.md":  # the card's download_size: the parts' bytes, longer with s3:// paths
        text = "\n".join(line for line in text.split("\n") if not line.strip().startswith("download_size:"))
    return text.encode("utf-8")


def test_build_corpus_reads_and_writes_s3_like_local(s3_server, corpus_runs):
    from pipeline.corpus import part_name
    from pipeline.inputs import expand_inputs

    inputs, out, local_out = corpus_runs
    remote, local = s3_server.files(out), local_files(local_out)
    locations = {uri: str(SAMPLE_WARCS / uri.rsplit("/", 1)[1]) for uri in expand_inputs([inputs])}
    rename = {part_name(uri): part_name(path) for uri, path in locations.items()}
    assert len(rename) == len(list(SAMPLE_WARCS.glob("*.warc.gz")))

    def local_name(name: str) -> str:
        for part, local_part in rename.items():
            name = name.replace(part, local_part)
        return name

    remote = {local_name(name): data for name, data in remote.items()}
    assert sorted(remote) == sorted(local)
    assert {"corpus/README.md", "dedup/_done.json", "stats/stats.json", "stats/funnel.parquet"} <= set(remote)
    assert any(name.startswith("dedup/decisions/input_part=") for name in remote)
    assert any(name.startswith("dedup/index/") for name in remote)
    compared = 0
    for name, data in sorted(remote.items()):
        if name.startswith(NAMING_INPUTS) and not name.endswith(("counts.parquet", "samples.parquet")):
            assert decoded(name, data, locations) == decoded(name, local[name], {}), name
            compared += 1
        else:  # nothing in it names an input: the same bytes
            assert data == local[name], name
    assert compared >= 3 * len(rename)  # every part's extracted, corpus and rejected rows, mapped


# ---- train_tokenizer -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def corpus_on_s3(s3_server, tmp_path_factory):
    """A three-part corpus (the demo texts plus the tricky ones) on disk and the same files on S3."""
    bucket = s3_server.create_bucket()
    local = tmp_path_factory.mktemp("corpus") / "corpus"
    local.mkdir()
    write_corpus(local, sample_documents(), parts=3)
    return bucket, local, s3_server.upload(local, f"{bucket}/run/corpus")


@pytest.fixture(scope="module")
def tokenizers(corpus_on_s3, tmp_path_factory):
    """train_tokenizer local -> local and s3 -> s3."""
    bucket, corpus, corpus_uri = corpus_on_s3
    local_out = tmp_path_factory.mktemp("tokenizer") / "tokenizer"
    assert train_job.main(["--input", str(corpus), "--output", str(local_out), *TOKENIZER_SETTINGS]) == 0
    assert train_job.main(["--input", corpus_uri, "--output", f"{bucket}/run/tokenizer", *TOKENIZER_SETTINGS]) == 0
    return f"{bucket}/run/tokenizer", local_out


def test_train_tokenizer_reads_and_writes_s3_like_local(s3_server, tokenizers):
    uri, local_out = tokenizers
    remote, local = s3_server.files(uri), local_files(local_out)
    assert_same_files(remote, local)
    assert set(remote) == {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "report.json",
                           "_config.toml"}
    report = json.loads(remote["report.json"])
    assert report["vocab_size"] == 400 and report["sample"]["documents_seen"] == sum(
        1 for row in sample_documents() if row["text"])


# ---- tokenize_corpus -------------------------------------------------------------------------------------

def manifest_locations_mapped(data: bytes, corpus: str, tokenizer: str) -> dict:
    """manifest.json with its two recorded input locations replaced by the local run's."""
    manifest = json.loads(data)
    manifest["source_corpus"]["path"] = corpus
    manifest["tokenizer"]["path"] = tokenizer
    return manifest


@pytest.mark.parametrize("output_format", ["nanogpt", "megatron"])
def test_tokenize_corpus_with_ray_reads_and_writes_s3_like_local(ray_local, s3_server, corpus_on_s3, tokenizers,
                                                                 tmp_path, output_format, capsys):
    bucket, corpus, corpus_uri = corpus_on_s3
    tokenizer_uri, tokenizer_dir = tokenizers
    settings = [*TOKENIZE_SETTINGS, "--set", f"tokenize.output_format={output_format!r}".replace("'", '"')]
    local_out, uri = tmp_path / "tokens", f"{bucket}/run/tokens-{output_format}"
    local_tokenizer = str(tokenizer_dir / "tokenizer.json")
    assert tokenize_job.main(["--input", str(corpus), "--tokenizer", local_tokenizer, "--output", str(local_out),
                              "--no-ray", *settings]) == 0
    # on S3 with Ray's workers: they read the parts and the tokenizer and write caches and shards with pyarrow
    assert tokenize_job.main(["--input", corpus_uri, "--tokenizer", f"{tokenizer_uri}/tokenizer.json",
                              "--output", uri, *settings]) == 0
    remote, local = s3_server.files(uri), local_files(local_out)
    assert_same_files(remote, local, {"manifest.json"})
    assert not [name for name in remote if name.startswith("_parts/") or ".tmp-" in name]
    manifest = manifest_locations_mapped(remote["manifest.json"], str(corpus), local_tokenizer)
    assert manifest == json.loads(local["manifest.json"])
    assert manifest["format"]["name"] == output_format and manifest["splits"]["val"]["documents"] > 0
    suffixes = {".bin", ".idx", ".docs.parquet"}
    assert {name for name in remote if any(name.endswith(s) for s in suffixes)} == {
        entry["name"].removesuffix(".bin") + suffix for entry in manifest["shards"] for suffix in suffixes}
    # a rerun verifies every shard on S3 (sha256 of each file read back) and writes nothing
    capsys.readouterr()
    assert tokenize_job.main(["--input", corpus_uri, "--tokenizer", f"{tokenizer_uri}/tokenizer.json",
                              "--output", uri, "--no-ray", *settings]) == 0
    assert f"shards verified against {uri}/manifest.json" in capsys.readouterr().out
    assert s3_server.files(uri) == remote


def test_tokenize_corpus_names_a_missing_s3_input(s3_bucket, tokenizers, capsys):
    tokenizer_uri, _ = tokenizers
    code = tokenize_job.main(["--input", f"{s3_bucket}/no/corpus", "--tokenizer", f"{tokenizer_uri}/tokenizer.json",
                              "--output", f"{s3_bucket}/tokens", "--no-ray"])
    assert code == 2
    assert f"input error: corpus directory '{s3_bucket}/no/corpus' does not exist" in capsys.readouterr().err


def test_a_ray_cluster_job_carries_the_drivers_object_store_variables():
    from tokenizer.ray_engine import PROJECT_PACKAGES, cluster_runtime_env

    environ = {"AWS_ENDPOINT_URL": "http://minio:9000", "AWS_ACCESS_KEY_ID": "key", "AWS_SECRET_ACCESS_KEY": "secret",
               "AWS_SESSION_TOKEN": "", "HOME": "/root", "RAY_ADDRESS": "head:6379"}
    sent = {"AWS_ENDPOINT_URL": "http://minio:9000", "AWS_ACCESS_KEY_ID": "key", "AWS_SECRET_ACCESS_KEY": "secret"}
    assert cluster_runtime_env(False, environ) == {"env_vars": sent}  # set ones only; nothing else of the shell
    shipped = cluster_runtime_env(True, environ)
    assert shipped["env_vars"] == sent and len(shipped["py_modules"]) == len(PROJECT_PACKAGES)
    assert cluster_runtime_env(False, {"HOME": "/root"}) is None  # instance roles: nothing to send
    assert "env_vars" not in cluster_runtime_env(True, {})


def stub_session(master: str, checkpoint_dir_setting: str | None = None) -> SimpleNamespace:
    """What `checkpoint_dir` reads of a session: its master and its `spark.checkpoint.dir`."""
    settings = {"spark.checkpoint.dir": checkpoint_dir_setting} if checkpoint_dir_setting else {}
    return SimpleNamespace(sparkContext=SimpleNamespace(master=master),
                           conf=SimpleNamespace(get=lambda key, default=None: settings.get(key, default)))


def test_dedup_checkpoints_go_where_spark_can_write_them(tmp_path):
    from pipeline.outputs import OutputDir
    from pipeline.spark.files import checkpoint_dir
    from pipeline.toml_config import ConfigError

    on_s3 = OutputDir("s3://bucket/run1")  # no request is made: only the location decides
    with pytest.raises(ConfigError, match=re.escape("--conf spark.checkpoint.dir=hdfs:///tmp/checkpoints")):
        checkpoint_dir(stub_session("spark://head:7077"), on_s3, "dedup/_checkpoints")  # refused before any task
    assert checkpoint_dir(stub_session("yarn", "hdfs:///ck"), on_s3, "dedup/_checkpoints")[0] == "hdfs:///ck"
    temporary, remove = checkpoint_dir(stub_session("local[2]"), on_s3, "dedup/_checkpoints")
    local = Path(temporary.removeprefix("file://"))
    assert temporary.startswith("file:///") and local.is_dir()
    remove()
    assert not local.exists()
    on_disk = OutputDir(str(tmp_path / "out"))  # a local (or HDFS) output keeps them inside, under any master
    path, remove = checkpoint_dir(stub_session("spark://head:7077"), on_disk, "dedup/_checkpoints")
    assert path == f"file://{tmp_path}/out/dedup/_checkpoints"
    (tmp_path / "out" / "dedup" / "_checkpoints").mkdir(parents=True)
    remove()
    assert not (tmp_path / "out" / "dedup" / "_checkpoints").exists()
