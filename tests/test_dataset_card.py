"""The corpus as a Hugging Face dataset: `datasets.load_dataset` reads OUT/corpus/ with the rows and Arrow types
pyarrow reads, and the dataset card (OUT/corpus/README.md) states the run's funnel, languages, config and
command, parses as YAML and names every column as `datasets` itself does.

One real corpus run on sample_data/ (Spark, extract + langid keeping three languages) serves the module;
the expectations are computed from its Parquet parts with pyarrow, not from the card's code.
"""
from __future__ import annotations

import shlex
import shutil
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.lib
import pyarrow.parquet as pq
import pytest
import yaml

from pipeline.config import load_config
from pipeline.dataset_card import CARD, hf_features, render_card, write_dataset_card, yaml_string
from pipeline.outputs import OutputDir
from pipeline.spark.job import build_corpus
from tests.conftest import SAMPLE_WARCS

CONFIG = load_config(None, ["pipeline.stages=['extract', 'langid']", "langid.languages=['en', 'de', 'fr']"])
COMMAND = ["jobs/build_corpus.py", "--input", "sample_data/warc", "--output", "out/my run", "--set",
           "langid.languages=['en', 'de', 'fr']"]


@pytest.fixture(scope="module")
def run(spark, tmp_path_factory) -> tuple[Path, dict]:
    """A finished corpus run on the sample and its summary (build_corpus writes the card)."""
    out = tmp_path_factory.mktemp("card run")
    return out, build_corpus(spark, sorted(str(p) for p in SAMPLE_WARCS.glob("*.warc.gz")), str(out), CONFIG, COMMAND)


def parts_table(corpus: Path) -> pa.Table:
    """What pyarrow reads from the corpus's Parquet parts, in path order."""
    return pa.concat_tables([pq.read_table(path) for path in sorted(corpus.glob("*.parquet"))])


def card_parts(corpus: Path) -> tuple[dict, str]:
    """(front matter as YAML reads it, markdown body)."""
    text = (corpus / "README.md").read_text(encoding="utf-8")
    assert text.startswith("---\n")
    front, body = text[4:].split("\n---\n", 1)
    return yaml.safe_load(front), body


def assert_same_rows_and_types(loaded: pa.Table, expected: pa.Table) -> None:
    assert loaded.schema.names == expected.schema.names
    assert [field.type for field in loaded.schema] == [field.type for field in expected.schema]
    assert loaded.num_rows == expected.num_rows > 0
    assert loaded.sort_by("id").to_pylist() == expected.sort_by("id").to_pylist()


def test_load_dataset_parquet_data_dir_reads_the_rows_and_types_pyarrow_reads(run, tmp_path):
    import datasets

    out, _ = run
    loaded = datasets.load_dataset("parquet", data_dir=str(out / "corpus"), split="train", cache_dir=str(tmp_path))
    assert_same_rows_and_types(loaded.data.table, parts_table(out / "corpus"))


def test_load_dataset_of_the_folder_reads_the_card_and_the_rows_pyarrow_reads(run, tmp_path):
    import datasets

    out, _ = run
    expected = parts_table(out / "corpus")
    loaded = datasets.load_dataset(str(out / "corpus"), split="train", cache_dir=str(tmp_path))
    assert_same_rows_and_types(loaded.data.table, expected)
    # the features came from the card (dataset_info) and are those datasets derives from the Arrow schema
    assert loaded.features == datasets.Features.from_arrow_schema(expected.schema)
    assert loaded.info.download_size == sum(path.stat().st_size for path in (out / "corpus").glob("*.parquet"))
    parts_only = datasets.load_dataset("parquet", data_files=str(out / "corpus" / "*.parquet"), split="train",
                                       cache_dir=str(tmp_path))  # the card's second recipe
    assert_same_rows_and_types(parts_only.data.table, expected)


def test_front_matter_is_yaml_with_configs_features_and_languages(run):
    import datasets

    out, _ = run
    metadata, _ = card_parts(out / "corpus")
    kept = parts_table(out / "corpus")
    assert metadata["configs"] == [{"config_name": "default", "data_files": [{"split": "train", "path": "*.parquet"}]}]
    assert metadata["dataset_info"]["features"] == datasets.Features.from_arrow_schema(kept.schema)._to_yaml_list()
    assert metadata["language"] == sorted(set(kept.column("lang").to_pylist())) == ["de", "en", "fr"]
    assert metadata["license"] == "unknown"
    assert metadata["size_categories"] == ["n<1K"]
    from datasets.info import DatasetInfosDict  # how `datasets` reads a card's dataset_info

    assert DatasetInfosDict.from_dataset_card_data(metadata)["default"].features == \
        datasets.Features.from_arrow_schema(kept.schema)


