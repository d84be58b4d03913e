"""LSH + connected components at scale, on synthetic MinHash signatures: time and peak memory.

Signatures (num_perm=128, uint32) are random, except for planted near-duplicate clusters: --dup-share
of the documents belong to clusters of 2-5 members whose signature values equal the cluster base's
with probability J ~ U(0.5, 1.0) per value (a document at Jaccard J with it). Both paths get the same
signatures and the default banding (25 x 5, threshold 0.5):
- single machine (`dedup.local.near_components`): sort node keys, band hashes (numpy), star edges per
  band (lexsort), hook-and-shortcut connected components (numpy);
- Spark (`pipeline.spark.dedup`): band hashes in `mapInArrow` (the same numpy code), posexplode + window
  star edges, large-star / small-star connected components with checkpoints, then the component
  labels are counted (the action that runs it all). Local mode, `--spark-master` (default local[2]).
Each measurement runs in a fresh process. Peak memory: the single-machine path reports its process's
peak RSS above the RSS it had with the signatures loaded; the Spark path reports the sum of the peak
RSS (VmHWM) of the JVM and its Python workers, and the driver's.
Both paths must find the same components (checked at the sizes where both run).

    .venv/bin/python benchmarks/dedup_scaling.py --sizes 100000 1000000 --spark-sizes 100000 1000000
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.measure import Timer, current_rss_bytes, descendants, maxrss_bytes, peak_rss_bytes


def make_signatures(n: int, dup_share: float, seed: int, num_perm: int = 128) -> tuple[np.ndarray, np.ndarray]:
    """(signatures (n, num_perm) uint32, planted cluster id per document, -1 for unique ones)."""
    rng = np.random.default_rng(seed)
    signatures = rng.integers(0, 2**32, size=(n, num_perm), dtype=np.uint32)
    cluster = np.full(n, -1, dtype=np.int64)
    position, number = 0, 0
    members = int(n * dup_share)
    order = rng.permutation(n)  # cluster members are scattered over the id space
    while position < members:
        size = int(rng.integers(2, 6))
        rows = order[position:position + size]
        base = signatures[rows[0]]
        for row in rows[1:]:
            similarity = rng.uniform(0.5, 1.0)
            keep = rng.random(num_perm) < similarity
            signatures[row, keep] = base[keep]
        cluster[rows] = number
        position += size
        number += 1
    return signatures, cluster


def run_local(signature_file: str, out: str) -> None:
    from dedup.config import DedupConfig
    from dedup.local import near_components

    signatures = np.load(signature_file)
    keys = [f"n{i:08d}" for i in range(len(signatures))]
    before = current_rss_bytes()
    with Timer() as timer:
        labels = near_components(keys, signatures, DedupConfig())
    seconds, cpu_seconds = timer.wall_s, timer.cpu_s
    peak = maxrss_bytes()
    np.save(out, labels)
    sizes = np.bincount(labels)
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu_seconds, "peak_rss_above_input": peak - before,
                      "input_rss": before, "components_ge2": int((sizes > 1).sum()),
                      "nodes_in_components": int(sizes[sizes > 1].sum())}))


def run_spark(signature_file: str, out: str, master: str, partitions: int, driver_memory: str) -> None:
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    import pyarrow as pa
    import pyarrow.parquet as pq
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import from_arrow_schema

    from dedup.config import DedupConfig
    from pipeline.spark.dedup import connected_components_frame, star_edges_frame

    config = DedupConfig()
    num_bands, rows_per_band = config.bands()
    import logging

    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(message)s")
    event_log = os.environ.get("DEDUP_SCALING_EVENT_LOG")  # a directory: Spark's event log for profiling
    builder = SparkSession.builder
    if event_log:
        builder = (builder.config("spark.eventLog.enabled", "true").config("spark.eventLog.dir", f"file://{event_log}")
                   .config("spark.eventLog.compress", "false").config("spark.eventLog.rolling.enabled", "false"))
    spark = (builder.master(master).appName("dedup_scaling")
             .config("spark.driver.memory", driver_memory).config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false").config("spark.sql.shuffle.partitions", str(partitions))
             .config("spark.log.level", "ERROR").getOrCreate())
    work = tempfile.mkdtemp(prefix="dedup_scaling_")
    spark.sparkContext.setCheckpointDir(f"{work}/checkpoints")
    signatures = np.load(signature_file)
    n = len(signatures)
    # the input as Spark sees it in dedup_frame: (node, signature) rows; bands are computed in mapInArrow
    table = pa.table({"node": [f"n{i:08d}" for i in range(n)],
                      "signature": pa.FixedSizeListArray.from_arrays(pa.array(signatures.reshape(-1).view(np.int32)),
                                                                     signatures.shape[1])})
    pq.write_table(table, f"{work}/signatures.parquet", row_group_size=50_000)
    del table, signatures

    def bands_fn(batches):
        from dedup.minhash import band_hashes

        for batch in batches:
            values = batch.column("signature").flatten().to_numpy(zero_copy_only=False).view(np.uint32)
            bands = band_hashes(values.reshape(batch.num_rows, -1), num_bands, rows_per_band)
            offsets = pa.array(np.arange(batch.num_rows + 1, dtype=np.int32) * num_bands)
            yield pa.RecordBatch.from_arrays([batch.column("node"), pa.ListArray.from_arrays(offsets, pa.array(bands.reshape(-1))),
                                              pa.array(np.ones(batch.num_rows, dtype=np.int32))], names=["node", "bands", "is_new"])

    schema = from_arrow_schema(pa.schema([("node", pa.string()), ("bands", pa.list_(pa.int64())), ("is_new", pa.int32())]))
    start, cpu = time.perf_counter(), time.process_time()
    nodes = spark.read.parquet(f"{work}/signatures.parquet").mapInArrow(bands_fn, schema)
    labels = connected_components_frame(star_edges_frame(nodes), config).persist()
    count = labels.count()
    seconds = time.perf_counter() - start
    jvm_and_workers = sum(peak_rss_bytes(pid) for pid in descendants(os.getpid()))
    rows = labels.select(F.substring("node", 2, 8).cast("long").alias("node"),
                         F.substring("label", 2, 8).cast("long").alias("label")).toPandas()
    result = np.arange(n)
    result[rows["node"].to_numpy()] = rows["label"].to_numpy()
    np.save(out, result)
    spark.stop()
    print(json.dumps({"seconds": seconds, "driver_cpu_seconds": time.process_time() - cpu, "labelled_nodes": count,
                      "peak_rss_jvm_and_workers": jvm_and_workers,
                      "peak_rss_driver": maxrss_bytes()}))


def child(args: list[str], timeout: int) -> dict | None:
    try:
        done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{args} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    result = json.loads(lines[-1])
    iterations = [line for line in done.stderr.splitlines() if "connected components: iteration" in line]
    if iterations:
        result["cc_iterations"] = len(iterations)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--spark-sizes", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--dup-share", type=float, default=0.2)
    parser.add_argument("--spark-master", default="local[2]")
    parser.add_argument("--spark-partitions", type=int, default=8)
    parser.add_argument("--driver-memory", default="4g")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per measurement")
    parser.add_argument("--json")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, *rest = args.child
        if kind == "local":
            run_local(*rest)
        else:
            run_spark(rest[0], rest[1], args.spark_master, args.spark_partitions, args.driver_memory)
        return 0
    results = {"machine": {"cpus": os.cpu_count(), "load_start": os.getloadavg()}, "runs": []}
    with tempfile.TemporaryDirectory(prefix="dedup_scaling_") as work:
        for n in sorted(set(args.sizes) | set(args.spark_sizes)):
            signatures, planted = make_signatures(n, args.dup_share, seed=n)
            signature_file = f"{work}/signatures_{n}.npy"
            np.save(signature_file, signatures)
            planted_pairs = int(sum(k * (k - 1) // 2 for k in np.bincount(planted[planted >= 0])))
            del signatures
            labels = {}
            for kind in ("local", "spark"):
                if n not in (args.sizes if kind == "local" else args.spark_sizes):
                    continue
                out = f"{work}/labels_{kind}_{n}.npy"
                extra = ["--spark-master", args.spark_master, "--spark-partitions", str(args.spark_partitions),
                         "--driver-memory", args.driver_memory]
                result = child([*extra, "--child", kind, signature_file, out], args.timeout)
                row = {"path": kind, "documents": n, "planted_pairs": planted_pairs, "result": result}
                if result is not None:
                    labels[kind] = np.load(out)
                results["runs"].append(row)
                print(json.dumps(row), flush=True)
            if len(labels) == 2:
                # a label is the component's minimum row in both paths (node keys are zero-padded rows)
                same = bool(np.array_equal(labels["local"], labels["spark"]))
                results["runs"][-1]["same_components_as_local"] = same
                print(f"n={n}: Spark components equal local: {same}", flush=True)
    results["machine"]["load_end"] = os.getloadavg()
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
