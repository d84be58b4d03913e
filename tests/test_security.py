"""Hostile content and environment: no network during a run, no path outside the output directory, and a
config that holds values, never code.
"""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from jobs import run_stages
from pipeline.config import load_config
from pipeline.corpus import extract_unit, part_name
from pipeline.outputs import OutputDir
from pipeline.stats.tables import TABLE_SCHEMAS
from pipeline.toml_config import ConfigError, to_toml
from testkit.records import ARTICLE, info, request, response
from testkit.warc_writer import write_warc
from tests.conftest import ROOT, SAMPLE_WARCS

GUARD = ROOT / "tests" / "netguard"  # sitecustomize.py: refuses non-loopback connections and lookups
# The run under the guard uses every per-document stage that works offline by default; dedup is global
# and engine-side, so it adds nothing network-wise.
STAGES = "extract,langid,url,heuristics,pii"
PART = re.compile(r"part-[0-9a-f]{16}")


@pytest.fixture(scope="module")
def warc(tmp_path_factory) -> str:
    root = tmp_path_factory.mktemp("security-warc")
    return str(write_warc(root / "CC-MAIN-2026-08-sec.warc.gz", [
        info(), request("a"), response("a", ARTICLE), response("b", ARTICLE.replace("beans", "peas")),
        response("c", "<html><body>gone</body></html>", status=404),
    ]))


def guarded_env(log: Path) -> dict[str, str]:
    return dict(os.environ, NETGUARD_LOG=str(log), PYTHONPATH=os.pathsep.join([str(GUARD), str(ROOT)]))


def guard_log(log: Path) -> tuple[list[list[str]], list[str]]:
    """(argv of every guarded process, every refused call)."""
    started = [json.loads(p.read_text()) for p in sorted(log.glob("*.started"))]
    refused = [line for p in sorted(log.glob("*.refused")) for line in p.read_text().splitlines()]
    return started, refused


# ---- (a) no network ---------------------------------------------------------------------------------------

