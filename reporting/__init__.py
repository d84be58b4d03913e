"""The stats report page, OUT/report/index.html (`python jobs/report.py OUT` writes it).

It reads only the aggregated tables under OUT/stats/ (computed first with pyarrow when a run has none, e.g.
`run_stages` output; histograms.parquet one signal at a time), the run's OUT/_config.toml for the thresholds
and OUT/tokens/manifest.json: its time and memory are bounded by those tables, which stop growing once the
signals fill their fixed grid, not by the number of documents (benchmarks/RESULTS.md, "Stats and report").
The page works offline: no network, no external file; plots are inline SVG drawn here; one small inline
script (allowed by its sha256 in a strict Content-Security-Policy, nothing else may run) moves the threshold
what-if sliders over embedded counts, and static tables say the same without it. Every crawled string (text,
urls, domains, reasons) is escaped, and embedded JSON escapes `<`, `>` and `&`, so a document holding
`</script>` stays text. Same stats, same bytes.

Modules: `markup` (escaping, number formats, tables), `svg` (charts), `views` (what the page shows, derived
from the stats tables and histograms), `sections` (one HTML section each), `assets` (the inline style and
script), `page` (the whole page, and writing it).
"""
