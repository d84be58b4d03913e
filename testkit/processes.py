"""Jobs as process sessions, and how to kill one the way an OOM kill or a lost node does (issue 11).

A command is started as a session leader, so the session holds every process it starts: for `spark-submit`
the JVM, the Python driver, pyspark's daemon and workers and their extraction sandboxes; for
`tokenize_corpus.py` the driver, Ray's GCS, raylet and workers. pyspark's daemon (setpgid) and Ray's local
start (setpgrp) make process groups of their own, so a process-group kill would miss some; the session does
not. Every member is stopped first (SIGSTOP, repeated until no new process appears, so none can react or
fork), then SIGKILLed: all of the job's processes vanish at one instant, no shutdown hook, `finally` or
atexit runs. The OS survives with its page cache, so this is not a power loss test (the jobs do not fsync).
Used by the kill trials (testkit/kill_trials.py, benchmarks/kill_trials.py) and the process-level tests.
"""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUN_TIMEOUT_S = 1800


def process_table() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, session id) of every process, read from /proc/<pid>/stat (Linux)."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path("/proc", entry, "stat").read_text()
        except OSError:  # the process ended between listdir and read
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) ": state, ppid, pgrp, session, ...
        table[int(entry)] = (int(fields[1]), int(fields[3]))
    return table


def session_members(leader: int, table: dict[int, tuple[int, int]]) -> set[int]:
    """The processes of `leader`'s session, plus any descendant that left it with setsid()."""
    members = {pid for pid, (_, session) in table.items() if session == leader}
    while True:
        children = {pid for pid, (parent, _) in table.items() if parent in members} - members
        if not children:
            return members
        members |= children


def kill_session(leader: int) -> int:
    """Freeze every process of the session with SIGSTOP (rescanning until no new one appears), then SIGKILL
    them all; returns how many processes were killed."""
    stopped: set[int] = set()
    while new := session_members(leader, process_table()) - stopped:
        for pid in new:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)
        stopped |= new
    for pid in stopped:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return len(stopped)


def log_tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def run_process(command: list[str], env: dict[str, str], log: Path, timeout_s: float = RUN_TIMEOUT_S,
                cwd: Path = ROOT) -> tuple[int, float]:
    """Run `command` in a session of its own to the end, output appended to `log`; returns (exit status,
    wall seconds). Kills the whole session and raises when it runs past `timeout_s`."""
    started = time.monotonic()
    with open(log, "ab") as sink:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=sink, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            returncode = process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            kill_session(process.pid)
            process.wait()
            raise RuntimeError(f"{command[:3]} ran past {timeout_s} s; log: {log}") from None
    return returncode, time.monotonic() - started


def run_to_completion(command: list[str], env: dict[str, str], log: Path, timeout_s: float = RUN_TIMEOUT_S,
                      cwd: Path = ROOT) -> float:
    """`run_process` that must succeed: returns the wall seconds, raises with the log's tail otherwise."""
    returncode, seconds = run_process(command, env, log, timeout_s, cwd)
    if returncode != 0:
        raise RuntimeError(f"{command[:3]} exited with {returncode}; log {log}:\n{log_tail(log)}")
    return seconds


@dataclass
class Kill:
    delay_s: float
    killed: bool  # False when the run ended before the delay (then it must have succeeded)
    processes_killed: int
    elapsed_s: float  # the delay when killed, else the run's whole wall time


def run_and_kill(command: list[str], env: dict[str, str], delay_s: float, log: Path) -> Kill:
    """Start `command` in a session of its own and kill the whole session after `delay_s` seconds."""
    started = time.monotonic()
    with open(log, "ab") as sink:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            returncode = process.wait(timeout=delay_s)
        except subprocess.TimeoutExpired:
            killed = kill_session(process.pid)
            process.wait()
            return Kill(delay_s, True, killed, delay_s)
    if returncode != 0:
        raise RuntimeError(f"{command[:3]} exited with {returncode} before the kill; log {log}:\n{log_tail(log)}")
    return Kill(delay_s, False, 0, time.monotonic() - started)


def short_temp_dir(prefix: str) -> Path:
    """A directory under /tmp with a short path: Ray's socket paths must fit in 107 bytes."""
    return Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
