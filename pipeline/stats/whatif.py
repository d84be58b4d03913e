"""The threshold what-if: for one rule, how many documents a different threshold would drop, exactly, from the
histogram positions of its signal.
"""
from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from pipeline.stats.grid import EDGES, MISSING, SignalHistogram, threshold_position
from pipeline.stats.rules import ThresholdRule

MAX_WHATIF_STOPS = 200  # slider positions per rule: bounded whatever the corpus size
WHATIF_TABLE_QUANTILES = (0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99)


def whatif(rule: ThresholdRule, histogram: SignalHistogram, reaches: Callable[[str | None, str], bool],
           now: int) -> dict[str, Any]:
    """How many documents `rule` would drop at other thresholds, from its signal's histogram. Only documents
    the rule checked count (kept ones and those dropped by it or later rules), so at the configured
    threshold the answer is the rule's actual drops (single-valued, on-grid thresholds).

    Thresholds are grid edges where the count can change (at most MAX_WHATIF_STOPS of them, evenly picked),
    the configured one and the population's quantiles (`table_indices`: the ones the static table shows)."""
    checked = np.array([reaches(reason, rule.reason) for reason in histogram.reasons], dtype=bool)
    rows = checked[histogram.reason_code] & (histogram.position != MISSING)
    occupied, inverse = np.unique(histogram.position[rows], return_inverse=True)
    per_position = np.bincount(inverse, weights=histogram.documents[rows], minlength=len(occupied))
    cumulative = np.cumsum(per_position).astype(np.int64)
    population = int(cumulative[-1]) if len(cumulative) else 0
    at, exact = threshold_position(rule.threshold)
    last = len(EDGES) - 1
    edges = np.maximum(occupied, 0) // 2
    candidates = np.unique(np.clip(np.concatenate([edges, edges + 1, [at // 2]]), 0, last))
    table = {at // 2}
    for q in WHATIF_TABLE_QUANTILES:
        if population:
            table.add(int(edges[np.searchsorted(cumulative, max(1, math.ceil(q * population)))]))
    if len(candidates) > MAX_WHATIF_STOPS:
        candidates = candidates[np.round(np.linspace(0, len(candidates) - 1, MAX_WHATIF_STOPS)).astype(np.int64)]
    ordered = np.unique(np.concatenate([candidates, sorted(table)])).astype(np.int64)

    def below(inclusive: bool) -> np.ndarray:
        """Documents whose position is below (or at) each stop's edge position."""
        index = np.searchsorted(occupied, 2 * ordered, side="right" if inclusive else "left")
        return np.where(index > 0, cumulative[np.maximum(index - 1, 0)] if len(cumulative) else 0, 0)

    drops = {"<": lambda: below(False), "<=": lambda: below(True), ">": lambda: population - below(True),
             ">=": lambda: population - below(False)}[rule.drops_when]()
    stops = ordered.tolist()
    return {
        "reason": rule.reason, "signal": rule.signal, "drops_when": rule.drops_when, "threshold": rule.threshold,
        "threshold_on_grid": exact, "config_key": rule.config_key, "note": rule.note, "now": now,
        "population": population, "thresholds": [float(EDGES[e]) for e in stops], "drops": [int(d) for d in drops],
        "configured_index": stops.index(at // 2), "table_indices": [stops.index(e) for e in sorted(table)],
    }
