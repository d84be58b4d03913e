"""Stats and report at 10k, 100k and 1M documents, on synthetic corpus outputs: time and peak memory.

Each size is written as a build_corpus output (OUT/corpus/ and OUT/rejected/ parts of 50,000 rows with the
real document schema: extraction, langid, url, heuristics, quality, dedup and PII columns, and an
OUT/_config.toml). Rows are synthetic: 15 drop reasons in pipeline proportions, signals null where the row
left before their stage, text lengths log-normal (median ~600 characters), 10% of the documents in dedup
clusters of 2-5, PII counts mostly 0. Signals do not agree with the reasons (only the volume matters here).

Measured, each in a fresh process:
- stats with pyarrow (`pipeline.stats.store.write_stats_local`: batches of 8,192 rows, partials merged as they go);
- stats as build_corpus makes them since issue 22 (`pipeline.stats.store.write_stats_from_parts`: the driver merges
  the counts each commit task wrote beside its part; the parts' counts are made first, untimed, as the commit
  tasks make them while writing);
- the report (`reporting.page.write_report`, what `jobs/report.py` runs: reads only OUT/stats/), once for time and
  RSS, once under tracemalloc.
Peak memory: the process's peak RSS (ru_maxrss) above its RSS after imports.

    .venv/bin/python benchmarks/report_scaling.py --sizes 10000 100000 1000000 --json /tmp/report_scaling/results.json
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.measure import Timer, current_rss_bytes, maxrss_bytes

PART_ROWS = 50_000
STAGES = ["extract", "langid", "url", "heuristics", "quality", "dedup", "pii"]
# (drop_reason or None, share of documents): rough proportions of a Common Crawl run.
OUTCOMES = [
    (None, 0.58), ("warc:non_200_status", 0.03), ("extract:not_html", 0.03), ("extract:no_text", 0.02),
    ("langid:language_not_kept", 0.09), ("langid:below_threshold", 0.03), ("url:banned_domain", 0.01),
    ("heuristics:c4_too_few_sentences", 0.06), ("heuristics:gopher_too_few_words", 0.04),
    ("heuristics:gopher_dup_5gram_char_frac_too_high", 0.02), ("heuristics:fineweb_line_punct_ratio_too_low", 0.02),
    ("quality:below_threshold", 0.03), ("dedup:exact_duplicate", 0.015), ("dedup:near_duplicate", 0.015),
    ("pii:too_many_entities", 0.01),
]
LANGUAGES = ["en", "de", "fr", "es", "ru", "ja", "zh", "pt", "it", "nl", "pl", "tr"]


def config_overrides() -> list[str]:
    return [f"pipeline.stages={STAGES}", "quality.model_path='unused.bin'"]


def document_schema_all():
    """The output schema of STAGES, from the stages' declared fields (no model is loaded)."""
    from dedup.decisions import DEDUP_FIELDS
    from filters.heuristics.stage import HeuristicsStage
    from filters.langid import LangidStage
    from filters.pii.stage import PATTERN_ENTITIES, TOTAL_COLUMN, count_column
    from filters.quality import QualityStage
    from filters.url import UrlFilterStage
    from pipeline.extract import EXTRACT_FIELDS
    from pipeline.schema import document_schema
    import pyarrow as pa

    fields = list(EXTRACT_FIELDS)
    for cls in (LangidStage, UrlFilterStage, HeuristicsStage, QualityStage):
        fields += list(cls.fields)
    fields += list(DEDUP_FIELDS)
    fields += [pa.field(count_column(e), pa.int32()) for e in PATTERN_ENTITIES] + [pa.field(TOTAL_COLUMN, pa.int32())]
    return document_schema(fields)