def test_the_guard_refuses_a_deliberate_connect_in_the_process_and_its_children(tmp_path):
    """The guard is real: a connect and a lookup fail in a guarded process and in a process it starts,
    while loopback still works (Spark and the sandbox pipes need it)."""
    script = (
        "import socket, subprocess, sys\n"
        "server = socket.socket(); server.bind(('127.0.0.1', 0)); server.listen()\n"
        "socket.create_connection(server.getsockname()).close()\n"
        "for target in [('192.0.2.1', 80), ('example.com', 443)]:\n"
        "    try:\n"
        "        socket.create_connection(target, timeout=1)\n"
        "    except PermissionError as error:\n"
        "        print('refused', error)\n"
        "raw = socket.socket()\n"
        "try:\n"
        "    raw.connect(('192.0.2.1', 80))\n"
        "except PermissionError:\n"
        "    print('refused raw connect')\n"
        "child = 'import socket; socket.socket().connect((\"192.0.2.1\", 80))'\n"
        "sys.exit(subprocess.run([sys.executable, '-c', child]).returncode)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], env=guarded_env(tmp_path), capture_output=True, text=True)
    assert done.returncode == 1 and "PermissionError: netguard: connect to ('192.0.2.1', 80) refused" in done.stderr
    assert done.stdout.splitlines() == [
        "refused netguard: getaddrinfo of '192.0.2.1' refused (no network during a run)",
        "refused netguard: getaddrinfo of 'example.com' refused (no network during a run)",
        "refused raw connect"]
    started, refused = guard_log(tmp_path)
    assert len(started) == 2  # the script and the child it started
    assert refused == ["getaddrinfo of '192.0.2.1'", "getaddrinfo of 'example.com'", "connect to ('192.0.2.1', 80)",
                       "connect to ('192.0.2.1', 80)"]


def test_a_guarded_job_in_a_subprocess_succeeds_with_the_same_outputs(tmp_path):
    """The job and its extraction child run guarded, nothing asks for the network, and the rows equal an
    unguarded run's (on a sample file where every stage keeps or drops something)."""
    warc = str(SAMPLE_WARCS / "CC-MAIN-2026-08-sample-00001.warc.gz")
    log = tmp_path / "log"
    log.mkdir()
    command = [sys.executable, "jobs/run_stages.py", "--stages", STAGES, "--input", warc, "--output", str(tmp_path / "g")]
    done = subprocess.run(command, cwd=ROOT, env=guarded_env(log), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert run_stages.main(["--stages", STAGES, "--input", warc, "--output", str(tmp_path / "u")]) == 0
    guarded = pq.read_table(tmp_path / "g" / "documents.parquet")
    assert guarded.equals(pq.read_table(tmp_path / "u" / "documents.parquet"))
    kept = guarded.filter(guarded.column("drop_reason").is_null())
    assert kept.num_rows > 0 and kept.column("lang").null_count == 0 and kept.column("pii_total_count").null_count == 0
    started, refused = guard_log(log)
    assert refused == []
    assert any("jobs/run_stages.py" in " ".join(argv) for argv in started)
    assert any("pipeline.extract_worker" in argv for argv in started)  # the sandbox child was guarded too


def test_in_process_run_with_sockets_patched_and_a_guarded_sandbox(warc, tmp_path, monkeypatch):
    """The same in-process: socket patched here, and the extraction child (started afresh) loads the guard
    because the sandbox passes sys.path on as its PYTHONPATH."""
    import importlib.util

    import pipeline.extract as extract

    spec = importlib.util.spec_from_file_location("netguard", GUARD / "sitecustomize.py")
    guard = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(guard)
    for name, function in guard.SOCKET_METHODS.items():
        monkeypatch.setattr(socket.socket, name, function)
    for name, function in guard.MODULE_FUNCTIONS.items():
        monkeypatch.setattr(socket, name, function)
    log = tmp_path / "log"
    log.mkdir()
    monkeypatch.setenv("NETGUARD_LOG", str(log))
    monkeypatch.syspath_prepend(str(GUARD))
    extract._close_sandboxes()  # children started before the patch would not be guarded
    with pytest.raises(PermissionError, match="netguard"):
        socket.create_connection(("192.0.2.1", 80), timeout=1)
    assert run_stages.main(["--stages", "extract", "--input", warc, "--output", str(tmp_path / "o")]) == 0
    extract._close_sandboxes()  # later tests get unguarded children again
    started, refused = guard_log(log)
    assert refused == ["getaddrinfo of '192.0.2.1'"]  # the deliberate one only
    assert [argv for argv in started if "pipeline.extract_worker" in argv]


# ---- (b) paths ------------------------------------------------------------------------------------------

HOSTILE_PATHS = ["../../etc/x", "/etc/passwd", "a\x00b", "x" * 5000, "s3://bucket/../../x", "..", "", "C:\\x\\..\\y",
                 "crawl/../../../root/.ssh/authorized_keys", "\u202e/gpj.exe", "%2e%2e%2fetc"]


@pytest.mark.parametrize("warc_path", HOSTILE_PATHS)
def test_part_names_are_a_hash_whatever_the_input_path(warc_path, tmp_path):
    name = part_name(warc_path)
    assert PART.fullmatch(name)
    out = OutputDir(str(tmp_path))
    assert Path(out.path(f"extracted/{name}.parquet")).resolve().parent == (tmp_path / "extracted").resolve()


@pytest.mark.parametrize("relative", ["../x", "a/../../x", "/etc/passwd", "a\x00b", "", "a//b", "./x", "stats/.."])
def test_output_dir_refuses_paths_that_leave_it(relative, tmp_path):
    out = OutputDir(str(tmp_path / "out"))
    for call in (out.path, out.uri_of, out.exists, lambda r: out.write_bytes(r, b"x")):
        with pytest.raises(ValueError, match="not a plain relative path inside the output directory"):
            call(relative)
    assert list(tmp_path.iterdir()) == []  # nothing was created, inside or out


def test_hostile_names_and_contents_never_name_an_output_file(tmp_path):
    """Record ids, URLs and the WARC file's own name full of `..`, slashes, NULs and shell: the output
    holds only hash-named parts and fixed names, and nothing appears outside it."""
    long_name = "..;$(touch pwned)" + "x" * 200 + ".warc.gz"
    folder = tmp_path / "in" / "..." / "a b"
    hostile = [
        response("a", ARTICLE).replace(b"<urn:uuid:", b"<../../../../tmp/pwned/urn:uuid:"),
        response("b", ARTICLE).replace(b"https://site.example/b", b"file:///../../etc/passwd\x00.html"),
        response("c", ARTICLE).replace(b"WARC-Record-ID: <", b"WARC-Record-ID: /abs/" + b"y" * 4000 + b"<"),
    ]
    warc_path = str(write_warc(folder / long_name, [info()] + hostile))
    out_dir = tmp_path / "out"
    before = sorted(p.name for p in tmp_path.iterdir())
    assert run_stages.main(["--stages", "extract", "--input", warc_path, "--output", str(out_dir)]) == 0
    config = load_config(None, ["pipeline.stages=['extract']"])
    spark_like = OutputDir(str(tmp_path / "units"))
    extract_unit(spark_like, warc_path, config)  # what each Spark task writes
    files = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")
                   if p.is_file() and p.relative_to(tmp_path).parts[0] != "in")
    part = part_name(warc_path)
    assert files == sorted([
        "out/_config.toml", "out/documents.parquet", "out/stats/summary.json", "out/stats/stats.json",
        *(f"out/stats/{name}.parquet" for name in TABLE_SCHEMAS),
        f"units/extracted/_done/{part}.json", f"units/extracted/{part}.parquet",
    ])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(before + ["out", "units"])
    assert not list(Path("/tmp").glob("pwned*")) and not (tmp_path / "pwned").exists()
    rows = pq.read_table(out_dir / "documents.parquet").to_pylist()
    assert [row["drop_reason"] for row in rows] == [None, None, None]  # the hostile text is data, kept as is
    assert rows[1]["url"] == "file:///../../etc/passwd\x00.html"


# ---- (c) the config holds values, never code ------------------------------------------------------------

def marker_code(marker: Path) -> str:
    return f"__import__('os').system('touch {marker}')"


@pytest.mark.parametrize("toml, message", [
    ("[extract]\ntimeout_seconds = \"{code}\"\n", "extract.timeout_seconds: expected a number"),
    ("[pipeline]\nstages = [\"extract\", \"{code}\"]\n", "pipeline.stages: unknown stage"),
    ("[extract]\nfast = \"{code}\"\n", "extract.fast: expected bool"),
    ("[extract]\n__class__ = \"{code}\"\n", "unknown key 'extract.__class__'"),
    ("!!python/object/apply:os.system [\"{code}\"]\n", "not valid TOML"),
    ("[extract]\ntimeout_seconds = !!python/object/apply:os.system [\"{code}\"]\n", "not valid TOML"),
    ("[quality]\nmodel_path = \"../../../../../../etc/passwd\"\n[pipeline]\nstages = [\"extract\", \"quality\"]\n",
     "cannot build the stages: ../../../../../../etc/passwd is not a fastText model"),
])
def test_code_in_a_config_file_is_refused_and_never_runs(toml, message, tmp_path):
    from pipeline.corpus import build_stages

    marker = tmp_path / "marker"
    path = tmp_path / "cfg.toml"
    path.write_text(toml.replace("{code}", marker_code(marker)))
    with pytest.raises(ConfigError, match=re.escape(message)):
        build_stages(load_config(path))
    assert not marker.exists()


def test_code_in_a_string_value_stays_an_inert_string(tmp_path):
    marker = tmp_path / "marker"
    code = marker_code(marker)
    config = load_config(None, [f'extract.html_content_types=["{code}"]'])
    assert config.extract.html_content_types == (code,)
    assert load_config(_write(tmp_path / "back.toml", to_toml(config))) == config  # written and read back
    assert not marker.exists()


@pytest.mark.parametrize("assignment", [
    "extract.timeout_seconds={code}",
    "pipeline.stages=['extract'] ; {code}",
    "pipeline.stages={code}",
    "{code}=1",
    "extract.fast=$(touch {marker})",
])
def test_code_in_set_overrides_is_refused_and_never_runs(assignment, tmp_path, capsys):
    marker = tmp_path / "marker"
    value = assignment.replace("{code}", marker_code(marker)).replace("{marker}", str(marker))
    with pytest.raises(SystemExit) as exit_info:
        run_stages.main(["--input", "x", "--output", str(tmp_path / "o"), "--set", value, "--dry-run"])
    assert exit_info.value.code == 2 and capsys.readouterr().err.startswith("config error: ")
    assert not marker.exists() and not (tmp_path / "o").exists()


def test_the_cli_refuses_code_in_set_in_a_fresh_process(tmp_path):
    """The same through the real entry point (argv parsing, exit status) once."""
    marker = tmp_path / "marker"
    done = subprocess.run([sys.executable, "jobs/run_stages.py", "--input", "x", "--output", str(tmp_path / "o"),
                           "--set", f"extract.timeout_seconds={marker_code(marker)}", "--dry-run"],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.startswith("config error: extract.timeout_seconds: expected a number")
    assert not marker.exists() and not (tmp_path / "o").exists()


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path
