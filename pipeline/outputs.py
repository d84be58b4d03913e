"""Output directory on any pyarrow filesystem: atomic writes (`storage.atomic`), Parquet through
`storage.parquet`, completion markers, and the claim every job makes before it writes: the resolved config
next to every output, and a refusal when the directory holds another run's results.
"""
from __future__ import annotations

import contextlib
import json
from typing import Any, Iterator

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from pipeline.inputs import _filesystem, hadoop_path, is_uri, local_uri
from pipeline.toml_config import config_hash, read_config_hash, to_toml
from storage.atomic import TEMPORARY_MARK, atomic_path, write_atomic
from storage.parquet import parquet_writer

CONFIG_FILE = "_config.toml"  # leading underscore: Spark and pyarrow datasets skip it
RUN_FILE = "_run.json"  # a run's identity, for jobs whose output depends on more than their config


class ConfigMismatchError(RuntimeError):
    """An output directory already holds results made with another config."""


class RunMismatchError(ConfigMismatchError):
    """An output directory holds results of another run identity (config, tokenizer or corpus)."""


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

    def write_bytes(self, relative: str, data: bytes) -> None:
        self._parent(relative)
        write_atomic(self.path(relative), [data], self.fs)

    def write_json(self, relative: str, value: Any) -> None:
        self.write_bytes(relative, (json.dumps(value, indent=2, sort_keys=True) + "\n").encode("utf-8"))

    def read_json(self, relative: str) -> Any:
        with self.fs.open_input_stream(self.path(relative)) as stream:
            return json.loads(stream.read().decode("utf-8"))

    @contextlib.contextmanager
    def parquet_writer(self, relative: str, schema: pa.Schema) -> Iterator[pq.ParquetWriter]:
        """A writer to a temporary file that becomes `relative` only when the block completes."""
        self._parent(relative)
        with atomic_path(self.path(relative), self.fs) as temporary, self.fs.open_output_stream(temporary) as sink, \
                parquet_writer(sink, schema) as writer:
            yield writer

    def write_parquet(self, relative: str, table: pa.Table) -> None:
        with self.parquet_writer(relative, table.schema) as writer:
            writer.write_table(table)

    def remove(self, relative: str) -> None:
        """Delete a file if it is there (an earlier run's result that a rerun must not leave standing)."""
        if self.exists(relative):
            self.fs.delete_file(self.path(relative))

    def remove_temporaries(self, folders: tuple[str, ...]) -> list[str]:
        """Delete `*.tmp-*` files a killed run left in `folders` ("": the whole directory; call once every
        unit is done)."""
        removed = []
        for folder in folders:
            base = self.path(folder) if folder else self.root
            if self.fs.get_file_info(base).type == pafs.FileType.NotFound:
                continue
            for info in self.fs.get_file_info(pafs.FileSelector(base, recursive=True)):
                if info.type == pafs.FileType.File and TEMPORARY_MARK in info.base_name:
                    self.fs.delete_file(info.path)
                    removed.append(info.path)
        return removed

    def read_parquet(self, relative: str) -> pa.Table:
        return pq.read_table(self.path(relative), filesystem=self.fs)

    def check_writable(self, config: Any) -> None:
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

    def check_config(self, config: Any) -> None:
        """ConfigMismatchError when the directory already holds output of another config."""
        if self.exists(CONFIG_FILE):
            with self.fs.open_input_stream(self.path(CONFIG_FILE)) as stream:
                first_line = stream.read().decode("utf-8").split("\n", 1)[0]
            if read_config_hash(first_line) != config_hash(config):
                raise ConfigMismatchError(
                    f"{self.uri} holds output of another config ({first_line.removeprefix('# ')}); "
                    f"this run's config_hash is {config_hash(config)}: use a new --output or remove the old one"
                )

    def check_identity(self, identity: dict[str, Any], contents: str) -> None:
        """RunMismatchError naming the keys of `identity` that differ from the directory's `_run.json`."""
        if self.exists(RUN_FILE):
            previous = self.read_json(RUN_FILE)
            differs = [key for key in identity if previous.get(key) != identity[key]]
            if differs:
                raise RunMismatchError(f"{self.uri} holds {contents} of another run ({', '.join(differs)} differ); "
                                       f"use a new --output or remove the old one")

    def claim(self, config: Any, subdirs: tuple[str, ...], identity: dict[str, Any] | None = None,
              contents: str = "output") -> None:
        """Refuse another run's output, then write the resolved config at the root and in each output folder.

        A run is its config (the hash heading `_config.toml`), unless the job passes `identity`: the facts
        that decide its bytes when those are more than the config, or less (the tokenize job: the tokenizer
        and the corpus count, execution-only settings do not). It is kept in `_run.json` and compared key
        by key instead; `contents` names what the directory holds in the refusal."""
        if identity is None:
            self.check_config(config)
        else:
            self.check_identity(identity, contents)
            self.write_bytes(RUN_FILE, json.dumps(identity, indent=2, sort_keys=True).encode("utf-8"))
        text = to_toml(config).encode("utf-8")
        for folder in ("",) + subdirs:
            self.write_bytes(f"{folder}/{CONFIG_FILE}" if folder else CONFIG_FILE, text)
