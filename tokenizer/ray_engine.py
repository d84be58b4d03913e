"""Ray glue for the tokenize job: the only module of tokenizer/ that imports ray.

`ray_mapper(num_workers)` maps an engine-free function of tokenizer/encode.py over its items (corpus
part names, then shard plans) with Ray Data: one row per item, one block per row, `map_batches` with
`batch_format="pyarrow"`, one CPU per task and at most `num_workers` tasks at a time. Results come back
as JSON and are put in item order by the caller, so Ray's scheduling reaches no output byte.
Each task encodes on one thread (TOKENIZERS_PARALLELISM=false): Ray gives the task one CPU, and the
parallelism comes from running one task per CPU.

On a cluster the project's packages are shipped with the job (`runtime_env` py_modules), the way Ray
ships code: the nodes need the dependencies, not a copy of this repository. Without it the job only ran
where Ray's default happened to cover it (Ray adds the driver's working directory to the workers'
sys.path, which names the code on other machines only when they share the driver's filesystem layout).

Object storage: the workers read and write `s3://` locations with pyarrow, which takes its endpoint and
credentials from the environment. A cluster's workers were started by `ray start` with that node's
environment, so the driver's `OBJECT_STORE_VARIABLES` that are set go with the job (runtime_env env_vars);
where none is set (instance roles, a credentials file on the nodes) nothing is sent.
"""
from __future__ import annotations

import importlib
import json
import os
from pathlib import Path
from typing import Any, Callable

import pyarrow as pa
import ray

from tokenizer.encode import Mapper


# What the workers import: tokenizer.encode and what it imports (pipeline.config pulls in the stage registry's
# filters, dedup and, under them all, contract and storage; tests/test_cluster.py runs it on a cluster).
PROJECT_PACKAGES = ("contract", "storage", "pipeline", "filters", "dedup", "tokenizer")
# What pyarrow's S3 client reads from the environment (an S3-compatible endpoint, static or session credentials)
OBJECT_STORE_VARIABLES = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                          "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_PROFILE")


def project_py_modules() -> list[str]:
    """The directories of the project's packages as this driver imports them, for runtime_env py_modules."""
    directories = []
    for name in PROJECT_PACKAGES:
        [directory] = importlib.import_module(name).__path__
        if not Path(directory).is_dir():  # e.g. imported from a zip: Ray uploads directories only
            raise ValueError(f"cannot ship package {name!r} from {directory} (not a directory): run the driver "
                             f"from a checkout or an install of the project, or pass --no-ship-code")
        directories.append(directory)
    return directories


def cluster_runtime_env(ship_code: bool, environ: dict[str, str]) -> dict[str, Any] | None:
    """The job's runtime_env on a cluster: the project's packages (unless the nodes have them) and the
    object-store variables set in `environ` (module docstring); None when there is nothing to send."""
    runtime_env: dict[str, Any] = {}
    if ship_code:
        runtime_env.update(py_modules=project_py_modules(), excludes=["__pycache__"])
    env_vars = {name: environ[name] for name in OBJECT_STORE_VARIABLES if environ.get(name)}
    if env_vars:
        runtime_env["env_vars"] = env_vars
    return runtime_env or None


def init_ray(address: str | None = None, num_cpus: int | None = None, ship_code: bool = True) -> None:
    """Connect to the cluster at `address` (shipping the project's packages unless `ship_code` is false:
    the nodes have it installed, and the driver's object-store variables), or start a local Ray (no
    dashboard, its workers inherit this process's environment) when it is None."""
    if ray.is_initialized():
        return
    if address:
        ray.init(address=address, log_to_driver=True, runtime_env=cluster_runtime_env(ship_code, dict(os.environ)))
    else:
        ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=True)


def _apply(batch: pa.Table, fn: Callable[..., dict[str, Any]], kwargs: dict[str, Any]) -> pa.Table:
    os.environ["TOKENIZERS_PARALLELISM"] = "false"  # one CPU per task (see the module docstring)
    results = [json.dumps(fn(item, **kwargs), sort_keys=True) for item in batch.column("item").to_pylist()]
    return pa.table({"item": batch.column("item"), "result": pa.array(results, pa.string())})


def ray_mapper(num_workers: int = 0, progress: bool = False) -> Mapper:
    """A Mapper that runs on the connected Ray cluster; num_workers 0 = as many tasks as Ray schedules."""

    def run(fn: Callable[..., dict[str, Any]], items: list[str], kwargs: dict[str, Any]) -> list[dict[str, Any]]:
        if not items:
            return []
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = progress
        dataset = ray.data.from_items([{"item": item} for item in items], override_num_blocks=len(items))
        dataset = dataset.map_batches(_apply, fn_kwargs={"fn": fn, "kwargs": kwargs}, batch_size=1,
                                      batch_format="pyarrow", num_cpus=1,
                                      compute=ray.data.TaskPoolStrategy(size=num_workers or None))
        by_item = {row["item"]: json.loads(row["result"]) for row in dataset.take_all()}
        missing = [item for item in items if item not in by_item]
        if missing:
            raise RuntimeError(f"Ray returned no result for {len(missing)} items, e.g. {missing[0][:200]}")
        return [by_item[item] for item in items]

    return run
