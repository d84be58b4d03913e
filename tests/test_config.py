"""Typed config: bad keys and types are named before anything runs; overrides; hash; dry-run."""
from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
import types
import typing

import pytest

from contract.bounds import Bounds, field_bounds
from pipeline.config import Config, load_config
from pipeline.toml_config import ConfigError, config_hash, to_toml
from tests.conftest import ROOT


def write(tmp_path, text: str) -> str:
    path = tmp_path / "cfg.toml"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("text, message", [
    ("[extract]\ntimeout = 3\n", "unknown key 'extract.timeout'"),
    ("[extrakt]\n", "unknown key 'extrakt'"),
    ("[extract]\nfast = 1\n", "extract.fast: expected bool, got int 1"),
    ("[extract]\nmax_payload_bytes = '10MB'\n", "extract.max_payload_bytes: expected an integer, got str '10MB'"),
    ("[extract]\nhtml_content_types = 'text/html'\n", "extract.html_content_types: expected an array, got str"),
    ("[pipeline]\nstages = ['extract', 'magic']\n", "pipeline.stages: unknown stage 'magic'"),
    ("[extract\n", "not valid TOML"),
    ("[extract]\nfavor_precision = true\nfavor_recall = true\n", "extract: favor_precision and favor_recall cannot both be true"),
])
def test_bad_config_is_refused_naming_the_key(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("(", r"\(")):
        load_config(write(tmp_path, text))


def test_file_values_then_overrides_apply_in_order(tmp_path):
    config = load_config(write(tmp_path, "[extract]\ntimeout_seconds = 3\nfast = true\n"),
                         ["extract.timeout_seconds=7", "extract.html_content_types=['text/html']"])
    assert config.extract.timeout_seconds == 7.0 and config.extract.fast is True
    assert config.extract.html_content_types == ("text/html",)


def test_override_of_an_unknown_key_is_refused():
    with pytest.raises(ConfigError, match="unknown key 'extract.speed'"):
        load_config(None, ["extract.speed=11"])


def test_hash_follows_values_not_spelling(tmp_path):
    default = load_config()
    same = load_config(write(tmp_path, "[extract]\ntimeout_seconds = 10\n"))  # the default, spelled as int
    assert config_hash(same) == config_hash(default)
    assert config_hash(load_config(None, ["extract.timeout_seconds=11"])) != config_hash(default)


def test_written_toml_reads_back_to_the_same_config(tmp_path):
    config = load_config(None, ["extract.max_payload_bytes=1234", "pipeline.batch_rows=7"])
    assert load_config(write(tmp_path, to_toml(config))) == config


