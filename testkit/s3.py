"""An S3-compatible server on loopback for the object-storage tests (issue 21): moto's server in a child
process, plus the environment that points pyarrow at it.

Every file access of the jobs is pyarrow's (`pipeline.inputs`, `pipeline.outputs`), and pyarrow's
S3FileSystem reads its endpoint and credentials from the environment (`AWS_ENDPOINT_URL`,
`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_DEFAULT_REGION`). Spark's Python workers and Ray's workers
inherit the environment of the process that starts them, so `s3_environment` must be applied before either
starts (tests/conftest.py does it at import time); the server itself can start later, on the port chosen then.

moto runs in a process of its own (its own session, so it can be stopped with everything it started), not in
a thread of the test process: the jobs' workers then never wait on the test process's GIL, and a server
that outlives its fixture is impossible once `stop` returns. moto keeps everything in memory, and checks no
signature: any key pair is accepted.
"""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass

HOST = "127.0.0.1"
REGION = "us-east-1"
ACCESS_KEY_ID = "testing"  # moto accepts any credentials; these never leave loopback
SECRET_ACCESS_KEY = "testing"
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0


def free_port(host: str = HOST) -> int:
    """A TCP port no process listens on now (the OS's choice for port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def endpoint_url(port: int, host: str = HOST) -> str:
    return f"http://{host}:{port}"


def s3_environment(port: int, host: str = HOST) -> dict[str, str]:
    """The variables that send pyarrow's (and boto's) S3 calls to the loopback server on `port`.
    AWS_EC2_METADATA_DISABLED: with credentials in the environment the SDK needs no instance metadata, and
    must not go looking for it on the network."""
    return {
        "AWS_ENDPOINT_URL": endpoint_url(port, host),
        "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1.0) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@dataclass
class S3Server:
    """A running moto server: `endpoint` (http://host:port) and the child process."""
    endpoint: str
    process: subprocess.Popen

    def filesystem(self) -> "pafs.S3FileSystem":
        """A pyarrow filesystem on this server (explicit settings, whatever the environment says)."""
        import pyarrow.fs as pafs  # here: conftest imports this module before any test runs

        return pafs.S3FileSystem(endpoint_override=self.endpoint, access_key=ACCESS_KEY_ID,
                                 secret_key=SECRET_ACCESS_KEY, region=REGION, allow_bucket_creation=True,
                                 allow_bucket_deletion=True)

    def upload(self, local: str | os.PathLike, uri: str) -> str:
        """Copy a local file or directory (recursively) to `uri` (s3://bucket/key) with pyarrow; returns `uri`."""
        import pyarrow.fs as pafs

        pafs.copy_files(str(local), uri.removeprefix("s3://"), source_filesystem=pafs.LocalFileSystem(),
                        destination_filesystem=self.filesystem())
        return uri

    def files(self, uri: str) -> dict[str, bytes]:
        """Every file below the directory `uri` (s3://bucket/key), by path relative to it, with its bytes."""
        import pyarrow.fs as pafs

        fs, root = self.filesystem(), uri.removeprefix("s3://").rstrip("/")
        return {info.path[len(root) + 1:]: fs.open_input_stream(info.path).read()
                for info in fs.get_file_info(pafs.FileSelector(root, recursive=True))
                if info.type == pafs.FileType.File}

    def create_bucket(self, name: str | None = None) -> str:
        """Create a bucket (a fresh unique name by default); returns its `s3://` URI."""
        name = name or f"test-{uuid.uuid4().hex[:16]}"
        self.filesystem().create_dir(name)
        return f"s3://{name}"

    def stop(self) -> None:
        """Stop the server and every process of its session; returns once they are gone."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start_s3_server(port: int, host: str = HOST, timeout_s: float = START_TIMEOUT_S) -> S3Server:
    """Start `python -m moto.server` on host:port and wait until it answers; RuntimeError (with its output)
    when it exits or does not answer in `timeout_s`."""
    # its request log goes to an unnamed temporary file: a pipe nobody reads would block it when full
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", host, "-p", str(port)],
                                   stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
        server = S3Server(endpoint_url(port, host), process)
        deadline = time.monotonic() + timeout_s
        while not _answers(server.endpoint):
            if process.poll() is not None or time.monotonic() > deadline:
                server.stop()
                log.seek(0)
                output = log.read().decode("utf-8", "replace")
                raise RuntimeError(f"moto server on {server.endpoint} did not start (exit {process.returncode}): "
                                   f"{output[-2000:]}")
            time.sleep(0.1)
    return server
