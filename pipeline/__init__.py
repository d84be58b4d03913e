"""Engine-free core of the corpus pipeline: schema, config, stage adapter, WARC input, extraction."""
