"""The jobs as separate processes, for tests/test_reliability.py and tests/test_cluster.py: two small WARC
files, the corpus and tokenize settings they run with, and one uninterrupted local-mode `spark-submit` run
that every test module of a pytest session compares with (made once, under pytest's base temp).

The settings are chosen for speed on a small, busy machine, and none changes an output byte (outputs do not
depend on partitioning, plans or the JIT): stages extract, url, dedup and heuristics (one document stage
before the global dedup, one after it, so both passes of the job run stages; no langid/pii models to load),
two shuffle partitions without adaptive re-planning, no whole-stage code generation and a JVM that stops
at the C1 compiler (on inputs this small, compiling costs more than it saves).
"""
from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Callable

from testkit.kill_trials import Setup
from testkit.processes import kill_session, log_tail, run_to_completion, short_temp_dir
from testkit.records import info, request, response
from testkit.warc_writer import write_warc

ROOT = Path(__file__).resolve().parents[1]
ENGLISH_TEXTS = ROOT / "sample_data" / "texts" / "en"
TEST_SETS = ["pipeline.stages=['extract','url','dedup','heuristics']"]
JIT_FLAGS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
FAST_SPARK_CONFS = ["spark.sql.shuffle.partitions=2", "spark.sql.adaptive.enabled=false",
                    "spark.sql.codegen.wholeStage=false", f"spark.executor.extraJavaOptions={JIT_FLAGS}"]
TOKENIZE_SETS = ["tokenize.shard_tokens=512", "tokenize.val_fraction=0.4"]  # several shards, both splits


def article(path: Path) -> str:
    """An HTML page of one sample text (`site:`/`title:` header lines, then paragraphs)."""
    header, _, body = path.read_text(encoding="utf-8").partition("\n\n")
    title = header.splitlines()[-1].removeprefix("title: ")
    paragraphs = "".join(f"<p>{p.strip()}</p>" for p in body.split("\n\n") if p.strip())
    return (f"<html><head><title>{title}</title></head><body><nav><a href='/'>Home</a></nav>"
            f"<article><h1>{title}</h1>{paragraphs}</article><footer>Contact us</footer></body></html>")


def write_inputs(directory: Path) -> list[str]:
    """Two WARC files: six distinct articles, a 404, an image, and one article stored in both files (the
    second copy is a `dedup:exact_duplicate` under another record id)."""
    texts = sorted(ENGLISH_TEXTS.glob("*.txt"))[:6]
    directory.mkdir(parents=True, exist_ok=True)
    first = write_warc(directory / "CC-MAIN-2026-08-tiny-a.warc.gz", [
        info(), request("a0"), response("a0", article(texts[0])), response("a1", article(texts[1])),
        response("a2", "<html><body>gone</body></html>", status=404), response("a3", article(texts[2])),
        response("a4", b"\x89PNG\r\n\x1a\n....", content_type="image/png"),
    ])
    second = write_warc(directory / "CC-MAIN-2026-08-tiny-b.warc.gz", [
        info(), response("b0", article(texts[3])), response("b1", article(texts[0])),
        response("b2", article(texts[4])), response("b3", article(texts[5])),
    ])
    return [str(first), str(second)]


def small_setup(workdir: Path, inputs: list[str]) -> Setup:
    return Setup(workdir, inputs, sets=list(TEST_SETS), spark_confs=list(FAST_SPARK_CONFS),
                 driver_java_options=JIT_FLAGS, tokenize_sets=list(TOKENIZE_SETS))


def reference_build(basetemp: Path) -> tuple[Setup, Path, float]:
    """(setup, output, wall seconds) of the uninterrupted local-mode run, made on first use in a session."""
    root = basetemp / "process-jobs"
    setup = small_setup(root, write_inputs(root / "inputs") if not (root / "inputs").is_dir()
                       else sorted(str(p) for p in (root / "inputs").glob("*.warc.gz")))
    out, record = root / "build-reference", root / "build-reference.json"
    if not record.is_file():
        seconds = run_to_completion(setup.build_command(out), setup.env(root / "ray"), root / "build-reference.log")
        record.write_text(json.dumps({"seconds": seconds}))
    return setup, out, json.loads(record.read_text())["seconds"]


def reference_tokens(basetemp: Path) -> tuple[Path, Path, float]:
    """(tokenizer.json, tokens folder, wall seconds): a tokenizer trained once on the reference corpus and
    the uninterrupted tokenize run with a local Ray, made on first use in a session."""
    setup, out, _ = reference_build(basetemp)
    root = basetemp / "process-jobs"
    tokenizer, tokens, record = root / "tokenizer" / "tokenizer.json", root / "tokens-reference", root / "tokens.json"
    if not record.is_file():
        ray_tmp = short_temp_dir("raytest")
        try:
            env = setup.env(ray_tmp)
            train = setup.train_tokenizer_command(out / "corpus", tokenizer.parent)
            run_to_completion(train, env, root / "tokenizer.log")
            command = setup.tokenize_command(out / "corpus", tokenizer, tokens)
            seconds = run_to_completion(command, env, root / "tokens.log")
        finally:
            shutil.rmtree(ray_tmp, ignore_errors=True)
        record.write_text(json.dumps({"seconds": seconds}))
    return tokenizer, tokens, json.loads(record.read_text())["seconds"]


def free_ports(count: int) -> list[int]:
    """Ports free on the loopback now (all held open together, so they are distinct)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def wait_until(ready: Callable[[], bool], timeout_s: float, what: str, log: Path | None = None) -> None:
    """Poll `ready` every half second; raise naming `what` (and the log's tail) after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not ready():
        if time.monotonic() > deadline:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:]) if log and log.is_file() else ""
            raise TimeoutError(f"{what} not ready after {timeout_s} s\n{tail}")
        time.sleep(0.5)


def run_and_kill_when(command: list[str], env: dict[str, str], ready: Callable[[], bool], log: Path,
                      timeout_s: float = 600) -> int:
    """Start `command` in a session of its own and kill the whole session (testkit/processes.py's
    SIGSTOP-then-SIGKILL) as soon as `ready()` holds, polled every 20 ms: a kill at a chosen phase of the
    work, however loaded the machine. Returns how many processes were killed; raises with the log's tail
    when the command ends first (the phase was never seen) or runs past `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    with open(log, "ab") as sink:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        while not ready():
            if process.poll() is not None or time.monotonic() > deadline:
                if process.poll() is None:
                    kill_session(process.pid)
                process.wait()
                raise RuntimeError(f"{command[:3]} ended or timed out (status {process.returncode}) before the "
                                   f"kill point; log {log}:\n{log_tail(log)}")
            time.sleep(0.02)
        killed = kill_session(process.pid)
        process.wait()
    return killed
