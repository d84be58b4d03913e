"""Real multi-process clusters on this machine (issue 11), started by the tests and always torn down:

- Spark standalone: a master and two workers (1 core, 1 GiB each), separate JVMs from `spark-class`; the
  corpus job submitted the way code goes to a cluster, `spark-submit --master spark://127.0.0.1:PORT
  --py-files corpus_pipeline.zip` (the zip `make package` writes), with a task failing once per input and
  pass (standalone retries by default);
- Ray: a head and one worker node (`ray start`); the tokenize job connects with `--address` and ships the
  project with runtime_env py_modules.

Shipping is made real rather than assumed. The project venv has the project installed editable (a .pth
that puts an import hook for this checkout into every interpreter), so any process started from it would
import the repository whatever was shipped. The nodes here (Spark driver and executors, Ray workers) run
an *isolated* interpreter instead: a venv without pip whose only site-packages entry is a .pth line
naming the project venv's site-packages, so every dependency imports but the project's own .pth is never
executed (Python runs .pth files only in site directories, not in directories a .pth adds). The jobs run
from a working directory outside the repository (Ray adds the driver's working directory to its workers'
sys.path). The code can only arrive through the zip or the py_modules upload; the tests check where it
was imported from, and that the Ray job fails without shipping.

Outputs must equal the local-mode runs byte for byte (tests/process_jobs.py; Spark's dedup decision
files by rows, see testkit/kill_trials.py). Teardown kills exactly the processes a fixture started:
each daemon is started as a session leader and its whole session is stopped. Never `ray stop`: it stops
every Ray process of the machine, other users' included.
"""
from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import sysconfig
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pyspark
import pytest

from filters.wordlists import read_list
from jobs import package_code
from pipeline.corpus import part_name
from pipeline.spark.job import FAIL_ONCE_ENV
from testkit.kill_trials import differences
from testkit.processes import (kill_session, process_table, run_process, run_to_completion, session_members,
                               short_temp_dir)
from tests.process_jobs import JIT_FLAGS, ROOT, free_ports, reference_build, reference_tokens, wait_until

SPARK_HOME = Path(pyspark.__file__).parent
SPARK_CLASS = SPARK_HOME / "bin" / "spark-class"
START_TIMEOUT_S = 180
JOB_TIMEOUT_S = 600


def isolated_python(directory: Path) -> Path:
    """A venv whose interpreter imports every dependency of the project venv but not the project (see
    the module docstring); returns its python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(directory)], check=True)
    site_packages = Path(sysconfig.get_path("purelib", vars={"base": str(directory), "platbase": str(directory)}))
    (site_packages / "project-dependencies.pth").write_text(str(SPARK_HOME.parent) + "\n")
    return directory / "bin" / "python"


def without_pythonpath() -> dict[str, str]:
    """This environment without PYTHONPATH, which could name the project for the nodes."""
    return {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}


def cannot_import_project(python: Path, cwd: Path) -> bool:
    probe = subprocess.run([str(python), "-c", "import pyspark, ray, tokenizers, pyarrow, pipeline"], cwd=cwd,
                           env=without_pythonpath(), capture_output=True, text=True)
    return probe.returncode != 0 and "No module named 'pipeline'" in probe.stderr


@pytest.fixture(scope="module")
def nodes_python(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("isolated")
    python = isolated_python(root / "venv")
    assert cannot_import_project(python, root)  # the dependencies import, the project does not
    return python


@pytest.fixture(scope="module")
def package_zip(tmp_path_factory) -> Path:
    """The zip as `make package` writes it."""
    path = tmp_path_factory.mktemp("dist") / "corpus_pipeline.zip"
    assert package_code.main(["--output", str(path)]) == 0
    return path


def test_package_zip_is_reproducible_and_its_lists_load_from_it(package_zip, tmp_path):
    # pyproject.toml's find.include but testkit (tests and benchmarks only)
    packages = ("contract", "dedup", "filters", "pipeline", "reporting", "storage", "tokenizer", "trainer")
    expected = sorted(path.relative_to(ROOT).as_posix() for package in packages for path in (ROOT / package).rglob("*")
                      if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
                      and not any(part.startswith(".") for part in path.relative_to(ROOT).parts))
    assert sorted(zipfile.ZipFile(package_zip).namelist()) == expected
    again = tmp_path / "again.zip"
    assert package_code.main(["--output", str(again)]) == 0
    assert again.read_bytes() == package_zip.read_bytes()  # fixed times and order: same source, same bytes
    # Imported from the zip (on sys.path ahead of the editable install, from a directory that is not the
    # repository), the shipped lists are read through importlib.resources, as on an executor.
    probe = ("import filters.wordlists as w, json; "
             "print(json.dumps([w.__file__, w.read_list('badwords/en.txt'), w.read_list('url/banned_domains.txt')]))")
    env = dict(os.environ, PYTHONPATH=str(package_zip))
    found = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True,
                           check=True)
    module_file, badwords, domains = json.loads(found.stdout)
    assert module_file == str(package_zip / "filters" / "wordlists.py")
    assert badwords == read_list("badwords/en.txt") and len(badwords) > 100
    assert domains == read_list("url/banned_domains.txt")


def start_daemon(command: list[str], env: dict[str, str], log: Path, cwd: Path) -> subprocess.Popen:
    """A process that is the leader of a new session, so that its whole tree can be killed, and only it."""
    with open(log, "ab") as sink:
        return subprocess.Popen([str(part) for part in command], cwd=cwd, env=env, stdout=sink,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)


def stop_sessions(leaders: list[int]) -> None:
    for leader in leaders:
        kill_session(leader)


# ------------------------------------------------------------------------------------------ Spark


@dataclass
class SparkCluster:
    master_url: str
    work_dirs: list[Path]


def alive_workers(ui_port: int) -> int:
    """Workers the master reports alive (its web UI's JSON), -1 while it does not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{ui_port}/json/", timeout=5) as reply:
            return int(json.load(reply)["aliveworkers"])
    except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError, KeyError):
        return -1


