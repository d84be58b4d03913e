"""MinHash signature throughput: this project's numpy signatures against datasketch on the same documents.

Documents are consecutive runs of `--words` words from the English Gutenberg books (real prose; the
folder is read from --gutenberg and the benchmark says so when it is absent). Every method gets the same
documents; datasketch gets the same shingles as bytes (`dedup.normalize.shingles`), built outside its
timing in the "signature" rows and inside it in the "from raw text" rows. Before timing, signatures are
checked value for value: ours with shingle_hash="sha1" against plain `datasketch.MinHash()`, ours with
"poly32" against `datasketch.MinHash(hashfunc=poly_hash32)`.

Rates are documents per CPU second of this process (the machine is shared; wall time is also shown).
Each measurement is the median of --repeats runs, the methods taking turns.

    .venv/bin/python benchmarks/dedup_minhash_throughput.py --gutenberg /work/shared/data/text/gutenberg
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
from pathlib import Path
from typing import Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.measure import Timer  # noqa: E402
from dedup.minhash import MinHasher, poly_hash32  # noqa: E402
from dedup.normalize import normalize_text, shingles  # noqa: E402

ENGLISH_BOOKS = ("A-Tale-of-Two-Cities_98.txt", "Emma_158.txt", "Dracula_345.txt", "Moby-Dick--Or-The-Whale_2701.txt",
                 "Pride-and-Prejudice_1342.txt", "Frankenstein_84.txt", "Great-Expectations_1400.txt")


def load_documents(folder: Path, words_per_doc: int, count: int) -> list[str]:
    docs: list[str] = []
    for name in ENGLISH_BOOKS:
        path = folder / name
        if not path.exists():
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        # keep line breaks: documents look like pages, and normalization sees real punctuation and case
        current: list[str] = []
        size = 0
        for line in lines:
            current.append(line)
            size += len(line.split())
            if size >= words_per_doc:
                docs.append("\n".join(current))
                current, size = [], 0
                if len(docs) >= count:
                    return docs
    return docs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gutenberg", default="/work/shared/data/text/gutenberg")
    parser.add_argument("--words", type=int, nargs="+", default=[300, 1000], help="words per document")
    parser.add_argument("--docs", type=int, default=400)
    parser.add_argument("--num-perm", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args(argv)
    folder = Path(args.gutenberg)
    if not folder.is_dir():
        print(f"{folder} is absent: this benchmark needs the Gutenberg texts (see /work/shared/data/README.md)")
        return 2
    import datasketch

    results = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "numpy": np.__version__,
                           "datasketch": datasketch.__version__, "load_start": os.getloadavg()}, "sizes": []}
    for words_per_doc in args.words:
        docs = load_documents(folder, words_per_doc, args.docs)
        normalized = [normalize_text(doc) for doc in docs]
        shingled = [shingles(text, 5) for text in normalized]
        total_shingles = sum(len(s) for s in shingled)
        ours = {h: MinHasher(num_perm=args.num_perm, shingle_hash=h) for h in ("poly32", "sha1")}
        # correctness first: identical signatures
        for name, hashfunc in (("sha1", None), ("poly32", poly_hash32)):
            got = ours[name].signatures_normalized(normalized)
            expected = datasketch.MinHash.bulk(shingled, num_perm=args.num_perm, hashfunc=hashfunc) if hashfunc else \
                datasketch.MinHash.bulk(shingled, num_perm=args.num_perm)
            assert all(np.array_equal(m.hashvalues, g) for m, g in zip(expected, got)), name

        def ds_update_batch(hashfunc=None):
            for s in shingled:
                m = datasketch.MinHash(num_perm=args.num_perm, hashfunc=hashfunc)
                m.update_batch(s)

        def ds_bulk():
            datasketch.MinHash.bulk(shingled, num_perm=args.num_perm)

        def ds_raw_update_batch():
            for doc in docs:
                m = datasketch.MinHash(num_perm=args.num_perm)
                m.update_batch(shingles(normalize_text(doc), 5))

        def ds_raw_bulk():
            datasketch.MinHash.bulk([shingles(normalize_text(doc), 5) for doc in docs], num_perm=args.num_perm)

        methods: dict[str, Callable[[], object]] = {
            "datasketch update_batch (sha1)": ds_update_batch,
            "datasketch MinHash.bulk (sha1)": ds_bulk,
            "ours sha1 (datasketch default hash)": lambda: ours["sha1"].signatures_normalized(normalized),
            "ours poly32 (vectorized hash)": lambda: ours["poly32"].signatures_normalized(normalized),
            "from raw text: datasketch update_batch": ds_raw_update_batch,
            "from raw text: datasketch MinHash.bulk": ds_raw_bulk,
            "from raw text: ours poly32": lambda: ours["poly32"].signatures(docs),
            "from raw text: ours sha1": lambda: ours["sha1"].signatures(docs),
            "normalize_text alone": lambda: [normalize_text(doc) for doc in docs],
        }
        timings: dict[str, list[tuple[float, float]]] = {name: [] for name in methods}
        for _ in range(args.repeats):
            for name, fn in methods.items():
                with Timer() as timer:
                    fn()
                timings[name].append((timer.cpu_s, timer.wall_s))
        rows = []
        for name in methods:
            cpu = statistics.median(t[0] for t in timings[name])
            wall = statistics.median(t[1] for t in timings[name])
            rows.append({"method": name, "cpu_s": cpu, "wall_s": wall, "docs_per_cpu_s": len(docs) / cpu,
                         "shingles_per_cpu_s": total_shingles / cpu})
        results["sizes"].append({"words_per_doc": words_per_doc, "docs": len(docs), "shingles": total_shingles,
                                 "rows": rows})
    results["machine"]["load_end"] = os.getloadavg()
    print(f"machine: {results['machine']}")
    for size in results["sizes"]:
        print(f"\n{size['docs']} documents of ~{size['words_per_doc']} words ({size['shingles']} shingles), "
              f"num_perm={args.num_perm}, median of {args.repeats}")
        rates = {row["method"]: row["docs_per_cpu_s"] for row in size["rows"]}
        print("| method | docs per CPU s | shingles per CPU s | wall s | vs update_batch | vs bulk |")
        print("|---|---:|---:|---:|---:|---:|")
        for row in size["rows"]:
            raw = row["method"].startswith("from raw")
            base_ub = rates["from raw text: datasketch update_batch" if raw else "datasketch update_batch (sha1)"]
            base_bulk = rates["from raw text: datasketch MinHash.bulk" if raw else "datasketch MinHash.bulk (sha1)"]
            ratio = "" if row["method"].startswith("normalize") else \
                f"{row['docs_per_cpu_s'] / base_ub:.1f}x | {row['docs_per_cpu_s'] / base_bulk:.1f}x"
            print(f"| {row['method']} | {row['docs_per_cpu_s']:.0f} | {row['shingles_per_cpu_s']:.0f} | "
                  f"{row['wall_s']:.2f} | {ratio or ' | '} |")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
