"""Atomic writes, the project's one mechanism: write to a temporary name beside the target, then rename.

cc_net's rule (STYLE.md rule 6): a reader never sees half a file. The target is absent, or the previous complete
version, or the new complete one. Every writer goes through `atomic_path`: the corpus outputs
(`pipeline.outputs.OutputDir`, any pyarrow filesystem), the dedup index, the token shards and their markers
(`tokenizer.shards`, `tokenizer.encode`) and the trainer's checkpoints and log (`trainer.train`). A killed writer
leaves `NAME.tmp-<uuid>` (`TEMPORARY_MARK`), which input listings skip and the jobs delete once their units are
done. Imports neither Spark nor Ray (the trainer uses it).
"""
from __future__ import annotations

import contextlib
import hashlib
import uuid
from pathlib import Path
from typing import Iterable, Iterator

import pyarrow.fs as pafs

TEMPORARY_MARK = ".tmp-"  # a file being written is `NAME.tmp-<uuid>` until it is renamed to NAME



@contextlib.contextmanager
def atomic_path(path: str | Path, filesystem: pafs.FileSystem | None = None) -> Iterator[str]:
    """A temporary name beside `path` (on `filesystem`, default the local one) for the block to write; renamed
    to `path` when the block completes, deleted when it raises."""
    fs = filesystem or pafs.LocalFileSystem()
    temporary = f"{path}{TEMPORARY_MARK}{uuid.uuid4().hex}"
    try:
        yield temporary
        fs.move(temporary, str(path))
    except BaseException:
        if fs.get_file_info(temporary).type != pafs.FileType.NotFound:
            fs.delete_file(temporary)
        raise


def write_atomic(path: str | Path, chunks: Iterable[bytes], filesystem: pafs.FileSystem | None = None) -> str:
    """Write `chunks` to `path` atomically (`atomic_path`); returns the sha256 of the bytes written."""
    digest = hashlib.sha256()
    fs = filesystem or pafs.LocalFileSystem()
    with atomic_path(path, fs) as temporary, fs.open_output_stream(temporary) as stream:
        for chunk in chunks:
            digest.update(chunk)
            stream.write(chunk)
    return digest.hexdigest()
