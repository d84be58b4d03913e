"""One fixed grid of bin edges for every numeric signal, and histograms read back from it.

Three significant digits at every scale, so any two runs' tables line up. Storing the exact position of each
value against the edges ("on edge k" or "between k and k+1") makes a threshold what-if exact for any
threshold on the grid and either comparison (`<`, `<=`, `>`, `>=`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def _grid() -> np.ndarray:
    """[0, 0.01) in steps of 1e-5, then each decade [10^e, 10^(e+1)) up to 1e9 in 900 steps of 10^(e-2).

    Every edge is k / 10^m or k * 10^m computed exactly then rounded once, so it is the same double as the
    literal a config writes (0.12, 3.0, 100000): thresholds with up to three significant digits are edges.
    """
    edges = [k / 100_000 for k in range(1000)]
    for exponent in range(-2, 9):
        scale = exponent - 2
        edges += [k * 10**scale if scale >= 0 else k / 10**-scale for k in range(100, 1000)]
    edges.append(float(10**9))
    return np.array(edges, dtype=np.float64)


EDGES = _grid()
GRID_DESCRIPTION = ("position 2k = exactly EDGES[k], 2k+1 = strictly between EDGES[k] and EDGES[k+1] (or above the "
                    "last); -1 = below 0; -2 = null/NaN. EDGES: [0, 0.01) step 1e-5, then every decade up to 1e9 "
                    "in 900 steps (3 significant digits)")
BELOW_GRID, MISSING = -1, -2


def positions(values: np.ndarray) -> np.ndarray:
    """Position of each float64 value on the grid (see GRID_DESCRIPTION); order-preserving, exact at edges."""
    index = np.searchsorted(EDGES, values, side="right") - 1
    on_edge = EDGES[np.maximum(index, 0)] == values
    result = np.where(index < 0, BELOW_GRID, 2 * index + (~on_edge).astype(np.int64))
    result[np.isnan(values)] = MISSING
    return result.astype(np.int64)


def threshold_position(threshold: float) -> tuple[int, bool]:
    """(position of the grid edge nearest `threshold`, whether the edge equals it exactly)."""
    index = int(np.clip(np.searchsorted(EDGES, threshold, side="right") - 1, 0, len(EDGES) - 1))
    if EDGES[index] != threshold and index + 1 < len(EDGES) and EDGES[index + 1] - threshold < threshold - EDGES[index]:
        index += 1
    return 2 * index, bool(EDGES[index] == threshold)


@dataclass(frozen=True)
class SignalHistogram:
    """One signal's rows of histograms.parquet as arrays (no Python object per row)."""

    reasons: list[str | None]  # the distinct drop reasons (None = kept)
    reason_code: np.ndarray  # index into `reasons`, per row
    position: np.ndarray  # grid position, per row
    documents: np.ndarray
    value_min: np.ndarray  # NaN where null
    value_max: np.ndarray  # NaN where null, or where not read


def signal_histograms(histograms: pa.Table, value_max: np.ndarray | None = None) -> dict[str, SignalHistogram]:
    """histograms.parquet split by signal, vectorized (the report reads no value_max: NaN there)."""
    if histograms.num_rows == 0:
        return {}
    signal = histograms["signal"].combine_chunks().dictionary_encode()
    reason = histograms["drop_reason"].combine_chunks().dictionary_encode()
    reasons = reason.dictionary.to_pylist() + [None]
    reason_code = pc.fill_null(reason.indices, len(reasons) - 1).to_numpy()
    signal_code = signal.indices.to_numpy()
    position = histograms["position"].to_numpy()
    documents = histograms["documents"].to_numpy()
    value_min = histograms["value_min"].to_numpy(zero_copy_only=False).astype(np.float64)
    value_max = np.full(len(value_min), np.nan) if value_max is None else value_max
    order = np.argsort(signal_code, kind="stable")
    bounds = np.searchsorted(signal_code[order], np.arange(len(signal.dictionary) + 1))
    result = {}
    for code, name in enumerate(signal.dictionary.to_pylist()):
        rows = order[bounds[code]:bounds[code + 1]]
        result[name] = SignalHistogram(reasons, reason_code[rows], position[rows], documents[rows], value_min[rows],
                                       value_max[rows])
    return result
