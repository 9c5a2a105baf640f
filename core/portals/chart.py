"""The attendance-rate-over-time chart, drawn as SVG on the server (no script, prints in PDFs). Pure."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from .programmes import SessionLine
from .rules import DELIVERED

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 16, 14, 30
LINE = "#0a58ca"      # 6.3:1 on white
GRID = "#d0d5da"
TEXT = "#3d4349"      # 10:1 on white
TARGET = "#b02a37"    # 6.4:1 on white: a required rate (dashed, so it does not rest on colour alone)


@dataclass(frozen=True)
class RatePoint:
    day: dt.date
    rate: float        # 0..1
    label: str         # what the point's tooltip says, e.g. "2026-03-02 09:00 · 85%"


def _x(day: dt.date, first: dt.date, span_days: int) -> float:
    inner = WIDTH - LEFT - RIGHT
    if span_days == 0:
        return LEFT + inner / 2
    return LEFT + inner * (day - first).days / span_days


def _y(rate: float) -> float:
    return TOP + (HEIGHT - TOP - BOTTOM) * (1 - max(0.0, min(1.0, rate)))


def rate_chart(points: Sequence[RatePoint], title: str, empty_text: str, target: float | None = None,
               target_label: str = "") -> str:
    """An accessible SVG line chart of attendance rates by date (y: 0–100 %), with `target` (0..1, e.g. the
    required rate) as a dashed line when given."""
    title_id = "chart-title"
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'aria-labelledby="{title_id}" class="rate-chart" font-family="sans-serif" font-size="11">',
             f'<title id="{title_id}">{escape(title)}</title>']
    for pct in (0, 25, 50, 75, 100):
        y = _y(pct / 100)
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="{GRID}"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{TEXT}">{pct}%</text>')
    if target is not None:
        y = _y(target)
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="{TARGET}" '
                     f'stroke-width="1.5" stroke-dasharray="6 4"><title>{escape(target_label)}</title></line>')
        parts.append(f'<text x="{WIDTH - RIGHT}" y="{y - 4:.1f}" text-anchor="end" fill="{TARGET}">'
                     f'{escape(target_label)}</text>')
    if not points:
        parts.append(f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle" fill="{TEXT}">'
                     f'{escape(empty_text)}</text></svg>')
        return "".join(parts)
    ordered = sorted(points, key=lambda p: p.day)
    first, last = ordered[0].day, ordered[-1].day
    span = (last - first).days
    coords = [(_x(p.day, first, span), _y(p.rate)) for p in ordered]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    parts.append(f'<polyline points="{path}" fill="none" stroke="{LINE}" stroke-width="2"/>')
    for (x, y), p in zip(coords, ordered, strict=True):
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{LINE}"><title>{escape(p.label)}</title>'
                     "</circle>")
    base = HEIGHT - BOTTOM + 18
    parts.append(f'<text x="{LEFT}" y="{base}" fill="{TEXT}">{first.isoformat()}</text>')
    if span:
        parts.append(f'<text x="{WIDTH - RIGHT}" y="{base}" text-anchor="end" fill="{TEXT}">{last.isoformat()}</text>')
    parts.append("</svg>")
    return "".join(parts)


def session_points(sessions: Sequence[SessionLine]) -> list[RatePoint]:
    """One point per delivered session that has a rate."""
    return [RatePoint(day=s.date, rate=s.attendance_rate, label=f"{s.date} {s.start_time:%H:%M} · "
                      f"{s.attendance_rate * 100:.0f}%")
            for s in sessions if s.delivery == DELIVERED and s.attendance_rate is not None]
