"""Server-rendered SVG bar charts: no JavaScript, Hangul drawn by the page's Korean font."""

from __future__ import annotations

from markupsafe import Markup, escape

BAR_HEIGHT = 22
GAP = 8
LABEL_WIDTH = 150
CHART_WIDTH = 560
VALUE_WIDTH = 70
FONT = "NanumGothic, 'Nanum Gothic', 'Noto Sans CJK KR', sans-serif"


def bar_chart(
    items: list[tuple[str, float]],
    *,
    value_format: str = "{:.0f}",
    max_value: float | None = None,
    color: str = "#2f6f9f",
) -> Markup:
    """A horizontal bar chart of (label, value) pairs as an inline ``<svg>``."""
    if not items:
        return Markup("")
    top = max_value if max_value is not None else max((v for _, v in items), default=0)
    top = top or 1
    bar_space = CHART_WIDTH - LABEL_WIDTH - VALUE_WIDTH
    height = len(items) * (BAR_HEIGHT + GAP) + GAP
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {CHART_WIDTH} {height}" '
        f'width="100%" xmlns="http://www.w3.org/2000/svg" font-family="{FONT}" font-size="13">'
    ]
    for index, (label, value) in enumerate(items):
        y = GAP + index * (BAR_HEIGHT + GAP)
        width = max(bar_space * (value / top), 0 if value <= 0 else 2)
        text_y = y + BAR_HEIGHT * 0.7
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{text_y:.1f}" text-anchor="end">'
            f"{escape(label)}</text>"
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{width:.1f}" height="{BAR_HEIGHT}" '
            f'rx="3" fill="{color}"><title>{escape(label)}: '
            f"{escape(value_format.format(value))}</title></rect>"
            f'<text x="{LABEL_WIDTH + width + 6:.1f}" y="{text_y:.1f}">'
            f"{escape(value_format.format(value))}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
