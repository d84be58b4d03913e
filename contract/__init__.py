"""The stage contract: what a per-document stage is (`contract.stage`) and how its settings declare their
ranges (`contract.bounds`). The bottom of the package graph: filters/ and dedup/ import only this, the
pipeline, the engines and the report build on it, and it imports none of them.
"""
