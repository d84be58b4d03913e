"""The harness the benchmark scripts share: wall and CPU time, CPU and memory of a process or a process tree
(read from Linux's /proc and getrusage), the facts about the machine a result needs, and writing a
benchmark's section of RESULTS.md. One version of each, so that every benchmark measures alike."""
from __future__ import annotations

import os
import platform
import resource
import threading
import time
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any, Callable

from testkit.cpu_accounting import cpu_group

PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")  # /proc/<pid>/stat times are in these ticks per second
MB = 1e6  # decimal megabytes
PR_SET_CHILD_SUBREAPER = 36

# ------------------------------------------------------------------------------------------ time


class Timer:
    """`with Timer() as t:` -> t.wall_s (perf_counter) and t.cpu_s (process_time: this process, all threads)."""

    wall_s: float = 0.0
    cpu_s: float = 0.0

    def __enter__(self) -> "Timer":
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.wall_s, self.cpu_s = time.perf_counter() - self._wall, time.process_time() - self._cpu


def best_times(run: Callable[[], object], repeat: int) -> tuple[float, float]:
    """(least CPU seconds, least wall seconds) of this process over `repeat` runs after a warm-up run."""
    run()
    best_cpu = best_wall = float("inf")
    for _ in range(repeat):
        with Timer() as timer:
            run()
        best_cpu, best_wall = min(best_cpu, timer.cpu_s), min(best_wall, timer.wall_s)
    return best_cpu, best_wall


def best_cpu_seconds(run: Callable[[], object], repeat: int) -> float:
    """Least CPU seconds of this process over `repeat` runs after a warm-up run (CPU, not wall: the machine
    is shared)."""
    return best_times(run, repeat)[0]


def cpu_seconds(who: int = resource.RUSAGE_SELF) -> float:
    """User + system seconds from getrusage: this process (all threads) or, with RUSAGE_CHILDREN, its reaped
    descendants (those a child subreaper reaps included)."""
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


# ------------------------------------------------------------------------------------------ processes


class TreeCpu:
    """CPU seconds of the process trees started inside the block with `preexec_fn=tree.preexec_fn`:

        with TreeCpu("label") as tree:
            subprocess.run(command, preexec_fn=tree.preexec_fn)
        tree.cpu_s, tree.method, tree.rusage_cpu_s

    From a `CpuGroup` where one can be made (method "cgroup"), else getrusage(RUSAGE_CHILDREN) (method
    "getrusage", low where a process's parent ignores SIGCHLD); the getrusage figure is kept either way. On
    leaving, orphans re-parented to this process (`become_child_subreaper`) are reaped first."""

    def __init__(self, label: str) -> None:
        self.group = cpu_group(f"{label}-{os.getpid()}-{time.time_ns()}")
        self.preexec_fn = self.group.join if self.group else None
        self.method = "cgroup" if self.group else "getrusage"
        self.cpu_s = self.rusage_cpu_s = 0.0

    def __enter__(self) -> "TreeCpu":
        self._rusage_before = cpu_seconds(resource.RUSAGE_CHILDREN)
        return self

    def __exit__(self, *exc: Any) -> None:
        try:
            reap_orphans()
            self.rusage_cpu_s = cpu_seconds(resource.RUSAGE_CHILDREN) - self._rusage_before
            self.cpu_s = self.group.cpu_s() if self.group else self.rusage_cpu_s
        finally:  # a group left behind would outlive the benchmark
            if self.group:
                self.group.remove()



def _read(path: str) -> str | None:
    try:
        with open(path) as handle:
            return handle.read()
    except OSError:  # gone, or not ours to read
        return None


