"""Per-document filter stages, written against the stage contract (contract/stage.py): language ID
(`langid`), URL block lists (`url`), heuristic quality rules (`heuristics/`, one module per rule family), the
quality classifier (`quality`) and PII scrubbing (`pii`). Each stage takes one frozen config dataclass defined
next to it; none imports pyspark, ray or anything of pipeline/ but its config bounds.
"""
