"""Word and domain list files named in the filter configs, and where relative names are looked up.

A list file holds one entry per line; blank lines and lines starting with "#" are ignored. A relative
path is looked up first under `filters/lists/` (the lists shipped with the project), then relative to the
working directory; absolute paths are used as given. A missing file raises when the stage is
constructed, so a bad config fails before the job starts.

The shipped lists are read through `importlib.resources`, not `Path(__file__)`: on a cluster the package
arrives as a zip (`spark-submit --py-files dist/corpus_pipeline.zip`, `make package`), where `__file__`
names a path inside the zip that the filesystem cannot open.
"""
from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path, PurePosixPath

LISTS_DIR: Traversable = files("filters").joinpath("lists")  # a directory, or a folder inside a zip


def resolve_list_path(path: str) -> Traversable:
    """The file a config's list path names; raises FileNotFoundError naming every place looked at."""
    candidate = Path(path)
    shipped = LISTS_DIR.joinpath(*PurePosixPath(path).parts)
    tried: list[Traversable] = [candidate] if candidate.is_absolute() else [shipped, Path.cwd() / candidate]
    for place in tried:
        if place.is_file():
            return place
    raise FileNotFoundError(f"list file {path!r} not found (looked at {', '.join(str(p) for p in tried)})")


def read_list(path: str, lowercase: bool = True) -> list[str]:
    """Entries of a list file, stripped (and lowercased), in file order, without comments or blanks."""
    entries = []
    with resolve_list_path(path).open("r", encoding="utf-8") as handle:
        for line in handle:
            entry = line.strip()
            if entry and not entry.startswith("#"):
                entries.append(entry.lower() if lowercase else entry)
    return entries
