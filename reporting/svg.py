"""The report's charts, inline SVG drawn as strings (no plotting library, nothing external): stacked bar
rows, a legend, a signal histogram with its thresholds, and the what-if curve the page's script draws on."""
from __future__ import annotations

from typing import Any, Sequence

from reporting.markup import esc, fmt_count, fmt_value

KEPT_COLOR, DROPPED_COLOR, THRESHOLD_COLOR = "#3b7dd8", "#d8593b", "#111111"
HIST_BINS = 40  # display bars per signal histogram (the stored grid is much finer)
MAX_BAR_ROWS = 30  # rows in a bar chart; tables list the rest
CURVE = {"x0": 50, "width": 560, "top": 10, "height": 110}  # what-if curve geometry, shared with the script


def bar_chart(rows: Sequence[tuple[str, Sequence[int]]], colors: Sequence[str], width: int = 900) -> str:
    """Horizontal stacked bars, one row per (label, values); the total is written after each bar."""
    rows = list(rows)[:MAX_BAR_ROWS]
    label_px, row_px, bar_px = 280, 20, 14
    biggest = max([sum(values) for _, values in rows] + [1])
    scale = (width - label_px - 80) / biggest
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{row_px * len(rows) + 6}" role="img">']
    for i, (name, values) in enumerate(rows):
        y = i * row_px + 3
        shown = name if len(name) <= 44 else name[:43] + "…"
        parts.append(f'<text x="{label_px - 6}" y="{y + 11}" text-anchor="end">{esc(shown)}</text>')
        x = float(label_px)
        for value, color in zip(values, colors):
            if value > 0:
                w = max(value * scale, 1.0)
                parts.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_px}" fill="{color}"/>')
                x += w
        parts.append(f'<text x="{x + 4:.1f}" y="{y + 11}">{esc(fmt_count(sum(values)))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def legend(names: Sequence[str], colors: Sequence[str]) -> str:
    """One colored square and name per series, in a row."""
    items = []
    for i, (name, color) in enumerate(zip(names, colors)):
        items.append(f'<rect x="{i * 140}" y="2" width="12" height="12" fill="{color}"/>'
                     f'<text x="{i * 140 + 16}" y="12">{esc(name)}</text>')
    return f'<svg xmlns="http://www.w3.org/2000/svg" width="{140 * len(names)}" height="16">{"".join(items)}</svg>'


def histogram_svg(bins: dict[str, Any], thresholds: Sequence[float]) -> str:
    """Stacked kept/dropped bars of `reporting.views.display_bins`, with each threshold as a dashed line."""
    width, height, x0, x1, top, bottom = 640, 170, 56, 628, 10, 140
    low, high = bins["low"], bins["high"]
    tallest = max([k + d for k, d in zip(bins["kept"], bins["dropped"])] + [1])
    bar_w = (x1 - x0) / HIST_BINS
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">',
             f'<line x1="{x0}" y1="{bottom}" x2="{x1}" y2="{bottom}" stroke="#999"/>',
             f'<text x="{x0 - 4}" y="{top + 8}" text-anchor="end">{tallest:,}</text>',
             f'<text x="{x0 - 4}" y="{bottom}" text-anchor="end">0</text>']
    for i, (k, d) in enumerate(zip(bins["kept"], bins["dropped"])):
        x = x0 + i * bar_w
        y = float(bottom)
        for count, color in ((k, KEPT_COLOR), (d, DROPPED_COLOR)):
            if count:
                h = max(count / tallest * (bottom - top), 1.0)
                y -= h
                parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(bar_w - 1, 1):.1f}" height="{h:.1f}" '
                             f'fill="{color}"/>')
    for threshold in thresholds:
        if low <= threshold <= high:
            x = x0 + (threshold - low) / (high - low) * (x1 - x0)
            parts.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{bottom}" stroke="{THRESHOLD_COLOR}" '
                         f'stroke-width="2" stroke-dasharray="4 3"/>'
                         f'<text x="{x + 3:.1f}" y="{top + 20}">threshold {esc(fmt_value(threshold))}</text>')
    parts.append(f'<text x="{x0}" y="{bottom + 14}">{esc(fmt_value(low))}</text>'
                 f'<text x="{x1}" y="{bottom + 14}" text-anchor="end">{esc(fmt_value(high))}'
                 f'{"+" if bins["more"] else ""}</text>')
    off = [t for t in thresholds if not low <= t <= high]
    if off:
        parts.append(f'<text x="{(x0 + x1) / 2:.0f}" y="{bottom + 28}" text-anchor="middle">threshold '
                     f'{esc(", ".join(fmt_value(t) for t in off))} outside the plotted range</text>')
    parts.append("</svg>")
    return "".join(parts)


def curve_svg(drops: Sequence[int], configured_index: int) -> str:
    """Documents dropped (y) at each what-if threshold (x: the stops in order), the configured one marked."""
    g = CURVE
    width, height = g["x0"] + g["width"] + 80, g["top"] + g["height"] + 24
    tallest = max(list(drops) + [1])
    last = max(1, len(drops) - 1)
    points = [(g["x0"] + g["width"] * i / last, g["top"] + g["height"] * (1 - n / tallest)) for i, n in enumerate(drops)]
    path = "M" + " L".join(f"{x:.1f} {y:.1f}" for x, y in points)
    x_now = g["x0"] + g["width"] * configured_index / last
    bottom = g["top"] + g["height"]
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">'
            f'<line x1="{g["x0"]}" y1="{bottom}" x2="{g["x0"] + g["width"]}" y2="{bottom}" stroke="#999"/>'
            f'<text x="{g["x0"] - 4}" y="{g["top"] + 8}" text-anchor="end">{tallest:,}</text>'
            f'<text x="{g["x0"] - 4}" y="{bottom}" text-anchor="end">0</text>'
            f'<path d="{path}" fill="none" stroke="{DROPPED_COLOR}" stroke-width="2"/>'
            f'<line x1="{x_now:.1f}" y1="{g["top"]}" x2="{x_now:.1f}" y2="{bottom}" stroke="#999" stroke-dasharray="3 3"/>'
            f'<text x="{x_now + 3:.1f}" y="{bottom + 16}">configured</text></svg>')
