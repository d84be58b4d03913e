"""The stats report: `python jobs/report.py OUT` writes OUT/report/index.html, one self-contained page.

The page is built by the `reporting` package (see its docstring): from OUT/stats/ (computed first when the
run has none), the run's OUT/_config.toml and OUT/tokens/manifest.json. Same stats, same bytes.
OUT may be a URI (`s3://bucket/run1`): the page is written there too, beside the run whose stats it shows
(where a cluster job's user looks for it), and the job prints its URI; README, "Object storage (S3)".
"""
from __future__ import annotations

import argparse
import sys

from pipeline.stats.store import STATS_JSON
from reporting.page import write_report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("output", help="a build_corpus or run_stages output directory (local path or URI)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        path = write_report(args.output)
    except (OSError, ValueError) as error:  # no such run, no stats or config in it, unreadable tables
        print(f"report failed: {' '.join(str(error).split())}", file=sys.stderr)
        return 1
    print(f"Wrote {path} (from {args.output}/{STATS_JSON})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