def synthetic_rows(n: int, first: int, rng: np.random.Generator, schema) -> "pa.Table":
    """Rows first..first+n-1 of the synthetic corpus (see the module docstring)."""
    import pyarrow as pa

    from pipeline.stats.rules import signal_stage

    index = np.arange(first, first + n)
    reasons = np.array([r or "" for r, _ in OUTCOMES], dtype=object)
    shares = np.array([p for _, p in OUTCOMES])
    outcome = rng.choice(len(OUTCOMES), size=n, p=shares / shares.sum())
    order = ["warc", "cascade"] + STAGES
    left_at = np.array([order.index(r.split(":")[0]) if r else len(order) for r in reasons])[outcome]
    lengths = np.minimum(rng.lognormal(6.4, 0.9, n).astype(np.int64), 20_000)
    base = ("Gardeners keep notes on weather, soil and harvests; the allotment society prints them each month. " * 250)
    starts = rng.integers(0, 1000, n)
    no_text = left_at <= order.index("extract")
    text = [None if gone else base[s:s + k] for gone, s, k in zip(no_text, starts, lengths)]
    domains = rng.zipf(1.3, n) % max(n // 20, 1)
    columns = {
        "id": [f"<urn:uuid:{i:032x}>" for i in index],
        "url": [f"https://site{d}.example/page/{i}" for d, i in zip(domains, index)],
        "crawl": rng.choice(["CC-MAIN-2024-10", "CC-MAIN-2024-18", "CC-MAIN-2024-22"], n).tolist(),
        "warc_path": [f"s3://commoncrawl/segment-{i // PART_ROWS:05d}.warc.gz" for i in index],
        "warc_offset": (index * 4096).tolist(),
        "content_type": ["text/html"] * n,
        "http_status": [200] * n,
        "text": text,
        "drop_reason": [reasons[o] or None for o in outcome],
        "lang": [LANGUAGES[k] for k in rng.zipf(1.6, n) % len(LANGUAGES)],
        "payload_bytes": rng.lognormal(10, 1, n).astype(np.int64),
    }
    for field in schema:
        name = field.name
        if name in columns or not (pa.types.is_integer(field.type) or pa.types.is_floating(field.type)
                                   or pa.types.is_boolean(field.type)):
            continue
        if pa.types.is_boolean(field.type):
            values = rng.random(n) < 0.01
        elif pa.types.is_floating(field.type):
            values = rng.beta(8, 1.5, n) if name.endswith("score") else (
                rng.normal(5, 1, n) if "length" in name else rng.beta(1.2, 8, n))
        elif "word_count" in name and "banned" not in name:
            values = rng.lognormal(5.5, 1.0, n).astype(np.int64)
        else:
            values = rng.poisson(0.3 if name.startswith(("pii_", "url_", "badwords")) else 8, n)
        stage = signal_stage(name)
        measured = left_at >= order.index(stage) if stage in order else np.ones(n, bool)
        columns[name] = pa.array(values, mask=~measured).cast(field.type)
    sizes = np.ones(n, dtype=np.int64)
    cluster: list[str | None] = [None] * n
    position = 0
    clustered = int(n * 0.1)
    while position < clustered:
        size = int(rng.integers(2, 6))
        for member in range(position, min(position + size, n)):
            cluster[member] = columns["id"][position]
            sizes[member] = size
        position += size
    measured = left_at >= order.index("dedup")
    columns["dup_cluster"] = pa.array(cluster, pa.string(), mask=~measured)
    columns["dup_cluster_size"] = pa.array(sizes, mask=~measured).cast(pa.int32())
    columns["lang"] = pa.array(columns["lang"], pa.string(), mask=~(left_at >= order.index("langid")))
    columns["url_host"] = pa.array([f"site{d}.example" for d in domains], pa.string(),
                                   mask=~(left_at >= order.index("url")))
    return pa.table({f.name: columns.get(f.name, pa.nulls(n, f.type)) for f in schema}, schema=schema)


def generate(docs: int, out_dir: str, seed: int = 0) -> None:
    import pyarrow.compute as pc

    from pipeline.config import load_config
    from pipeline.outputs import OutputDir

    config = load_config(None, config_overrides())
    out = OutputDir(out_dir)
    out.claim(config, ("corpus", "rejected"))
    schema = document_schema_all()
    rng = np.random.default_rng(seed)
    for part, first in enumerate(range(0, docs, PART_ROWS)):
        table = synthetic_rows(min(PART_ROWS, docs - first), first, rng, schema)
        kept = pc.is_null(table["drop_reason"])
        for folder, mask in (("corpus", kept), ("rejected", pc.invert(kept))):
            with out.parquet_writer(f"{folder}/part-{part:05d}.parquet", schema) as writer:
                writer.write_table(table.filter(mask))


def measure(kind: str, out_dir: str) -> dict:
    """One measurement in this process; printed as JSON by `main`."""
    from pipeline.config import load_config
    from pipeline.outputs import OutputDir
    from pipeline.corpus import count_committed
    from pipeline.stats.parts import write_part_counts
    from pipeline.stats.store import write_stats_from_parts, write_stats_local

    config = load_config(None, config_overrides())
    out = OutputDir(out_dir)
    parts = sorted(name.removesuffix(".parquet") for name in os.listdir(os.path.join(out_dir, "corpus"))
                   if name.endswith(".parquet"))
    if kind == "stats-parts":
        for part in parts:  # what the commit tasks write beside their parts
            write_part_counts(out, part, count_committed(out, part))
    from reporting.page import write_report  # imported before the baseline, like everything else

    if kind == "report-tracemalloc":
        tracemalloc.start()
    before = current_rss_bytes()
    with Timer() as timer:
        if kind == "stats-arrow":
            write_stats_local(out, config, "synthetic")
        elif kind == "stats-parts":
            write_stats_from_parts(out, config, "synthetic", parts)
        else:
            write_report(out_dir)
    result = {"seconds": timer.wall_s, "cpu_seconds": timer.cpu_s, "peak_rss_above_start": maxrss_bytes() - before}
    if kind == "report-tracemalloc":
        result["tracemalloc_peak"] = tracemalloc.get_traced_memory()[1]
    return result


def directory_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def run_sizes(sizes: list[int], workdir: Path) -> list[dict]:
    import pyarrow.parquet as pq

    rows = []
    for docs in sizes:
        out = workdir / f"docs-{docs}"
        if not (out / "_config.toml").exists():
            start = time.perf_counter()
            generate(docs, str(out))
            print(f"generated {docs:,} documents in {time.perf_counter() - start:.1f} s", file=sys.stderr)
        row: dict = {"documents": docs, "input_bytes": directory_bytes(out / "corpus") + directory_bytes(out / "rejected")}
        kinds = ["stats-arrow"] + ["stats-parts"] + ["report", "report-tracemalloc"]
        for kind in kinds:
            done = subprocess.run([sys.executable, __file__, "measure", kind, str(out)], capture_output=True, text=True,
                                  check=True)
            row[kind] = json.loads(done.stdout.strip().splitlines()[-1])
            print(f"{docs:,} {kind}: {row[kind]}", file=sys.stderr)
        row["stats_bytes"] = directory_bytes(out / "stats")
        row["histogram_rows"] = pq.read_metadata(out / "stats" / "histograms.parquet").num_rows
        row["report_bytes"] = (out / "report" / "index.html").stat().st_size
        rows.append(row)
    return rows


def table(rows: list[dict]) -> str:
    mb = 1e6
    lines = ["| documents | input Parquet | stats pyarrow: s / peak RSS | stats from parts' counts: s / peak RSS | "
             "report: s / peak RSS / Python heap peak | stats on disk | histogram rows | index.html |",
             "|---:|---:|---|---|---|---:|---:|---:|"]
    for r in rows:
        arrow, parts, rep, heap = r["stats-arrow"], r["stats-parts"], r["report"], r["report-tracemalloc"]
        parts_cell = f"{parts['seconds']:.1f} s / {parts['peak_rss_above_start'] / mb:,.0f} MB"
        lines.append(
            f"| {r['documents']:,} | {r['input_bytes'] / mb:,.0f} MB | {arrow['seconds']:.1f} s / "
            f"{arrow['peak_rss_above_start'] / mb:,.0f} MB | {parts_cell} | {rep['seconds']:.2f} s / "
            f"{rep['peak_rss_above_start'] / mb:,.0f} MB / {heap['tracemalloc_peak'] / mb:,.1f} MB | "
            f"{r['stats_bytes'] / mb:,.2f} MB | {r['histogram_rows']:,} | {r['report_bytes'] / mb:,.2f} MB |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] == "measure":
        print(json.dumps(measure(args[1], args[2])))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--workdir", default="/tmp/report_scaling")
    parser.add_argument("--json", help="write the raw measurements here")
    options = parser.parse_args(args)
    rows = run_sizes(options.sizes, Path(options.workdir))
    if options.json:
        Path(options.json).write_text(json.dumps(rows, indent=2, sort_keys=True) + "\n")
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
