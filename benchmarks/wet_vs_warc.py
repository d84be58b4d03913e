"""WET input against the project's own extraction of the same pages (issue 21).

Runs `jobs/run_stages.py --stages extract` on a Common Crawl WET file (no extraction: the conversion records'
text) and on the WARC of the same pages (trafilatura), matches documents by `id` (a WET row's id is its
WARC-Refers-To, the response record's id) and reports, for the pages kept by both, the bag-of-words token F1
between the WET text and the project's extraction.

Tokenization: Unicode-lowercased text split with the regex `\\w+` (Python `re`, Unicode word characters), as a
multiset; F1 = 2 * overlap / (|WET tokens| + |extraction tokens|), overlap being the multiset intersection's
size (precision and recall of one text against the other, harmonically averaged).

    python benchmarks/wet_vs_warc.py --wet ../shared/data/warc/whirlwind_CC-MAIN-2024-22.warc.wet.gz \\
        --warc ../shared/data/warc/whirlwind_CC-MAIN-2024-22.warc.gz --output /tmp/wet_vs_warc
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq

TOKEN = re.compile(r"\w+")
ROOT = Path(__file__).resolve().parent.parent


def tokens(text: str) -> Counter:
    return Counter(TOKEN.findall(text.lower()))


def token_f1(a: str, b: str) -> float:
    """Bag-of-words F1 between two texts (1.0 when both have no tokens)."""
    left, right = tokens(a), tokens(b)
    total = sum(left.values()) + sum(right.values())
    return 1.0 if total == 0 else 2 * sum((left & right).values()) / total


def run_extract(input_path: str, output: Path) -> list[dict]:
    """Rows of `run_stages --stages extract` on one input (a fresh output folder each time)."""
    subprocess.run([sys.executable, str(ROOT / "jobs" / "run_stages.py"), "--stages", "extract",
                    "--input", input_path, "--output", str(output)], check=True, cwd=ROOT,
                   env=dict(os.environ, PYTHONPATH=str(ROOT)))
    return pq.read_table(output / "documents.parquet").to_pylist()


def compare(wet_rows: list[dict], warc_rows: list[dict]) -> dict:
    wet, warc = {r["id"]: r for r in wet_rows}, {r["id"]: r for r in warc_rows}
    both = sorted(set(wet) & set(warc))
    kept = [i for i in both if wet[i]["text"] is not None and warc[i]["text"] is not None]
    f1 = {i: token_f1(wet[i]["text"], warc[i]["text"]) for i in kept}
    return {
        "wet_rows": len(wet), "warc_rows": len(warc), "matched_ids": len(both),
        "matched_urls_agree": sum(wet[i]["url"] == warc[i]["url"] for i in both),
        "wet_reasons": dict(Counter(str(r["drop_reason"]) for r in wet_rows)),
        "warc_reasons": dict(Counter(str(r["drop_reason"]) for r in warc_rows)),
        "both_have_text": len(kept),
        "token_f1_mean": statistics.fmean(f1.values()) if f1 else None,
        "token_f1_median": statistics.median(f1.values()) if f1 else None,
        "per_document": [{"id": i, "url": wet[i]["url"], "wet_tokens": sum(tokens(wet[i]["text"]).values()),
                          "extract_tokens": sum(tokens(warc[i]["text"]).values()),
                          "shared_tokens": sum((tokens(wet[i]["text"]) & tokens(warc[i]["text"])).values()),
                          "token_f1": round(f1[i], 4)}
                         for i in kept],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wet", required=True)
    parser.add_argument("--warc", required=True)
    parser.add_argument("--output", required=True, help="scratch folder for the two runs")
    args = parser.parse_args()
    out = Path(args.output)
    result = compare(run_extract(args.wet, out / "wet"), run_extract(args.warc, out / "warc"))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
