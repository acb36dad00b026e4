"""Server-side SVG line charts: no JavaScript, no external files."""

from __future__ import annotations

from html import escape

from monitoring.stats import Series

PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563")
W, H = 560, 210
LEFT, RIGHT, TOP, BOTTOM = 52, 12, 26, 44


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    for step in (1, 2, 5):
        magnitude = 10 ** (len(str(int(value))) - 1)
        if value <= step * magnitude:
            return float(step * magnitude)
    return float(10 ** len(str(int(value))))


def _fmt(value: float) -> str:
    if value >= 10_000:
        return f"{value / 1000:.0f}k"
    if value >= 100 or value == int(value):
        return f"{value:.0f}"
    return f"{value:.2f}".rstrip("0") if value < 1 else f"{value:.1f}"


def line_chart(series: Series, title: str, unit: str = "") -> str:
    """A line per series entry over the hour buckets, with axes and a legend."""
    values = [v for line in series.lines.values() for v in line if v is not None]
    top = _nice_max(max(values, default=0.0))
    n = max(len(series.hours) - 1, 1)
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM

    def x(i: int) -> float:
        return LEFT + plot_w * i / n

    def y(v: float) -> float:
        return TOP + plot_h * (1 - v / top)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" '
        f'height="{H}" role="img" aria-label="{escape(title)}" class="chart">',
        f'<text x="{LEFT}" y="16" class="ct">{escape(title)}</text>',
    ]
    for k in range(5):
        v = top * k / 4
        parts.append(
            f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y(v):.1f}" y2="{y(v):.1f}" class="grid"/>'
            f'<text x="{LEFT - 6}" y="{y(v) + 4:.1f}" text-anchor="end">'
            f"{_fmt(v)}{escape(unit)}</text>"
        )
    for i, hour in enumerate(series.hours):
        if i % 4 == 0 or i == len(series.hours) - 1:
            parts.append(
                f'<text x="{x(i):.1f}" y="{TOP + plot_h + 16}" text-anchor="middle">'
                f"{hour:%H}h</text>"
            )
    if not values:
        parts.append(
            f'<text x="{LEFT + plot_w / 2}" y="{TOP + plot_h / 2}" text-anchor="middle" '
            'class="empty">no data in this period</text>'
        )
    legend_x = LEFT
    for idx, (name, line) in enumerate(series.lines.items()):
        color = PALETTE[idx % len(PALETTE)]
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(line) if v is not None)
        if points:
            dash = ' stroke-dasharray="6 4"' if idx % 2 else ""  # overlapping lines stay visible
            parts.append(
                f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="2"{dash}/>'
            )
            parts.extend(
                f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="2.5" fill="{color}"/>'
                for i, v in enumerate(line)
                if v is not None and (v > 0 or len(values) < 3)
            )
        if legend_x < W - 60:
            parts.append(
                f'<rect x="{legend_x}" y="{H - 14}" width="10" height="10" fill="{color}"/>'
                f'<text x="{legend_x + 14}" y="{H - 5}">{escape(name)}</text>'
            )
            legend_x += 22 + 7 * len(name)
    parts.append("</svg>")
    return "".join(parts)
