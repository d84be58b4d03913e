"""What the tests and the benchmarks share, so that neither imports the other: WARC and table fault corpora,
WARC record builders, small text corpora, and the process-level machinery of the kill trials.

Not part of the pipeline: no module under pipeline/, filters/, dedup/, tokenizer/, trainer/ or jobs/ imports it.
"""
