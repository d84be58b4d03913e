"""Word and domain list files named in the filter configs, and where relative names are looked up.

A list file holds one entry per line; blank lines and lines starting with "#" are ignored. A relative
path is looked up first under `filters/lists/` (the lists shipped with the project), then relative to the
working directory; absolute paths are used as given. A missing file raises when the stage is
constructed, so a bad config fails before the job starts.
"""
from __future__ import annotations

from pathlib import Path

LISTS_DIR = Path(__file__).resolve().parent / "lists"


def resolve_list_path(path: str) -> Path:
    """The file a config's list path names; raises FileNotFoundError naming every place looked at."""
    candidate = Path(path)
    tried = [candidate] if candidate.is_absolute() else [LISTS_DIR / candidate, Path.cwd() / candidate]
    for place in tried:
        if place.is_file():
            return place
    raise FileNotFoundError(f"list file {path!r} not found (looked at {', '.join(str(p) for p in tried)})")


def read_list(path: str, lowercase: bool = True) -> list[str]:
    """Entries of a list file, stripped (and lowercased), in file order, without comments or blanks."""
    entries = []
    with open(resolve_list_path(path), encoding="utf-8") as handle:
        for line in handle:
            entry = line.strip()
            if entry and not entry.startswith("#"):
                entries.append(entry.lower() if lowercase else entry)
    return entries