def test_card_states_the_funnel_languages_config_and_command(run):
    out, summary = run
    _, body = card_parts(out / "corpus")
    kept = parts_table(out / "corpus")
    rejected = pa.concat_tables([pq.read_table(p) for p in sorted((out / "rejected").glob("*.parquet"))])
    documents = kept.num_rows + rejected.num_rows
    lines = body.splitlines()
    assert f"| kept (this corpus) | {kept.num_rows} | {100 * kept.num_rows / documents:.1f}% |" in lines
    assert f"| documents (one per response, WET conversion or table row) | {documents} | 100.0% |" in lines
    by_type = ", ".join(f"{kind} {count}" for kind, count in sorted(summary["records_by_type"].items()))
    assert f"| records read ({by_type}) | {summary['records_read']} | |" in lines
    assert {"response", "request", "warcinfo"} <= set(summary["records_by_type"])
    reasons = Counter(rejected.column("drop_reason").to_pylist())
    assert len(reasons) >= 5
    for reason, count in reasons.items():
        assert f"| `{reason}` | {count} | {100 * count / documents:.1f}% |" in lines
    reason_rows = [line for line in lines if line.startswith("| `") and ":" in line.split("`")[1]]
    assert len(reason_rows) == len(reasons)  # and no other reason
    for code, count in Counter(kept.column("lang").to_pylist()).items():
        assert f"| {code} | {count} | {100 * count / kept.num_rows:.1f}% |" in lines
    assert f"- config hash: `{summary['config_hash']}`" in body
    assert "\n" + shlex.join(COMMAND) + "\n" in body
    [failed] = summary["failed_inputs"]  # the sample's truncated file
    assert f"| {failed['warc_path']} | {failed['records_recovered']} | {failed['error']} |" in lines
    assert failed["error"].startswith("WarcFileError: truncated gzip member")
    for field in kept.schema:
        assert f"| `{field.name}` | {field.type} |" in lines


def test_card_is_byte_identical_for_the_same_run_wherever_it_is_written(run, tmp_path):
    out, summary = run
    written = (out / CARD).read_bytes()
    copy = tmp_path / "elsewhere"
    shutil.copytree(out, copy)
    path = write_dataset_card(OutputDir(str(copy)), summary, CONFIG, COMMAND)
    assert path == f"{copy}/corpus/README.md"
    assert (copy / CARD).read_bytes() == written
    assert not list((copy / "corpus").glob("*.tmp-*"))  # written atomically, nothing left beside it


def test_the_projects_readers_of_corpus_skip_the_card(run, tmp_path):
    from pipeline.inputs import expand_inputs
    from pipeline.quality_training import source_files as quality_sources
    from pipeline.stats.store import source_files as stats_sources
    from tokenizer.corpus import corpus_parts

    out, _ = run
    parquet = sorted(str(p) for p in (out / "corpus").glob("*.parquet"))
    assert (out / "corpus" / "README.md").is_file()
    assert sorted(str(p) for p in corpus_parts(out / "corpus")) == parquet  # train_tokenizer, tokenize_corpus
    assert expand_inputs([str(out / "corpus")]) == parquet  # the corpus as the input of run_stages/build_corpus
    assert quality_sources(str(out)) == parquet  # train_quality_classifier
    assert [path for path, _ in stats_sources(OutputDir(str(out))) if path.startswith("corpus/")] == \
        [f"corpus/{Path(p).name}" for p in parquet]  # statistics and the report
    # what the card tells pyarrow users to do: a bare pq.read_table of the folder takes README.md for a part
    with pytest.raises(pyarrow.lib.ArrowInvalid, match="README.md"):
        pq.read_table(out / "corpus")
    table = pq.read_table(out / "corpus", ignore_prefixes=[".", "_", "README"])
    assert_same_rows_and_types(table, parts_table(out / "corpus"))


def test_features_name_nested_and_numeric_types_as_datasets_does():
    import datasets

    schema = pa.schema([
        ("flag", pa.bool_()), ("small", pa.int8()), ("score", pa.float32()), ("big", pa.uint64()),
        ("at", pa.timestamp("ms")), ("bands", pa.list_(pa.int64())), ("words", pa.large_list(pa.string())),
        ("spans", pa.list_(pa.struct([("start", pa.int32()), ("label", pa.string())]))),
        ("meta", pa.struct([("source", pa.string()), ("scores", pa.list_(pa.float64()))])),
    ])
    assert hf_features(schema) == datasets.Features.from_arrow_schema(schema)._to_yaml_list()
    with pytest.raises(ValueError, match="column 'tags' has Arrow type map<string, int32>"):
        hf_features(pa.schema([("tags", pa.map_(pa.string(), pa.int32()))]))


@pytest.mark.parametrize("text", ["no", "No", "yes", "on", "OFF", "true", "null", "Null", "~", "", "123", "1e3",
                                  "0x1F", "*.parquet", "n<1K", "a: b", "- x", "#x", 'say "hi" \\ ok', "é",
                                  "\U0001f600", "\x7f\x00\t\n", "zh-Hant", "en_US"])
def test_yaml_strings_read_back_as_themselves(text):
    assert yaml.safe_load(f"key: {yaml_string(text)}\n") == {"key": text}


def test_card_of_an_empty_corpus_without_languages():
    summary = {"config_hash": "0" * 64, "inputs": 1, "records_read": 2,
               "records_by_type": {"warcinfo": 1, "response": 1},
               "documents": 1, "kept": 0, "dropped": 1, "dropped_by_reason": {"extract:not_html": 1},
               "failed_inputs": []}
    text = render_card(summary, pa.schema([("id", pa.string()), ("text", pa.string())]), None, 0, ["extract"], ["x"])
    metadata = yaml.safe_load(text[4:].split("\n---\n", 1)[0])
    assert "language" not in metadata
    assert metadata["size_categories"] == ["n<1K"]
    assert "| kept (this corpus) | 0 | 0.0% |" in text.splitlines()
    assert "No language was identified in this run" in text
