"""The sample WARC set's generator, in parts; `sample_data/generate.py` is its command line.

- `languages`: per-language menu, footer and widget words, and author names.
- `texts`: the article texts in `sample_data/texts/` (`Text`), with their PII marks checked.
- `pages`: the HTML templates (three article layouts, listing and simple pages).
- `exchange`: `Exchange`, one fetched URL with its HTTP response and its expected.jsonl labels.
- `articles`: pages with a known main text (articles, duplicates, PII, charsets, transfer encodings).
- `junk`: pages and responses a pipeline must drop (boilerplate, spam, lorem ipsum, non-HTML, non-200,
  empty, oversized).
- `records`: WARC records of an exchange and one WARC file with its expected.jsonl rows.
- `sample`: the committed sample set (`warc/*.warc.gz`, `expected.jsonl`).
- `benchmark`: one large WARC of recombined pages for the benchmarks.
"""
