"""Kaplan–Meier curves as a server-rendered SVG (no JavaScript, like the other charts): step
lines with their 95 % bands, axes in months and percent, a Korean legend."""

from __future__ import annotations

from collections.abc import Callable

from markupsafe import Markup, escape

from bot.admin.charts import FONT
from bot.services.survival import Curve

WIDTH, HEIGHT = 640, 360
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 96
COLORS = ("#2f6f9f", "#b3561e")


def _y_floor(curves: list[Curve]) -> float:
    """The lowest tenth below every curve's band, so small differences near 100 % show."""
    low = min((min(c.lower) for c in curves if c.lower), default=0.0)
    return max(0.0, int(low * 10) / 10)


def _path(
    times: list[float],
    values: list[float],
    x: Callable[[float], float],
    y: Callable[[float], float],
) -> str:
    """A step line: each value holds until the next time."""
    points = [f"M{x(times[0]):.1f},{y(values[0]):.1f}"]
    for i in range(1, len(times)):
        points.append(f"H{x(times[i]):.1f}V{y(values[i]):.1f}")
    return "".join(points)


def survival_chart(curves: list[Curve], *, horizon: float) -> Markup:
    """The curves from month 0 to ``horizon`` (the step after the last time runs to the end)."""
    if not curves:
        return Markup("")
    floor = _y_floor(curves)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(t: float) -> float:
        return LEFT + plot_w * min(t, horizon) / horizon

    def y(v: float) -> float:
        return TOP + plot_h * (1 - (v - floor) / (1 - floor or 1))

    parts = [
        f'<svg class="chart survival" role="img" aria-label="유지 곡선" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" xmlns="http://www.w3.org/2000/svg" font-family="{FONT}" font-size="12">'
    ]
    steps = 5
    for i in range(steps + 1):
        value = floor + (1 - floor) * i / steps
        yy = y(value)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#d9e0e6"/>'
            f'<text x="{LEFT - 6}" y="{yy + 4:.1f}" text-anchor="end">{value * 100:.0f}%</text>'
        )
    for month in range(0, int(horizon) + 1, 2):
        xx = x(month)
        parts.append(
            f'<line x1="{xx:.1f}" x2="{xx:.1f}" y1="{TOP + plot_h}" y2="{TOP + plot_h + 4}" stroke="#5d6b78"/>'
            f'<text x="{xx:.1f}" y="{TOP + plot_h + 17}" text-anchor="middle">{month}</text>'
        )
    parts.append(
        f'<text x="{LEFT + plot_w / 2:.1f}" y="{TOP + plot_h + 34}" text-anchor="middle">'
        "기준일 이후 개월</text>"
        f'<text transform="translate(14 {TOP + plot_h / 2:.1f}) rotate(-90)" text-anchor="middle">'
        "유지 중인 계약 비율</text>"
    )
    for curve, color in zip(curves, COLORS, strict=False):
        times = [*curve.times, horizon]
        survival = [*curve.survival, curve.survival[-1]]
        upper = [*curve.upper, curve.upper[-1]]
        lower = [*curve.lower, curve.lower[-1]]
        # The band: along the upper bound, then back along the lower one, step by step.
        band = _path(times, upper, x, y) + f"V{y(lower[-1]):.1f}"
        band += "".join(
            f"V{y(lower[i]):.1f}H{x(times[i]):.1f}" for i in range(len(times) - 2, -1, -1)
        )
        parts.append(f'<path d="{band}Z" fill="{color}" fill-opacity="0.12" stroke="none"/>')
        parts.append(
            f'<path class="km" d="{_path(times, survival, x, y)}" fill="none" stroke="{color}" '
            f'stroke-width="2"><title>{escape(curve.label)}</title></path>'
        )
    for i, (curve, color) in enumerate(zip(curves, COLORS, strict=False)):
        lx, legend_y = LEFT, HEIGHT - 36 + i * 18
        label = f"{curve.label} ({curve.subjects:,}건 중 {curve.events:,}건 해지·실효)"
        parts.append(
            f'<rect x="{lx:.1f}" y="{legend_y - 9}" width="14" height="4" fill="{color}"/>'
            f'<text class="legend" x="{lx + 20:.1f}" y="{legend_y - 4}">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
