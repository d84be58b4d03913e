"""Build the project's sample WARC set, deterministically, from the texts in `sample_data/texts/`.

`python sample_data/generate.py` rewrites `sample_data/warc/*.warc.gz` and `sample_data/expected.jsonl`
byte for byte (fixed seed, fixed dates, no wall clock, no network). The files imitate Common Crawl: a
`warcinfo` record first, then `request` / `response` (or `revisit`) / optional `metadata` records, one gzip
member per record (`testkit.warc_writer`). Besides clean articles in twelve languages they hold the cases a
pretraining-data pipeline must handle: boilerplate, spam and lorem-ipsum pages, exact and near duplicates,
PII, non-UTF-8 charsets (declared in the header, in a meta tag, not at all, or in conflict), non-HTML and
non-200 responses, a page that extracts to nothing, chunked and gzip-encoded bodies, an oversized page and
a file whose last gzip member is cut in the middle. `expected.jsonl` labels every record (see README.md).

`python sample_data/generate.py --benchmark-pages N --out PATH [--seed S]` writes one large WARC for the
benchmarks by recombining the same paragraphs into distinct pages (not committed).

This file is the command line; the generator lives in `sample_data/gen/` (one module per part, listed in
`gen/__init__.py`).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a plain script from any directory

from sample_data.gen.benchmark import generate_benchmark_warc  # noqa: E402
from sample_data.gen.sample import EXPECTED_PATH, WARC_DIR, generate_sample  # noqa: E402

SEED = 20260214  # of the sample set, and the benchmark WARC's default


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--benchmark-pages", type=int, help="write a benchmark WARC with this many pages instead")
    parser.add_argument("--out", type=Path, help="output path of the benchmark WARC")
    parser.add_argument("--seed", type=int, default=SEED, help="seed of the benchmark WARC")
    args = parser.parse_args(argv)
    if args.benchmark_pages is not None:
        if args.out is None:
            parser.error("--benchmark-pages needs --out")
        path = generate_benchmark_warc(args.out, args.benchmark_pages, args.seed)
        print(f"Wrote {args.benchmark_pages} pages to {path} ({path.stat().st_size / 1e6:.1f} MB)")
        return
    rows = generate_sample(SEED)
    files = sorted({row["warc_file"] for row in rows})
    size = sum((WARC_DIR / f).stat().st_size for f in files)
    print(f"Wrote {len(rows)} records in {len(files)} files ({size / 1e6:.2f} MB) and {EXPECTED_PATH.name}")


if __name__ == "__main__":
    main()
