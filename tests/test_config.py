"""Typed config: bad keys and types are named before anything runs; overrides; hash; dry-run."""
from __future__ import annotations

import subprocess
import sys

import pytest

from pipeline.config import ConfigError, config_hash, load_config, to_toml
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
    ("[extract]\nfavor_precision = true\n", "extract: favor_precision and favor_recall cannot both be true"),
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