def test_dry_run_prints_the_resolved_config_and_runs_nothing(tmp_path):
    result = subprocess.run(
        [sys.executable, "jobs/run_stages.py", "--input", "nothing", "--output", str(tmp_path / "o"),
         "--set", "extract.timeout_seconds=4", "--dry-run"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )
    assert "timeout_seconds = 4.0" in result.stdout and result.stdout.startswith("# config_hash = ")
    assert not (tmp_path / "o").exists()


# ---------------------------------------------------------------------------------------------- ranges

# Numeric settings that take any value of their type: seeds hash into ids (str(seed)), and a negative
# max_word_length turns the rule off. Every other number must declare its range (contract.bounds.bounded)
# or be checked by its section's own __post_init__ (listed with the value it refuses).
UNBOUNDED = {"heuristics.c4.max_word_length", "quality.seed", "tokenizer.seed", "tokenize.seed"}
CHECKED_IN_POST_INIT = {
    "extract.cascade_min_kept_lang_prob": 1.0, "extract.cascade_lang_prefix_chars": 0,
    "extract.cascade_min_words_fraction": 1.5, "extract.length_check_min_ratio": -0.5,
    "extract.length_check_max_ratio": -0.5, "train_quality.epoch": 0, "train_quality.lr": 0.0, "train_quality.word_ngrams": 0,
    "train_quality.dim": 0, "train_quality.min_count": 0, "train_quality.max_docs_per_class": 0,
    "train_quality.holdout_fraction": 0.0, "train_quality.min_words": 0,
}


def _numeric_fields(cls, prefix):
    """(key, field, scalar type, container) of every int/float setting below `cls`, nested tables included."""
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        key, hint = f"{prefix}.{field.name}" if prefix else field.name, hints[field.name]
        if dataclasses.is_dataclass(hint):
            yield from _numeric_fields(hint, key)
            continue
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        origin = typing.get_origin(hint)
        scalar, container = hint, None
        if origin is dict:
            scalar, container = args[1], dict
        elif origin in (typing.Union, types.UnionType):
            scalar = args[0]
        if scalar in (int, float):
            yield key, field, scalar, container


def _sections():
    from pipeline.quality_training import TrainQualityConfig
    from tokenizer.config import TokenizeJobConfig, TrainTokenizerJobConfig

    yield from _numeric_fields(Config, "")
    yield from _numeric_fields(TrainTokenizerJobConfig, "")
    yield from _numeric_fields(TokenizeJobConfig, "")
    yield from _numeric_fields(TrainQualityConfig, "train_quality")


def _load(key: str, value):
    """Load `key = value` through the loader of the job that reads it."""
    section, _, rest = key.partition(".")
    literal = "{" + ", ".join(f"{k} = {v!r}" for k, v in value.items()) + "}" if isinstance(value, dict) else repr(value)
    assignment = f"{key}={literal}"
    if section in ("tokenizer", "tokenize"):
        from pipeline.toml_config import load_job_config
        from tokenizer.config import TokenizeJobConfig, TrainTokenizerJobConfig

        return load_job_config(TrainTokenizerJobConfig if section == "tokenizer" else TokenizeJobConfig, None, [assignment])
    if section == "train_quality":
        from jobs.train_quality_classifier import load_train_config

        return load_train_config(None, [assignment])
    return load_config(None, [assignment])


def _outside(bounds: Bounds, scalar: type) -> float:
    """A value just outside `bounds` (below the lower bound when there is one)."""
    step = 1 if scalar is int else 0.5
    if bounds.ge is not None:
        return bounds.ge - step
    if bounds.gt is not None:
        return bounds.gt if scalar is float else int(bounds.gt)
    if bounds.le is not None:
        return bounds.le + step
    return bounds.lt


def test_every_numeric_setting_declares_a_range():
    undeclared = [key for key, field, _, _ in _sections()
                  if field_bounds(field) is None and key not in UNBOUNDED and key not in CHECKED_IN_POST_INIT]
    assert undeclared == []


def test_every_declared_range_is_enforced_by_the_loader_naming_the_key():
    checked = 0
    for key, field, scalar, container in _sections():
        bounds = field_bounds(field)
        if bounds is None:
            continue
        bad = _outside(bounds, scalar)
        if scalar is int:
            bad = int(bad)
        value = {"xx": bad} if container is dict else bad
        where = f"{key}.xx" if container is dict else key
        with pytest.raises(ConfigError, match=f"^{re.escape(where)}: must be "):
            _load(key, value)
        checked += 1
    assert checked >= 60


@pytest.mark.parametrize("key", sorted(CHECKED_IN_POST_INIT))
def test_ranges_checked_in_post_init_are_config_errors(key):
    with pytest.raises(ConfigError, match=re.escape(key.rpartition(".")[2])):
        _load(key, CHECKED_IN_POST_INIT[key])


@pytest.mark.parametrize("literal", ["nan", "inf", "-inf"])
def test_no_float_setting_takes_nan_or_infinity(literal):
    floats = [(key, container) for key, _, scalar, container in _sections() if scalar is float]
    assert len(floats) >= 40
    for key, container in floats:
        section = key.partition(".")[0]
        value = f"{{xx={literal}}}" if container is dict else literal
        where = f"{key}.xx" if container is dict else key
        error = pytest.raises(ConfigError, match=f"^{re.escape(where)}: expected a finite number, got {literal}")
        with error:
            if section in ("tokenizer", "tokenize", "train_quality"):
                _load_raw(section, f"{key}={value}")
            else:
                load_config(None, [f"{key}={value}"])


def _load_raw(section: str, assignment: str):
    from jobs.train_quality_classifier import load_train_config
    from pipeline.toml_config import load_job_config
    from tokenizer.config import TokenizeJobConfig, TrainTokenizerJobConfig

    if section == "train_quality":
        return load_train_config(None, [assignment])
    return load_job_config(TrainTokenizerJobConfig if section == "tokenizer" else TokenizeJobConfig, None, [assignment])


@pytest.mark.parametrize("assignment, message", [
    # the cases seen in issue 17, each with the message a user reads
    ("extract.timeout_seconds=nan", "extract.timeout_seconds: expected a finite number, got nan"),
    ("extract.timeout_seconds=-1", "extract.timeout_seconds: must be > 0 and <= 3600, got -1.0"),
    ("pipeline.batch_rows=0", "pipeline.batch_rows: must be >= 1 and <= 1048576, got 0"),
    ("extract.memory_limit_mb=1", "extract.memory_limit_mb: must be >= 256 and <= 1048576, got 1"),
    ("langid.min_score={default=0.5, en=nan}", "langid.min_score.en: expected a finite number, got nan"),
    ("langid.min_score={en=1.5}", "langid.min_score.en: must be >= 0 and <= 1, got 1.5"),
    ("dedup.num_perm=100000000", "dedup.num_perm: must be >= 2 and <= 1024, got 100000000"),
    ("heuristics.gopher_quality.min_mean_word_length={zh=-1}",
     "heuristics.gopher_quality.min_mean_word_length.zh: must be >= 0, got -1.0"),
])
def test_issue_cases_name_the_key_and_the_range(assignment, message):
    with pytest.raises(ConfigError) as error:
        load_config(None, [assignment])
    assert str(error.value) == message


def test_values_at_the_bounds_are_accepted():
    config = load_config(None, ["extract.memory_limit_mb=256", "pipeline.batch_rows=1", "langid.min_score={en=1.0}",
                                "dedup.num_perm=1024", "extract.timeout_seconds=3600"])
    assert (config.extract.memory_limit_mb, config.pipeline.batch_rows, config.dedup.num_perm) == (256, 1, 1024)


def test_unreadable_config_files_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="cannot read the config file: No such file or directory"):
        load_config(tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match="cannot read the config file: Is a directory"):
        load_config(tmp_path)
    (tmp_path / "latin1.toml").write_bytes("# café\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="latin1.toml: not UTF-8 text"):
        load_config(tmp_path / "latin1.toml")
