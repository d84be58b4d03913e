"""Output directory on any pyarrow filesystem: atomic writes (temporary name, then rename), completion
markers, and the resolved config written next to every output.
"""
from __future__ import annotations

import contextlib
import json
import uuid
from typing import Any, Iterator

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from pipeline.config import Config, config_hash, to_toml
from pipeline.inputs import TEMPORARY_MARK, _filesystem, hadoop_path, is_uri, local_uri

CONFIG_FILE = "_config.toml"  # leading underscore: Spark and pyarrow datasets skip it
PARQUET_OPTIONS = {"compression": "zstd"}  # fixed options: same rows -> same bytes


class ConfigMismatchError(RuntimeError):
    """An output directory already holds results made with another config."""


class OutputPathError(ValueError):
    """The output location cannot be used (a file, not writable, or not nameable by the engine)."""


def inside(relative: str) -> str:
    """`relative` if it names a path inside the output directory, else ValueError.

    Output names come from hashes (`pipeline.corpus.part_name`) and constants, never from crawled text;
    this check is what makes that a guarantee: no absolute path, no `..`, `.` or empty component, no NUL.
    """
    parts = relative.split("/")
    if "\x00" in relative or relative.startswith("/") or any(part in ("", ".", "..") for part in parts):
        raise ValueError(f"output path {relative[:200]!r} is not a plain relative path inside the output directory")
    return relative


class OutputDir:
    def __init__(self, uri: str) -> None:
        self.uri = uri
        self.fs, self.root = _filesystem(uri)

    def path(self, relative: str) -> str:
        return f"{self.root.rstrip('/')}/{inside(relative)}"

    def uri_of(self, relative: str) -> str:
        """A URI pyarrow (`FileSystem.from_uri`) parses back to this path: local paths become percent-encoded
        file:// URIs, so a space, `[`, `%`, `#` or `?` in the output directory's name is itself."""
        base = self.uri if is_uri(self.uri) else local_uri(self.root)
        return f"{base.rstrip('/')}/{inside(relative)}"

    def spark_path(self, relative: str, reading: bool = False) -> str:
        """The Hadoop path Spark reads (`reading`: glob characters escaped) or writes for `relative`."""
        return hadoop_path(self.uri_of(relative), reading)

    def exists(self, relative: str) -> bool:
        return self.fs.get_file_info(self.path(relative)).type != pafs.FileType.NotFound

    def _parent(self, relative: str) -> None:
        parent = self.path(relative).rsplit("/", 1)[0]
        self.fs.create_dir(parent, recursive=True)

    def _commit(self, temporary: str, relative: str) -> None:
        self.fs.move(temporary, self.path(relative))

    def _temporary(self, relative: str) -> str:
        """Where `relative` is written before its rename (`remove_temporaries` finds what a kill left)."""
        return self.path(f"{relative}{TEMPORARY_MARK}{uuid.uuid4().hex}")

    def write_bytes(self, relative: str, data: bytes) -> None:
        self._parent(relative)
        temporary = self._temporary(relative)
        with self.fs.open_output_stream(temporary) as stream:
            stream.write(data)
        self._commit(temporary, relative)

    def write_json(self, relative: str, value: Any) -> None:
        self.write_bytes(relative, (json.dumps(value, indent=2, sort_keys=True) + "\n").encode("utf-8"))

    def read_json(self, relative: str) -> Any:
        with self.fs.open_input_stream(self.path(relative)) as stream:
            return json.loads(stream.read().decode("utf-8"))

    @contextlib.contextmanager
    def parquet_writer(self, relative: str, schema: pa.Schema) -> Iterator[pq.ParquetWriter]:
        """A writer to a temporary file that becomes `relative` only when the block completes."""
        self._parent(relative)
        temporary = self._temporary(relative)
        try:
            with self.fs.open_output_stream(temporary) as sink, pq.ParquetWriter(sink, schema, **PARQUET_OPTIONS) as writer:
                yield writer
        except BaseException:
            self.fs.delete_file(temporary)
            raise
        self._commit(temporary, relative)

    def remove(self, relative: str) -> None:
        """Delete a file if it is there (an earlier run's result that a rerun must not leave standing)."""
        if self.exists(relative):
            self.fs.delete_file(self.path(relative))

    def remove_temporaries(self, folders: tuple[str, ...]) -> list[str]:
        """Delete `*.tmp-*` files a killed run left in `folders` (call once every unit is done)."""
        removed = []
        for folder in folders:
            if not self.exists(folder):
                continue
            for info in self.fs.get_file_info(pafs.FileSelector(self.path(folder), recursive=True)):
                if info.type == pafs.FileType.File and TEMPORARY_MARK in info.base_name:
                    self.fs.delete_file(info.path)
                    removed.append(info.path)
        return removed

    def read_parquet(self, relative: str) -> pa.Table:
        return pq.read_table(self.path(relative), filesystem=self.fs)

    def check_writable(self, config: Config) -> None:
        """Before any work: the directory exists or can be made, and holds no other config's output.

        Raises OutputPathError (a file, no permission, a bad URI) or ConfigMismatchError.
        """
        kind = self.fs.get_file_info(self.root).type
        if kind == pafs.FileType.File:
            raise OutputPathError(f"output {self.uri!r} is a file, not a directory")
        try:
            self.fs.create_dir(self.root, recursive=True)
        except OSError as error:
            raise OutputPathError(f"output {self.uri!r} cannot be created: {error}") from error
        self.check_config(config)

    def check_config(self, config: Config) -> None:
        """ConfigMismatchError when the directory already holds output of another config."""
        if self.exists(CONFIG_FILE):
            with self.fs.open_input_stream(self.path(CONFIG_FILE)) as stream:
                first_line = stream.read().decode("utf-8").split("\n", 1)[0]
            if first_line != f"# config_hash = {config_hash(config)}":
                raise ConfigMismatchError(
                    f"{self.uri} holds output of another config ({first_line.removeprefix('# ')}); "
                    f"this run's config_hash is {config_hash(config)}: use a new --output or remove the old one"
                )

    def claim(self, config: Config, subdirs: tuple[str, ...]) -> None:
        """Write the resolved config at the root and in each output folder; refuse another config's output."""
        self.check_config(config)
        text = to_toml(config).encode("utf-8")
        for folder in ("",) + subdirs:
            self.write_bytes(f"{folder}/{CONFIG_FILE}" if folder else CONFIG_FILE, text)
