"""Inline SVG charts: the reports must open offline from ``file://``, so no JavaScript chart library and no CDN.

Every chart is a self-contained ``<svg>`` string with a ``<title>`` per mark (the browser shows it on hover) and
Vietnamese labels passed in by the caller.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Final

__all__ = ["PALETTE", "bar_chart", "hbar_chart", "histogram", "line_chart"]

PALETTE: Final = ("#1f6fb2", "#2e9e5b", "#d98c1f", "#b23b3b", "#7a4fb2", "#4a8a8a")
_FONT: Final = 'font-family="Segoe UI, Roboto, Noto Sans, Arial, sans-serif"'


def _fmt(value: float, percent: bool) -> str:
    if percent:
        return f"{value * 100:.1f}%".replace(".", ",")
    return f"{value:,.0f}".replace(",", ".") if float(value).is_integer() else f"{value:,.2f}"


def _svg(width: int, height: int, body: list[str], label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" aria-label="{escape(label)}" '
        f'viewBox="0 0 {width} {height}" width="100%" style="max-width:{width}px" {_FONT} font-size="12">'
        f"<title>{escape(label)}</title>{''.join(body)}</svg>"
    )


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    percent: bool = False,
    colors: Sequence[str] = PALETTE,
    height: int = 260,
) -> str:
    """Vertical bars, one per label; ``percent`` values are shares in [0, 1] drawn on a 0-100% axis."""
    width = max(360, 90 * len(labels) + 60)
    top, bottom, left = 24, 40, 48
    plot_h = height - top - bottom
    peak = 1.0 if percent else max([*values, 1])
    body = []
    for i in range(5):
        y = top + plot_h * i / 4
        tick = peak * (4 - i) / 4
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" stroke="#e3e6ea"/>')
        body.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#555">{escape(_fmt(tick, percent))}</text>'
        )
    slot = (width - left - 10) / max(len(labels), 1)
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        bar_h = plot_h * (value / peak if peak else 0)
        x = left + slot * i + slot * 0.2
        y = top + plot_h - bar_h
        color = colors[i % len(colors)]
        body.append(
            f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{slot * 0.6:.1f}" height="{max(bar_h, 0.5):.1f}" '
            f'fill="{color}"><title>{escape(label)}: {escape(_fmt(value, percent))}</title></rect>'
        )
        body.append(
            f'<text x="{x + slot * 0.3:.1f}" y="{y - 5:.1f}" text-anchor="middle">{escape(_fmt(value, percent))}</text>'
        )
        body.append(
            f'<text x="{x + slot * 0.3:.1f}" y="{height - bottom + 18}" text-anchor="middle" fill="#333">'
            f"{escape(label)}</text>"
        )
    return _svg(width, height, body, title)


def hbar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    percent: bool = False,
    color: str = PALETTE[0],
    label_width: int = 260,
    width: int = 760,
) -> str:
    """Horizontal bars, for long labels (ward names, rule titles)."""
    row = 24
    height = max(row * len(labels) + 20, 60)
    peak = 1.0 if percent else max([*values, 1])
    plot_w = width - label_width - 80
    body = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = 10 + row * i
        bar_w = plot_w * (value / peak if peak else 0)
        shown = label if len(label) <= 42 else label[:41] + "…"
        body.append(f'<text x="{label_width - 8}" y="{y + 15}" text-anchor="end" fill="#333">{escape(shown)}</text>')
        body.append(
            f'<rect class="bar" x="{label_width}" y="{y + 3}" width="{max(bar_w, 0.5):.1f}" height="{row - 8}" '
            f'fill="{color}"><title>{escape(label)}: {escape(_fmt(value, percent))}</title></rect>'
        )
        body.append(
            f'<text x="{label_width + bar_w + 6:.1f}" y="{y + 15}" fill="#333">{escape(_fmt(value, percent))}</text>'
        )
    if not labels:
        body.append(f'<text x="{width / 2}" y="35" text-anchor="middle" fill="#777">Không có dữ liệu</text>')
    return _svg(width, height, body, title)


def line_chart(
    x_labels: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    *,
    title: str,
    percent: bool = True,
    width: int = 760,
    height: int = 300,
) -> str:
    """One line per series over ordered x labels (nights); a single night still draws its points."""
    top, bottom, left, legend = 20, 50, 56, 130
    plot_w, plot_h = width - left - legend, height - top - bottom
    known = [v for values in series.values() for v in values if v is not None]
    if percent:
        low = min([*known, 1.0])
        floor = max(0.0, (int(low * 20) / 20) - 0.05) if known else 0.0
        low_v, high_v = floor, 1.0
    else:
        low_v, high_v = 0.0, max([*known, 1.0])
    span = (high_v - low_v) or 1.0
    body = []
    for i in range(5):
        y = top + plot_h * i / 4
        tick = high_v - span * i / 4
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#e3e6ea"/>')
        body.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#555">{escape(_fmt(tick, percent))}</text>'
        )
    count = len(x_labels)
    step = plot_w / (count - 1) if count > 1 else 0.0

    def x_of(i: int) -> float:
        return left + (step * i if count > 1 else plot_w / 2)

    every = max(1, count // 8)
    for i, label in enumerate(x_labels):
        if i % every == 0 or i == count - 1:
            body.append(
                f'<text x="{x_of(i):.1f}" y="{height - bottom + 18}" text-anchor="middle" fill="#333">'
                f"{escape(label)}</text>"
            )
    for n, (name, values) in enumerate(series.items()):
        color = PALETTE[n % len(PALETTE)]
        points = [(x_of(i), top + plot_h * (high_v - v) / span, v) for i, v in enumerate(values) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points)
            body.append(f'<polyline class="line" points="{path}" fill="none" stroke="{color}" stroke-width="2.5"/>')
        for (x, y, v), label in zip(
            points, [lab for lab, v in zip(x_labels, values, strict=True) if v is not None], strict=True
        ):
            body.append(
                f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{color}">'
                f"<title>{escape(name)} — {escape(label)}: {escape(_fmt(v, percent))}</title></circle>"
            )
        ly = top + 18 * n + 6
        body.append(f'<rect x="{left + plot_w + 16}" y="{ly - 9}" width="12" height="12" fill="{color}"/>')
        body.append(f'<text x="{left + plot_w + 34}" y="{ly + 1}" fill="#333">{escape(name)}</text>')
    return _svg(width, height, body, title)


def histogram(
    edges: Sequence[float],
    counts: Sequence[int],
    *,
    title: str,
    marks: dict[str, float] | None = None,
    width: int = 760,
    height: int = 260,
) -> str:
    """Bars over contiguous bins (``edges`` has one more item than ``counts``); ``marks`` draws labelled thresholds."""
    top, bottom, left = 20, 40, 60
    plot_w, plot_h = width - left - 20, height - top - bottom
    peak = max([*counts, 1])
    low, high = edges[0], edges[-1]
    span = (high - low) or 1.0

    def x_of(v: float) -> float:
        return left + plot_w * (v - low) / span

    body = []
    for i in range(5):
        y = top + plot_h * i / 4
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#e3e6ea"/>')
        body.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#555">'
            f"{escape(_fmt(peak * (4 - i) / 4, False))}</text>"
        )
    for i, count in enumerate(counts):
        x0, x1 = x_of(edges[i]), x_of(edges[i + 1])
        bar_h = plot_h * count / peak
        body.append(
            f'<rect class="bar" x="{x0 + 1:.1f}" y="{top + plot_h - bar_h:.1f}" width="{max(x1 - x0 - 2, 1):.1f}" '
            f'height="{max(bar_h, 0.5):.1f}" fill="{PALETTE[0]}"><title>{edges[i]:.2f}–{edges[i + 1]:.2f}: '
            f"{escape(_fmt(count, False))} cặp</title></rect>"
        )
    for i in range(0, 11):
        v = low + span * i / 10
        body.append(
            f'<text x="{x_of(v):.1f}" y="{height - bottom + 16}" text-anchor="middle" fill="#333">{v:.1f}</text>'
        )
    for n, (label, value) in enumerate((marks or {}).items()):
        x = x_of(value)
        body.append(
            f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + plot_h}" stroke="{PALETTE[3]}" '
            'stroke-dasharray="4 3"/>'
        )
        # Near the right edge the label goes left of its line, or it would be cut off.
        anchor, dx = ("end", -4) if x > left + plot_w * 0.8 else ("start", 4)
        body.append(
            f'<text x="{x + dx:.1f}" y="{top + 12 + 14 * n}" text-anchor="{anchor}" fill="{PALETTE[3]}">'
            f"{escape(label)}</text>"
        )
    return _svg(width, height, body, title)
