"""How every job writes files: atomically (`storage.atomic`, a temporary name then a rename) and, for tables,
through one Parquet writer (`storage.parquet`). A leaf package: the jobs, dedup's index, the token shards and
the trainer's checkpoints share it without importing the pipeline.
"""
