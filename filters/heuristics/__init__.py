"""The `heuristics` stage (`filters.heuristics.stage`) and its rule families, one module each."""