@pytest.fixture
def spark_cluster(tmp_path) -> Iterator[SparkCluster]:
    """A standalone master and two workers on 127.0.0.1, each a JVM of its own."""
    master_port, ui_port, *worker_ports = free_ports(6)
    env = dict(without_pythonpath(), SPARK_HOME=str(SPARK_HOME), SPARK_LOCAL_IP="127.0.0.1",
               SPARK_DAEMON_JAVA_OPTS=JIT_FLAGS)
    master_url = f"spark://127.0.0.1:{master_port}"
    daemons: list[subprocess.Popen] = []
    try:
        daemons.append(start_daemon([SPARK_CLASS, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                                     "--port", master_port, "--webui-port", ui_port], env, tmp_path / "master.log",
                                    tmp_path))
        work_dirs = [tmp_path / f"worker{i}" for i in range(2)]
        for i, work_dir in enumerate(work_dirs):
            work_dir.mkdir()
            daemons.append(start_daemon(
                [SPARK_CLASS, "org.apache.spark.deploy.worker.Worker", master_url, "--host", "127.0.0.1",
                 "--port", worker_ports[2 * i], "--webui-port", worker_ports[2 * i + 1], "--cores", "1",
                 "--memory", "1g", "--work-dir", work_dir], env, tmp_path / f"worker{i}.log", tmp_path))

        def ready() -> bool:
            if any(daemon.poll() is not None for daemon in daemons):
                raise RuntimeError(f"a Spark daemon exited; logs in {tmp_path}")
            return alive_workers(ui_port) == 2

        wait_until(ready, START_TIMEOUT_S, "Spark master with 2 workers", tmp_path / "master.log")
        yield SparkCluster(master_url, work_dirs)
    finally:
        stop_sessions([daemon.pid for daemon in daemons])
        for daemon in daemons:
            daemon.wait()


def test_spark_standalone_runs_the_shipped_zip_to_the_local_output(spark_cluster, nodes_python, package_zip,
                                                                    tmp_path, tmp_path_factory):
    setup, local, _ = reference_build(tmp_path_factory.getbasetemp())
    out, fail_dir, cwd = tmp_path / "out", tmp_path / "faults", tmp_path / "cwd"
    fail_dir.mkdir()
    cwd.mkdir()
    command = setup.build_command(out)
    command[1:1] = ["--master", spark_cluster.master_url, "--py-files", str(package_zip),
                    "--conf", f"spark.executorEnv.{FAIL_ONCE_ENV}={fail_dir}"]
    env = dict(setup.env(tmp_path / "ray"), SPARK_HOME=str(SPARK_HOME), PYSPARK_PYTHON=str(nodes_python),
               PYSPARK_DRIVER_PYTHON=str(nodes_python))
    env.pop("PYTHONPATH", None)  # the driver, too, runs the isolated python: it imports the zip (--py-files)
    run_to_completion(command, env, tmp_path / "job.log", JOB_TIMEOUT_S, cwd=cwd)

    assert differences(local, out) == []
    # Every executor fetched the zip; the failed first attempts ran code imported from it, on both workers.
    zip_sha256 = hashlib.sha256(package_zip.read_bytes()).hexdigest()
    shipped = [path for work_dir in spark_cluster.work_dirs for path in work_dir.glob("app-*/*/corpus_pipeline.zip")]
    assert sorted(path.parents[2] for path in shipped) == spark_cluster.work_dirs
    assert {hashlib.sha256(path.read_bytes()).hexdigest() for path in shipped} == {zip_sha256}
    markers = {p.name: json.loads(p.read_text()) for p in fail_dir.iterdir()}
    assert sorted(markers) == sorted(f"pass{n}-{part_name(path)}.json" for n in (0, 1) for path in setup.inputs)
    assert {marker["attempt"] for marker in markers.values()} == {0}
    code_files = {Path(marker["code_file"]) for marker in markers.values()}
    assert code_files <= {path / "pipeline" / "spark" / "job.py" for path in shipped}


