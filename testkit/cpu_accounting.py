"""CPU accounting of a whole process tree with a control group (shared by the benchmarks' harness,
benchmarks/measure.py `TreeCpu`, and its test).

getrusage(RUSAGE_CHILDREN) counts a process's CPU only once its parent has waited for it. A process whose
parent ignores SIGCHLD is reaped by the kernel and its CPU is added to nobody's: the pyspark daemon ignores
SIGCHLD, so its workers, where the extraction and filters run, go uncounted (the benchmarks' project figures
were ~30% low). A cgroup counts every process that ran in it, however it ended.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOTS = (Path("/sys/fs/cgroup/cpuacct"), Path("/sys/fs/cgroup/unified"), Path("/sys/fs/cgroup"))


@dataclass
class CpuGroup:
    """A control group that counts the CPU of every process started in it, however the process ends. Use
    `preexec_fn=group.join` on the command to measure, then `group.cpu_s()`."""

    path: Path

    def join(self) -> None:
        """Move the calling process into the group (as a Popen preexec_fn: the child, before its exec)."""
        (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def cpu_s(self) -> float:
        """User + system seconds of every process that has run in the group (cgroup v1 cpuacct or v2 cpu.stat)."""
        v1 = self.path / "cpuacct.usage"
        if v1.exists():
            return int(v1.read_text()) / 1e9
        lines = (self.path / "cpu.stat").read_text().splitlines()
        return int(next(line for line in lines if line.startswith("usage_usec ")).split()[1]) / 1e6

    def remove(self) -> None:
        try:
            self.path.rmdir()
        except OSError:  # a process still in it: left for the system to clean
            pass


def cpu_group(name: str) -> CpuGroup | None:
    """A new CPU-accounting group named `name`, or None where this process may not make one (then only
    getrusage remains, and the CPU of processes reaped by the kernel is missed)."""
    for root in CGROUP_ROOTS:
        if not ((root / "cpuacct.usage").exists() or (root / "cpu.stat").exists()):
            continue
        try:
            (root / name).mkdir()
        except OSError:
            continue
        return CpuGroup(root / name)
    return None
