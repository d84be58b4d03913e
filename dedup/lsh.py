"""LSH banding parameters, candidate edges from band buckets, and connected components (single machine).

- `optimal_param`: datasketch's `MinHashLSH._optimal_param` (minimize the weighted false-positive area
  below the threshold plus false-negative area above it over all bands x rows <= num_perm), with the
  integrals done by Gauss-Legendre quadrature instead of scipy's `quad`: the integrands are polynomials
  of degree rows * bands <= num_perm, which num_perm // 2 + 1 nodes integrate exactly (tested against
  datasketch over a grid of thresholds and permutation counts).
- `star_edges`: documents whose band hashes are equal share a bucket; every member gets one edge to its
  bucket's minimum node (star edges: linear in the bucket size, not quadratic) -- the same edges the
  Spark path builds with groupBy.
- `connected_components`: hook-and-shortcut label propagation in numpy (Shiloach-Vishkin style): each
  edge hooks the larger of its two roots onto the smaller, then pointer jumping flattens the trees; the
  label of a component is its minimum node. Linear passes over the edges, O(log n) rounds in practice.
"""
from __future__ import annotations

import functools

import numpy as np


@functools.cache
def _nodes(count: int) -> tuple[np.ndarray, np.ndarray]:
    return np.polynomial.legendre.leggauss(count)


def _integrate(threshold: float, bands: np.ndarray, rows: np.ndarray, num_perm: int) -> tuple[np.ndarray, np.ndarray]:
    """(false-positive area on [0, t], false-negative area on [t, 1]) for each (bands, rows) pair."""
    x, w = _nodes(num_perm // 2 + 2)

    def area(low: float, high: float, false_negative: bool) -> np.ndarray:
        s = (high - low) / 2 * x + (high + low) / 2  # nodes mapped to [low, high]
        collide = 1.0 - (1.0 - s[None, :] ** rows[:, None]) ** bands[:, None]  # P(candidate | similarity s)
        values = 1.0 - collide if false_negative else collide
        return (high - low) / 2 * (values @ w)

    return area(0.0, threshold, False), area(threshold, 1.0, True)


def optimal_param(threshold: float, num_perm: int, false_positive_weight: float = 0.5,
                  false_negative_weight: float = 0.5) -> tuple[int, int]:
    """(num_bands, rows_per_band) minimizing the weighted FP + FN areas, as datasketch's `_optimal_param`."""
    pairs = [(b, r) for b in range(1, num_perm + 1) for r in range(1, num_perm // b + 1)]  # datasketch's order
    bands = np.array([b for b, _ in pairs], dtype=np.float64)
    rows = np.array([r for _, r in pairs], dtype=np.float64)
    false_positive, false_negative = _integrate(threshold, bands, rows, num_perm)
    error = false_positive * false_positive_weight + false_negative * false_negative_weight
    best = int(np.argmin(error))  # first minimum, as datasketch's strict `<`
    return pairs[best]


def candidate_probability(similarity: float, num_bands: int, rows_per_band: int) -> float:
    """P(two documents with this Jaccard similarity share at least one band bucket) = 1 - (1 - s^r)^b."""
    return 1.0 - (1.0 - similarity ** rows_per_band) ** num_bands


def star_edges(bands: np.ndarray, anchors: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Edges (member, bucket minimum) over all bands; nodes are row numbers of `bands` (n, num_bands).

    Row order must be the order of preference for bucket centers (callers sort nodes by key, so the
    minimum row is the minimum key, as Spark's `min`). With `anchors` (bool per row), only buckets holding
    at least one anchor give edges (a new crawl against an index: buckets of indexed documents alone are
    skipped). Returns unique (src, dst) pairs, src > dst, sorted.
    """
    n, num_bands = bands.shape
    sources, targets = [], []
    node = np.arange(n, dtype=np.int64)
    for band in range(num_bands):
        column = bands[:, band]
        order = np.lexsort((node, column))  # by hash, then by node: a bucket's first entry is its minimum
        hashes = column[order]
        starts = np.concatenate(([True], hashes[1:] != hashes[:-1]))
        first = np.flatnonzero(starts)
        bucket = np.cumsum(starts) - 1
        center = order[first][bucket]
        member = order != center
        if anchors is not None:
            anchored = np.logical_or.reduceat(anchors[order], first)
            member &= anchored[bucket]
        sources.append(order[member])
        targets.append(center[member])
    if not sources or not sum(len(s) for s in sources):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    pairs = np.unique(np.stack((np.concatenate(sources), np.concatenate(targets)), axis=1), axis=0)
    return pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64)


def connected_components(n: int, sources: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Label of every node 0..n-1: the minimum node of its connected component."""
    labels = np.arange(n, dtype=np.int64)
    if len(sources) == 0:
        return labels
    while True:
        low, high = labels[sources], labels[targets]
        smaller = np.minimum(low, high)
        hooked = labels.copy()
        np.minimum.at(hooked, low, smaller)  # hook each root onto the smallest root it touches
        np.minimum.at(hooked, high, smaller)
        while True:  # pointer jumping until every node points at a root
            jumped = hooked[hooked]
            if np.array_equal(jumped, hooked):
                break
            hooked = jumped
        if np.array_equal(hooked, labels):
            return labels
        labels = hooked
