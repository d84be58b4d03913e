"""The benchmarks' CPU measure of a process tree (testkit/cpu_accounting.py, used by benchmarks/measure.py)."""
from __future__ import annotations

import resource
import subprocess
import sys

import pytest

from testkit.cpu_accounting import cpu_group

# A child that ignores SIGCHLD (as the pyspark daemon does) and forks a grandchild that burns 0.4 s of CPU;
# the kernel reaps the grandchild, so no getrusage ever counts it. The child burns 0.2 s, then waits until the
# grandchild has ended (with SIGCHLD ignored, wait() returns only once no child is left, and fails).
IGNORING_PARENT = """
import os, signal, time

def burn(seconds):
    start = time.process_time()
    while time.process_time() - start < seconds:
        pass

signal.signal(signal.SIGCHLD, signal.SIG_IGN)
if os.fork() == 0:
    burn(0.4)
    os._exit(0)
burn(0.2)
try:
    os.wait()
except ChildProcessError:
    pass
"""


def usage_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def test_the_group_counts_a_grandchild_the_kernel_reaped():
    group = cpu_group("test-cpu-accounting")
    if group is None:
        pytest.skip("this machine lets no process make a CPU-accounting cgroup (getrusage is then the measure)")
    try:
        before = usage_s()
        subprocess.run([sys.executable, "-c", IGNORING_PARENT], preexec_fn=group.join, check=True)
        rusage_s, group_s = usage_s() - before, group.cpu_s()
    finally:
        group.remove()
    assert 0.6 <= group_s < 2.0  # child and grandchild (plus the interpreter's start)
    assert rusage_s < group_s - 0.3  # getrusage saw the child only: the grandchild's 0.4 s is missing