def proc_stat(pid: int | str) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name: [0] state, [1] ppid, [11..14] utime, stime, cutime,
    cstime (ticks), [21] rss (pages); None once the process has gone."""
    text = _read(f"/proc/{pid}/stat")
    return text.rsplit(")", 1)[1].split() if text else None


def parent_pids() -> dict[int, int]:
    """pid -> parent pid of every live process."""
    parents = {}
    for name in os.listdir("/proc"):
        fields = proc_stat(name) if name.isdigit() else None
        if fields is not None:
            parents[int(name)] = int(fields[1])
    return parents


def descendants(pid: int) -> list[int]:
    """Live descendants of `pid` (children, grandchildren, ...), not `pid` itself."""
    children: dict[int, list[int]] = {}
    for child, parent in parent_pids().items():
        children.setdefault(parent, []).append(child)
    found, todo = [], list(children.get(pid, ()))
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, ()))
    return found


def live_children_cpu_seconds(pid: int | None = None) -> float:
    """CPU of the live children of `pid` (default: this process) and of the children they reaped, from /proc;
    getrusage(RUSAGE_CHILDREN) only counts children once they are reaped."""
    pid = os.getpid() if pid is None else pid
    listing = _read(f"/proc/{pid}/task/{pid}/children")
    if listing is not None:
        children = [int(child) for child in listing.split()]
    else:  # kernel without CONFIG_PROC_CHILDREN: scan every process's parent
        children = [child for child, parent in parent_pids().items() if parent == pid]
    ticks = 0
    for child in children:
        fields = proc_stat(child)
        if fields is not None:  # else exited and reaped between the listing and the read
            ticks += sum(int(value) for value in fields[11:15])
    return ticks / CLOCK_TICKS


def become_child_subreaper() -> bool:
    """Make this process the reaper of its orphaned descendants (the pyspark daemon when the JVM exits), so
    that getrusage(RUSAGE_CHILDREN) counts their CPU once `reap_orphans` has waited for them."""
    import ctypes

    return ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


def reap_orphans(timeout_s: float = 60.0) -> None:
    """Wait for descendants that were re-parented to this subreaper, so that their CPU is counted."""
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:  # none left
            return
        if pid == 0:
            time.sleep(0.1)
    raise RuntimeError(f"descendants still running {timeout_s:.0f} s after the run ended")


# ------------------------------------------------------------------------------------------ memory


def _status_kb(pid: int | str, field: str) -> int:
    for line in (_read(f"/proc/{pid}/status") or "").splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def peak_rss_bytes(pid: int) -> int:
    """Peak resident memory (VmHWM) of a live process; 0 once it has gone. VmHWM starts afresh at execve,
    unlike getrusage's ru_maxrss, which a child inherits from the parent that forked it."""
    return _status_kb(pid, "VmHWM") * 1024


def maxrss_bytes() -> int:
    """getrusage's ru_maxrss of this process (KiB on Linux); see peak_rss_bytes for how it differs from VmHWM."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def current_rss_bytes() -> int:
    """Resident memory of this process now (/proc/self/statm)."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * PAGE_BYTES


def tree_rss_bytes(root: int) -> tuple[int, int]:
    """(current RSS summed over `root` and all its descendants, largest VmHWM among them): a local Spark job is
    a JVM plus forked Python workers, so no one process shows its memory."""
    members = [root, *descendants(root)]
    return (sum(_status_kb(pid, "VmRSS") for pid in members) * 1024,
            max(_status_kb(pid, "VmHWM") for pid in members) * 1024)


def pss_bytes(pid: int) -> int:
    """Proportional set size (shared pages split among their sharers); 0 once the process has gone."""
    for line in (_read(f"/proc/{pid}/smaps_rollup") or "").splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) * 1024
    return 0


@dataclass
class Sample:
    time_s: float  # epoch seconds (the clock of Spark's event log)
    rss_bytes: int  # summed over the process tree
    pss_bytes: int
    task_rss_bytes: int  # largest RSS of one task's processes
    cpu_s: dict[int, float]  # pid -> utime + stime so far


