"""Input expansion and opening: local files, directories, globs, pyarrow filesystem URIs (s3://, gs://,
hdfs://, file://) and Common Crawl `warc.paths(.gz)` listings joined to a prefix.

Expansion is sorted and de-duplicated so that the set of work units, and their output names, do not
depend on listing order.
"""
from __future__ import annotations

import fnmatch
import glob
import gzip
import io
import os
from typing import BinaryIO

import pyarrow.fs as pafs

WARC_SUFFIXES = (".warc", ".warc.gz", ".arc.gz")
LISTING_SUFFIXES = (".paths", ".paths.gz")
DEFAULT_LISTING_PREFIX = "s3://commoncrawl/"  # where Common Crawl's warc.paths entries live


def is_uri(path: str) -> bool:
    return "://" in path


def _filesystem(path: str) -> tuple[pafs.FileSystem, str]:
    if is_uri(path):
        return pafs.FileSystem.from_uri(path)
    return pafs.LocalFileSystem(), os.path.abspath(path)


def open_input(path: str) -> BinaryIO:
    """A binary stream of the raw bytes (no decompression by file extension)."""
    if not is_uri(path):
        return open(path, "rb")
    fs, inner = _filesystem(path)
    return fs.open_input_stream(inner, compression=None)


def _listing_entries(path: str, prefix: str) -> list[str]:
    with open_input(path) as stream:
        raw = stream.read()
    if path.endswith(".gz"):
        raw = gzip.decompress(raw)
    lines = [line.strip() for line in io.StringIO(raw.decode("utf-8"))]
    return [prefix.rstrip("/") + "/" + line.lstrip("/") for line in lines if line and not line.startswith("#")]


def _uri_glob(pattern: str) -> list[str]:
    scheme = pattern.split("://", 1)[0] + "://"
    fs, inner = pafs.FileSystem.from_uri(pattern.split("*", 1)[0].rsplit("/", 1)[0] + "/")
    base = inner
    inner_pattern = pattern.split("://", 1)[1]
    infos = fs.get_file_info(pafs.FileSelector(base, recursive=True))
    return [scheme + info.path for info in infos if info.type == pafs.FileType.File and fnmatch.fnmatch(info.path, inner_pattern)]


def _directory_files(path: str) -> list[str]:
    fs, inner = _filesystem(path)
    infos = fs.get_file_info(pafs.FileSelector(inner, recursive=True))
    found = [info.path for info in infos if info.type == pafs.FileType.File and info.path.endswith(WARC_SUFFIXES)]
    if is_uri(path):
        scheme = path.split("://", 1)[0] + "://"
        return [scheme + p for p in found]
    return found


def expand_inputs(specs: list[str], listing_prefix: str = DEFAULT_LISTING_PREFIX) -> list[str]:
    """Every input file named by `specs`, sorted; raises FileNotFoundError for a spec matching nothing."""
    found: set[str] = set()
    for spec in specs:
        if spec.endswith(LISTING_SUFFIXES):
            matches = _listing_entries(spec, listing_prefix)
        elif any(ch in spec for ch in "*?["):
            matches = _uri_glob(spec) if is_uri(spec) else sorted(glob.glob(spec, recursive=True))
            matches = [m for m in matches if not os.path.isdir(m)]
        else:
            fs, inner = _filesystem(spec)
            info = fs.get_file_info(inner)
            if info.type == pafs.FileType.Directory:
                matches = _directory_files(spec)
            elif info.type == pafs.FileType.File:
                matches = [spec]
            else:
                matches = []
        if not matches:
            raise FileNotFoundError(f"input {spec!r} matches no file")
        found.update(matches)
    return sorted(found)
