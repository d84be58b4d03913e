"""The benchmarks' CPU measure of a process tree (benchmarks/measure.py `TreeCpu`)."""
from __future__ import annotations

import subprocess
import sys

import pytest

from benchmarks.measure import TreeCpu, cpu_group

# A child that ignores SIGCHLD (as the pyspark daemon does) and forks a grandchild that burns 0.4 s of CPU:
# the kernel reaps the grandchild, so getrusage never sees its CPU; the child itself burns 0.2 s.
IGNORING_PARENT = """
import os, signal, time
signal.signal(signal.SIGCHLD, signal.SIG_IGN)
if os.fork() == 0:
    start = time.process_time()
    while time.process_time() - start < 0.4:
        pass
    os._exit(0)
start = time.process_time()
while time.process_time() - start < 0.2:
    pass
time.sleep(0.6)  # the grandchild ends (and is reaped by the kernel) while this process still runs
"""


def test_the_cgroup_counts_what_getrusage_misses():
    probe = cpu_group("test-measure-probe")
    if probe is None:
        pytest.skip("this machine lets no process make a CPU-accounting cgroup (getrusage is then the measure)")
    probe.remove()
    with TreeCpu("test-measure") as tree:
        subprocess.run([sys.executable, "-c", IGNORING_PARENT], preexec_fn=tree.preexec_fn, check=True)
    assert tree.method == "cgroup"
    assert 0.6 <= tree.cpu_s < 1.5  # both processes, plus the interpreter's start
    assert tree.rusage_cpu_s < 0.55  # the child only: the grandchild's 0.4 s went uncounted
