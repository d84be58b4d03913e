"""Input expansion and opening: local files, directories, globs, pyarrow filesystem URIs (s3://, gs://,
hdfs://, file://) and Common Crawl `warc.paths(.gz)` listings joined to a prefix.

Expansion rules (README, "Running it on real data"):
- a path that exists is taken literally, whatever characters its name holds (`page[1].warc.gz` is that
  file, not a glob); only a spec that names no existing file is a glob (`*`, `?`, `[...]`);
- a directory yields every file of a supported kind (`INPUT_SUFFIXES`: WARC, WET, JSONL, Parquet) below
  it; names starting with `.` or `_` (hidden files, Spark's `_SUCCESS`, our `_done/` and `_config.toml`)
  and temporary `*.tmp-*` files are skipped, as Hadoop's input formats do;
- symbolic links are followed, each directory is visited once (a link loop is not a second visit) and a
  file reached under two names is read once, under the smallest name;
- a spec matching nothing is an `InputError` naming it.
Expansion is sorted and de-duplicated so that the set of work units, and their output names, do not
depend on listing order.
"""
from __future__ import annotations

import fnmatch
import glob
import gzip
import io
import os
import re
from typing import BinaryIO
from urllib.parse import quote, unquote

import pyarrow as pa
import pyarrow.fs as pafs

from storage.atomic import TEMPORARY_MARK

WARC_SUFFIXES = (".warc", ".warc.gz", ".arc.gz")
WET_SUFFIXES = (".warc.wet.gz", ".wet.gz", ".wet")
# JSONL / Parquet inputs with `id` and `text` (read by pipeline/corpus.py, which imports this tuple)
TABLE_SUFFIXES = (".jsonl", ".jsonl.gz", ".jsonl.zst", ".json", ".parquet")
INPUT_SUFFIXES = WARC_SUFFIXES + WET_SUFFIXES + TABLE_SUFFIXES  # what a directory yields
LISTING_SUFFIXES = (".paths", ".paths.gz")
DEFAULT_LISTING_PREFIX = "s3://commoncrawl/"  # where Common Crawl's warc.paths entries live
GLOB_CHARACTERS = "*?["
HADOOP_GLOB_CHARACTERS = "{}[]*?\\"  # what Hadoop's globber reads specially; a backslash escapes one


class InputError(FileNotFoundError):
    """An `--input` spec names nothing readable; the message names the spec."""


class HadoopPathError(ValueError):
    """A location Hadoop (Spark) cannot name."""


def is_uri(path: str) -> bool:
    return "://" in path


def _filesystem(path: str) -> tuple[pafs.FileSystem, str]:
    if is_uri(path):
        return pafs.FileSystem.from_uri(path)
    return pafs.LocalFileSystem(), os.path.abspath(path)


def hadoop_path(location: str, reading: bool) -> str:
    """The Hadoop Path string (Spark's `read`/`write`/`setCheckpointDir`) naming `location` exactly.

    Hadoop parses a Path string literally (no percent-decoding: a space or `%` is itself), so a local
    path becomes `file://` + the absolute path and a URI (percent-encoded, as pyarrow reads it) is
    decoded. Spark globs every path it reads, so for `reading` the glob characters are escaped with a
    backslash. A `:` in a path is refused: Hadoop cannot list a directory below one (HADOOP-3257).
    """
    if is_uri(location):
        scheme, rest = location.split("://", 1)
        authority, slash, path = rest.partition("/")
        prefix, path = f"{scheme}://{authority}", slash + unquote(path)
    else:
        prefix, path = "file://", os.path.abspath(location)
    if ":" in path:
        raise HadoopPathError(f"{location!r}: Spark (Hadoop) cannot use a path with ':' in it")
    if reading:
        path = "".join("\\" + ch if ch in HADOOP_GLOB_CHARACTERS else ch for ch in path)
    return prefix + path


def local_uri(path: str) -> str:
    """`file://` URI of a local path, percent-encoded as pyarrow's `FileSystem.from_uri` expects."""
    return "file://" + quote(os.path.abspath(path), safe="/")


def is_wet(path: str) -> bool:
    """A Common Crawl WET file: its `conversion` records (the pages' text) are the documents."""
    return path.endswith(WET_SUFFIXES)


def open_input(path: str) -> BinaryIO:
    """A binary stream of the raw bytes (no decompression by file extension)."""
    if not is_uri(path):
        return open(path, "rb")
    fs, inner = _filesystem(path)
    return fs.open_input_stream(inner, compression=None)


def _is_hidden(name: str) -> bool:
    """Hidden files and Hadoop/Spark markers (`_SUCCESS`, `_temporary`, our `_done/`, `_config.toml`)."""
    return name.startswith((".", "_"))


def is_input_name(name: str) -> bool:
    """Whether a file found inside a directory is an input: a supported kind, not hidden, not a marker."""
    return not _is_hidden(name) and TEMPORARY_MARK not in name and name.endswith(INPUT_SUFFIXES)


