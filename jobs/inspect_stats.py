"""The stats summary in the terminal: `python jobs/inspect_stats.py OUT`.

The same numbers as the report (OUT/report/index.html), read from OUT/stats/ (computed first with pyarrow
when the output has none, e.g. `run_stages` output): the funnel, drops by reason, languages, crawls, dedup
clusters, PII and tokens, as plain text tables.
"""
from __future__ import annotations

import argparse
import sys
from typing import Any, Sequence

from pipeline.outputs import OutputDir
from pipeline.stats.store import ensure_stats, read_stats_tables, refresh_tokens

MAX_ROWS = 25  # rows per table; the Parquet tables under OUT/stats/ have the rest


def text_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A title and aligned columns: the first column left-aligned, numbers right-aligned with separators."""
    cells = [[f"{c:,}" if isinstance(c, int) else ("-" if c is None else str(c)) for c in row] for row in rows[:MAX_ROWS]]
    widths = [max([len(h)] + [len(row[i]) for row in cells]) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(values, widths))).rstrip()

    more = [f"  ... {len(rows) - MAX_ROWS} more rows"] if len(rows) > MAX_ROWS else []
    return "\n".join([title, line(headers), line(["-" * w for w in widths])] + [line(r) for r in cells] + more) + "\n"


def share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def render(summary: dict[str, Any], tables: dict[str, Any]) -> str:
    documents = summary["documents"]
    parts = [f"Kept {summary['kept']:,} of {documents:,} documents ({share(summary['kept'], documents)}); "
             f"{summary['kept_chars']:,} of {summary['chars']:,} characters; config {summary['config_hash'][:12]}\n"]
    parts.append(text_table("Funnel", ["stage", "docs in", "dropped", "docs out", "out/in", "chars in", "chars out"], [
        (r["stage"], r["documents_in"], r["documents_dropped"], r["documents_out"],
         share(r["documents_out"], r["documents_in"]), r["chars_in"], r["chars_out"]) for r in summary["funnel"]]))
    parts.append(text_table("Drops by reason", ["reason", "documents", "of all", "chars"], [
        (r["drop_reason"], r["documents"], share(r["documents"], documents), r["chars"]) for r in tables["reasons"].to_pylist()]))
    for title, name, column in (("Languages", "languages", "lang"), ("Crawls", "crawls", "crawl")):
        parts.append(text_table(title, [column, "documents", "kept", "dropped", "kept chars"], [
            ("(none)" if r[column] is None else r[column], r["documents"], r["kept_documents"], r["dropped_documents"],
             r["kept_chars"]) for r in tables[name].to_pylist()]))
    clusters = summary.get("clusters")
    if clusters:
        parts.append(text_table(f"Dedup clusters ({clusters['clusters']:,} clusters, "
                                f"{clusters['documents_in_clusters']:,} documents in them)",
                                ["size", "clusters"], [(b["sizes"], b["clusters"]) for b in clusters["clusters_by_size"]]))
    else:
        parts.append("Dedup clusters: none (no dedup columns in this output)\n")
    pii = tables["pii"].to_pylist()
    if pii:
        parts.append(text_table("PII", ["entity", "docs with hits", "hits", "kept docs with hits", "kept hits"], [
            (r["entity"], r["documents_with_hits"], r["hits"], r["kept_documents_with_hits"], r["kept_hits"]) for r in pii]))
    tokens = summary.get("tokens")
    if tokens:
        parts.append(text_table(f"Tokens ({tokens['tokens']:,} in {tokens['documents']:,} documents)",
                                ["split", "lang", "documents", "tokens"],
                                [(r["split"], r["lang"], r["documents"], r["tokens"]) for r in tables["tokens"].to_pylist()]))
    else:
        parts.append("Tokens: none yet (no OUT/tokens/manifest.json)\n")
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("output", help="a build_corpus or run_stages output directory")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    out = OutputDir(args.output)
    summary = refresh_tokens(out, ensure_stats(out))
    print(render(summary, read_stats_tables(out, ("reasons", "languages", "crawls", "pii", "tokens"))), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