# ------------------------------------------------------------------------------------------ Ray


@dataclass
class RayCluster:
    address: str
    env: dict[str, str]  # for a driver: the cluster's temp dir and token
    temp_dir: Path
    leaders: list[int]


def raylets(leaders: list[int]) -> int:
    """Raylet processes (one per node) in the sessions of `leaders`."""
    table = process_table()
    members = set().union(*(session_members(leader, table) for leader in leaders))
    names = []
    for pid in members:
        try:
            names.append(Path(f"/proc/{pid}/comm").read_text().strip())
        except OSError:
            continue
    return names.count("raylet")


@pytest.fixture
def ray_cluster(nodes_python, tmp_path) -> Iterator[RayCluster]:
    """A Ray head and one worker node (1 CPU each) on this machine, with their own temp dir and token."""
    temp_dir = short_temp_dir("raycl")  # Ray's socket paths must fit in 107 bytes
    head_port, dashboard_port, *agent_ports = free_ports(8)
    # The cluster's own token (Ray turns token auth on when ~/.ray/auth_token exists); RAY_TMPDIR keeps its
    # address file away from the default /tmp/ray, so no other process's ray.init() finds this cluster.
    env = dict(os.environ, RAY_TMPDIR=str(temp_dir), RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_hex(32))
    env.pop("RAY_ADDRESS", None)
    node_env = {name: value for name, value in env.items() if name != "PYTHONPATH"}
    start = [str(nodes_python), "-m", "ray.scripts.scripts", "start", "--num-cpus=1", "--disable-usage-stats",
             "--object-store-memory=100000000"]
    head = ["--head", "--node-ip-address=127.0.0.1", f"--port={head_port}", "--include-dashboard=false",
            f"--dashboard-port={dashboard_port}", f"--temp-dir={temp_dir}"]
    leaders: list[int] = []
    try:
        for i, node in enumerate((head, [f"--address=127.0.0.1:{head_port}"])):
            agent, metrics, runtime_env = agent_ports[3 * i: 3 * i + 3]  # explicit: two nodes share the machine
            ports = [f"--dashboard-agent-listen-port={agent}", f"--metrics-export-port={metrics}",
                     f"--runtime-env-agent-port={runtime_env}"]
            starter = start_daemon(start + node + ports, node_env, tmp_path / f"ray-node{i}.log", tmp_path)
            leaders.append(starter.pid)  # `ray start` exits once its node runs; the node stays in its session
            assert starter.wait(timeout=START_TIMEOUT_S) == 0, (tmp_path / f"ray-node{i}.log").read_text()[-3000:]
        assert raylets(leaders) == 2
        yield RayCluster(f"127.0.0.1:{head_port}", env, temp_dir, leaders)
    finally:
        stop_sessions(leaders)
        shutil.rmtree(temp_dir, ignore_errors=True)


def test_ray_cluster_runs_the_shipped_packages_to_the_local_output(ray_cluster, nodes_python, tmp_path,
                                                                    tmp_path_factory):
    setup, local, _ = reference_build(tmp_path_factory.getbasetemp())
    tokenizer, local_tokens, _ = reference_tokens(tmp_path_factory.getbasetemp())
    cwd = tmp_path / "cwd"  # not the repository: Ray would add the driver's working directory to the workers
    cwd.mkdir()

    def command(out: Path, *extra: str) -> list[str]:
        return setup.tokenize_command(local / "corpus", tokenizer, out) + ["--address", ray_cluster.address, *extra]

    unshipped = tmp_path / "unshipped.log"
    returncode, _ = run_process(command(tmp_path / "unshipped", "--no-ship-code"), ray_cluster.env, unshipped,
                                JOB_TIMEOUT_S, cwd=cwd)
    assert returncode != 0 and "No module named 'tokenizer'" in unshipped.read_text()  # the nodes lack the project

    out = tmp_path / "tokens"
    run_to_completion(command(out), ray_cluster.env, tmp_path / "job.log", JOB_TIMEOUT_S, cwd=cwd)
    assert differences(local_tokens, out) == []
    assert raylets(ray_cluster.leaders) == 2  # both nodes lived through the job
    uploaded = list(ray_cluster.temp_dir.glob("session_*/runtime_resources/py_modules_files/*/tokenizer/encode.py"))
    assert uploaded  # the workers ran the packages unpacked from the job's runtime_env