def _listing_entries(path: str, prefix: str) -> list[str]:
    with open_input(path) as stream:
        raw = stream.read()
    if path.endswith(".gz"):
        raw = gzip.decompress(raw)
    lines = [line.strip() for line in io.StringIO(raw.decode("utf-8"))]
    return [prefix.rstrip("/") + "/" + line.lstrip("/") for line in lines if line and not line.startswith("#")]


def _uri_files(base_uri: str) -> list[tuple[str, str]]:
    """(uri, path below base) of every file below the directory `base_uri`; the URIs keep the base's
    scheme and authority and are percent-encoded, so that pyarrow (and Hadoop) parse them back."""
    fs, root = pafs.FileSystem.from_uri(base_uri)
    root = root.rstrip("/")
    base = base_uri.rstrip("/")
    found = []
    for info in fs.get_file_info(pafs.FileSelector(root, recursive=True)):
        if info.type == pafs.FileType.File:
            relative = info.path[len(root):].strip("/")
            found.append((f"{base}/{quote(relative, safe='/')}", relative))
    return found


def _uri_glob(pattern: str) -> list[str]:
    first_glob = min(pattern.index(ch) for ch in GLOB_CHARACTERS if ch in pattern)
    base = pattern[:first_glob].rsplit("/", 1)[0]
    # percent-encoded characters are literal (`%5B` is a "[" in the name, not a character class)
    pieces = re.split(r"([*?\[\]])", pattern[len(base) + 1:])
    relative_pattern = "".join(piece if piece and piece in "*?[]" else glob.escape(unquote(piece)) for piece in pieces)
    return [uri for uri, relative in _uri_files(base + "/") if fnmatch.fnmatchcase(relative, relative_pattern)]


def _uri_directory_files(uri: str) -> list[str]:
    found = []
    for file_uri, relative in _uri_files(uri):
        parts = relative.split("/")
        if not any(map(_is_hidden, parts[:-1])) and is_input_name(parts[-1]):
            found.append(file_uri)
    return found


def _raise(error: OSError) -> None:
    raise error  # an unreadable directory is an error, not a silently smaller input set


def _local_directory_files(directory: str) -> list[str]:
    """Input files below `directory` (absolute names), following links, each real directory once."""
    found = []
    visited: set[tuple[int, int]] = set()
    for folder, subdirs, files in os.walk(os.path.abspath(directory), onerror=_raise, followlinks=True):
        status = os.stat(folder)
        if (status.st_dev, status.st_ino) in visited:  # a link back to a directory already read
            subdirs[:] = []
            continue
        visited.add((status.st_dev, status.st_ino))
        subdirs[:] = sorted(name for name in subdirs if not _is_hidden(name))
        found.extend(os.path.join(folder, name) for name in sorted(files)
                     if is_input_name(name) and os.path.isfile(os.path.join(folder, name)))
    return found


def _local_matches(spec: str) -> list[str]:
    if os.path.isdir(spec):
        return _local_directory_files(spec)
    if os.path.exists(spec):
        return [spec]
    if not any(ch in spec for ch in GLOB_CHARACTERS):
        return []
    matches = []
    for match in sorted(glob.glob(spec, recursive=True)):
        matches.extend(_local_directory_files(match) if os.path.isdir(match) else [match])
    return matches


def _uri_matches(spec: str) -> list[str]:
    fs, inner = pafs.FileSystem.from_uri(spec)
    kind = fs.get_file_info(inner).type
    if kind == pafs.FileType.Directory:
        return _uri_directory_files(spec)
    if kind == pafs.FileType.File:
        return [spec]
    return _uri_glob(spec) if any(ch in spec.split("://", 1)[1] for ch in GLOB_CHARACTERS) else []


def _matches(spec: str, listing_prefix: str) -> list[str]:
    try:
        if spec.endswith(LISTING_SUFFIXES):
            return _listing_entries(spec, listing_prefix)
        return _uri_matches(spec) if is_uri(spec) else _local_matches(spec)
    except (OSError, pa.ArrowException, ValueError) as error:  # unreadable listing, unknown scheme, bad URI
        # (pyarrow's errors subclass OSError or ValueError; ArrowException is the rest)
        raise InputError(f"input {spec!r} cannot be read: {error}") from error


def _identity(path: str) -> str:
    """The file a name stands for: its real path when local (links resolved), else the name itself."""
    return path if is_uri(path) else os.path.realpath(path)


def expand_inputs(specs: list[str], listing_prefix: str = DEFAULT_LISTING_PREFIX) -> list[str]:
    """Every input file named by `specs`, sorted, each file once; InputError for a spec matching nothing."""
    by_identity: dict[str, str] = {}
    for spec in specs:
        matches = _matches(spec, listing_prefix)
        if not matches:
            raise InputError(f"input {spec!r} matches no file (directories yield {', '.join(INPUT_SUFFIXES)})")
        for match in matches:
            identity = _identity(match)
            by_identity[identity] = min(by_identity.get(identity, match), match)
    return sorted(set(by_identity.values()))
