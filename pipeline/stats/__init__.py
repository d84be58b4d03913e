"""Run statistics derived from the output columns (never from side counters), for the report and the terminal.

What a researcher reads under OUT/stats/ (JSON for the summary, Parquet for the tables):
- `stats.json`: totals, the funnel, drops by reason and stage, languages, crawls, PII, dedup clusters, tokens;
- `funnel.parquet`: documents and characters into and out of every stage, in pipeline order (a row whose
  `drop_reason` starts with "<stage>:" leaves at that stage; characters are len(text) of the stored text);
- `reasons`, `languages`, `crawls`, `domains` (the top TOP_DOMAINS hosts of the url), `pii`, `clusters`,
  `largest_clusters`, `tokens` (once OUT/tokens/manifest.json exists);
- `histograms.parquet`: every numeric signal column on one fixed grid of bin edges (three significant
  digits at every scale, so any two runs' tables line up), per drop reason; `quantiles.parquet` from it.
  Storing the exact position of each value against the edges ("on edge k" or "between k and k+1") makes a
  threshold what-if exact for any threshold on the grid and either comparison (`<`, `<=`, `>`, `>=`);
- `samples.parquet`: a few documents per drop reason (lowest sha1 of the id: deterministic), text cut.

One definition, every engine (NeMo Curator / Dolma style: measure once, aggregate anywhere): `partial_counts`
turns a record batch of output rows into a small table of additive counts keyed by (metric, drop_reason,
key, bin); partials merge by summing (min/max for value ranges). The corpus job's commit tasks count each
slice of their part as they write it and store the part's counts beside it (`parts`); the driver merges the
parts' counts, with no second pass over the output. `run_stages` output (and any output without stats) is
counted with the same functions over pyarrow batches (`store.write_stats_local`). `stats_tables` builds every
table from the merged counts (top-k for unbounded keys such as domains), however they were merged.

Modules: `grid` (bin edges, histograms), `rules` (stages of columns and reasons, threshold rules), `counts`
(partial counts, samples), `parts` (per-part counts and their merge), `tables` (schemas, building the
tables), `whatif`, `store` (files under OUT/stats/).
"""
