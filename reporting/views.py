"""What the report shows, derived from the stats: display bars and what-ifs per signal (one signal's
histogram in memory at a time), the signals that decided a sample's drop, and the page's numbers as JSON.
"""
from __future__ import annotations

from typing import Any, Iterable, Sequence

import numpy as np
import pyarrow as pa

from pipeline.stats.counts import RECORD_COLUMNS
from pipeline.stats.grid import MISSING, SignalHistogram
from pipeline.stats.rules import (EARLY_STAGES, ThresholdRule, decision_rules, reaches_rule, reason_stage,
                                  threshold_rules)
from pipeline.stats.whatif import whatif
from reporting.markup import key_label, label
from reporting.svg import HIST_BINS

HISTOGRAM_COLUMNS = ["signal", "drop_reason", "position", "documents", "value_min"]  # what the page reads


def display_bins(histogram: SignalHistogram, p99: float | None, thresholds: Sequence[float]) -> dict[str, Any] | None:
    """HIST_BINS equal-width bars of kept and dropped documents from the smallest value to the 99th percentile
    (a long tail would squash every bar; larger values go into the last bar), widened to show configured
    thresholds that lie inside the data. Each fine bin counts at the smallest value seen in it."""
    rows = (histogram.position != MISSING) & np.isfinite(histogram.value_min)
    if not rows.any():
        return None
    values = histogram.value_min[rows]
    documents = histogram.documents[rows]
    kept = np.array([reason is None for reason in histogram.reasons], dtype=bool)[histogram.reason_code[rows]]
    low, largest = float(values.min()), float(values.max())
    high = p99 if p99 is not None else largest
    for threshold in thresholds:
        if low <= threshold <= largest:
            high = max(high, threshold * 1.05 if threshold > 0 else threshold)
    if high <= low:
        high = largest if largest > low else low + 1.0
    index = np.clip(((values - low) / (high - low) * HIST_BINS).astype(np.int64), 0, HIST_BINS - 1)
    return {"low": low, "high": high, "more": largest > high,
            "kept": np.bincount(index, weights=documents * kept, minlength=HIST_BINS).astype(np.int64).tolist(),
            "dropped": np.bincount(index, weights=documents * ~kept, minlength=HIST_BINS).astype(np.int64).tolist()}


def deciding_signals(reason: str | None, signals: dict[str, Any], rules: list[ThresholdRule],
                     stage_of: dict[str, str]) -> list[str]:
    """The columns that decided a drop: the rule's own signals, else every signal of the reason's stage."""
    if reason is None:
        return []
    named = [rule.signal for rule in rules if rule.reason == reason]
    if named:
        return list(dict.fromkeys(named))
    stage = reason_stage(reason)
    if stage in EARLY_STAGES + ("extract",):  # decided from the record itself: status, type, size, charset
        return sorted(name for name in signals if stage_of.get(name) == "extract" or name in RECORD_COLUMNS)
    return sorted(name for name in signals if stage_of.get(name) == stage)


def sample_outcomes(samples: list[dict[str, Any]], stages: Sequence[str]) -> list[str | None]:
    """The samples' outcomes in page order: kept first, then drop reasons by their stage in pipeline order
    (reasons of no listed stage last), then by name."""
    order = {stage: i for i, stage in enumerate(stages)}
    return sorted({s["drop_reason"] for s in samples},
                  key=lambda r: (r is not None, order.get(reason_stage(r), len(order)) if r else -1, r or ""))


def report_numbers(summary: dict[str, Any], tables: dict[str, pa.Table]) -> dict[str, Any]:
    """The counts the page shows, machine-readable (embedded as JSON; tests compare them with OUT/stats/)."""
    samples: dict[str, list[str]] = {}
    for sample in tables["samples"].to_pylist():
        samples.setdefault(label(sample["drop_reason"]), []).append(sample["id"])
    return {
        "documents": summary["documents"], "kept": summary["kept"], "dropped": summary["dropped"],
        "chars": summary["chars"], "kept_chars": summary["kept_chars"], "config_hash": summary["config_hash"],
        "funnel": summary["funnel"], "dropped_by_reason": summary["dropped_by_reason"],
        "dropped_by_stage": summary["dropped_by_stage"],
        "languages": {key_label(r["lang"]): r["documents"] for r in tables["languages"].to_pylist()},
        "crawls": {key_label(r["crawl"]): r["documents"] for r in tables["crawls"].to_pylist()},
        "domains": {key_label(r["domain"]): r["documents"] for r in tables["domains"].to_pylist()},
        "pii": {r["entity"]: {"documents_with_hits": r["documents_with_hits"], "hits": r["hits"]}
                for r in tables["pii"].to_pylist()},
        "clusters": summary.get("clusters"),
        "tokens": summary.get("tokens"),
        "samples": samples,
    }


def signal_views(histograms: Iterable[tuple[str, SignalHistogram]], summary: dict[str, Any], quantiles: pa.Table,
                 config: Any) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """(display bars per signal, what-ifs in rule order) from the signals' histograms taken one at a time, so
    the page costs one signal's histogram in memory, whatever the corpus size."""
    rules = threshold_rules(config)
    reaches = reaches_rule(summary["stages"], decision_rules(config))
    p99 = {r["signal"]: r["p99"] for r in quantiles.to_pylist() if r["population"] == "all"}
    bars: dict[str, dict[str, Any]] = {}
    found: dict[int, dict[str, Any]] = {}
    for signal, histogram in histograms:
        mine = [(i, rule) for i, rule in enumerate(rules) if rule.signal == signal]
        shown = display_bins(histogram, p99.get(signal), sorted({rule.threshold for _, rule in mine}))
        if shown is not None:
            bars[signal] = shown
        for i, rule in mine:
            found[i] = whatif(rule, histogram, reaches, summary["dropped_by_reason"].get(rule.reason, 0))
    return bars, [found[i] for i in sorted(found)]