class TreeSampler:
    """Samples the process tree under `root` every `interval_s` from a thread: RSS and PSS summed over the tree,
    the largest RSS of one task's subtree (`is_task(command, parent_command)` picks the tasks' roots) and each
    process's CPU so far. Use as `with TreeSampler(pid, is_task) as sampler:`, then `sampler.window(...)`."""

    def __init__(self, root: int, is_task: Callable[[str, str], bool], interval_s: float = 0.2) -> None:
        self.root, self.is_task, self.interval_s = root, is_task, interval_s
        self.samples: list[Sample] = []
        self.commands: dict[int, str] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _command(self, pid: int) -> str:
        if pid not in self.commands:
            self.commands[pid] = (_read(f"/proc/{pid}/cmdline") or "").replace("\0", " ")
        return self.commands[pid]

    def sample(self) -> None:
        stats: dict[int, tuple[int, float, int]] = {}  # pid -> (ppid, cpu s, rss bytes)
        for name in os.listdir("/proc"):
            fields = proc_stat(name) if name.isdigit() else None
            if fields is not None:
                stats[int(name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / CLOCK_TICKS,
                                    int(fields[21]) * PAGE_BYTES)
        children: dict[int, list[int]] = {}
        for pid, (ppid, _, _) in stats.items():
            children.setdefault(ppid, []).append(pid)

        def subtree(pid: int) -> list[int]:
            found, todo = [], [pid]
            while todo:
                current = todo.pop()
                found.append(current)
                todo.extend(children.get(current, ()))
            return found

        if self.root not in stats:
            return
        tree = subtree(self.root)
        task_rss = 0
        for pid in tree:
            parent = stats[pid][0]
            if self.is_task(self._command(pid), self._command(parent) if parent in stats else ""):
                task_rss = max(task_rss, sum(stats[p][2] for p in subtree(pid)))
        self.samples.append(Sample(time.time(), sum(stats[p][2] for p in tree), sum(pss_bytes(p) for p in tree),
                                   task_rss, {p: stats[p][1] for p in tree}))

    def _loop(self) -> None:
        while not self.stop.is_set():
            self.sample()
            self.stop.wait(self.interval_s)

    def __enter__(self) -> "TreeSampler":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop.set()
        self.thread.join()

    def window(self, start_s: float, end_s: float) -> dict[str, float]:
        """Peak memory and approximate CPU seconds of the tree between two epoch times (a process's last
        interval before it exits is missed)."""
        inside = [s for s in self.samples if start_s <= s.time_s <= end_s]
        before = [s for s in self.samples if s.time_s < start_s]
        first = before[-1].cpu_s if before else {}
        last: dict[int, float] = {}
        for s in inside:
            last.update(s.cpu_s)
        return {
            "peak_rss_mb": max((s.rss_bytes for s in inside), default=0) / MB,
            "peak_pss_mb": max((s.pss_bytes for s in inside), default=0) / MB,
            "peak_task_rss_mb": max((s.task_rss_bytes for s in inside), default=0) / MB,
            "cpu_s_approx": sum(cpu - first.get(pid, 0.0) for pid, cpu in last.items()),
        }


# ------------------------------------------------------------------------------------------ machine


def loadavg() -> list[float]:
    """1, 5 and 15 minute load averages: other work on a shared machine shows here (and in wall >> CPU)."""
    return [round(x, 2) for x in os.getloadavg()]


def cpu_model() -> str:
    return next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                 if line.startswith("model name")), "unknown")


def machine_facts(packages: tuple[str, ...] = ()) -> dict[str, Any]:
    """CPUs this process may use, CPU model, memory, Python, and the versions of `packages`."""
    return {"nproc": len(os.sched_getaffinity(0)), "cpu_model": cpu_model(), "python": platform.python_version(),
            "platform": platform.platform(), "memory_gb": round(os.sysconf("SC_PHYS_PAGES") * PAGE_BYTES / 1e9, 1),
            "versions": {name: version(name) for name in packages}}


def machine_line() -> str:
    """One line for a benchmark's printout: processor, cores, Python and the load average now."""
    return (f"{platform.processor() or platform.machine()} ({os.cpu_count()} cores), Python "
            f"{platform.python_version()}, load average at start {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


# ------------------------------------------------------------------------------------------ RESULTS.md


def write_section(path: Path, section: str, title: str) -> None:
    """Append the section headed `title`, or replace an earlier version of it; other sections stay as they are."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    start = text.find(title + "\n")
    if start >= 0:
        following = text.find("\n## ", start + len(title))
        rest = text[following + 1:] if following >= 0 else ""
        text = text[:start] + section + ("\n" + rest if rest else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
