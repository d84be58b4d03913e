"""What several benchmark scripts share: peak memory of a process, and writing their section of RESULTS.md."""
from __future__ import annotations

from pathlib import Path


def peak_rss_bytes(pid: int) -> int:
    """Peak resident memory (VmHWM) of a live process; 0 once it has gone. VmHWM starts afresh at execve,
    unlike getrusage's ru_maxrss, which a child inherits from the parent that forked it."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


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
