"""Charts drawn on the server as SVG shapes (no script, no chart library): a chart is a list of bars
and labels with their coordinates, which `templates/dashboard.html` writes out as <rect> and <text>."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    kind: str  # the CSS class: its colour
    title: str  # shown on hover


@dataclass(frozen=True, slots=True)
class Label:
    x: float
    y: float
    text: str
    anchor: str = "start"


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    bars: tuple[Bar, ...]
    labels: tuple[Label, ...]
    title: str


def horizontal(rows: Sequence[tuple[str, int]], title: str, *, kind: str = "bar", width: int = 520,
               row_height: int = 22, label_width: int = 150) -> Chart:
    """One bar per (label, value), longest = the widest bar."""
    top = max((value for _, value in rows), default=0) or 1
    room = width - label_width - 50
    bars, labels = [], []
    for n, (name, value) in enumerate(rows):
        y = n * row_height + 4
        length = room * value / top
        bars.append(Bar(label_width, y, max(length, 0.5 if value else 0), row_height - 8, kind, f"{name}: {value}"))
        labels.append(Label(label_width - 6, y + row_height - 11, name, "end"))
        labels.append(Label(label_width + length + 6, y + row_height - 11, str(value)))
    return Chart(width, max(len(rows), 1) * row_height + 8, tuple(bars), tuple(labels), title)


def hourly(hours: Sequence[tuple[int, int, int]], title: str, *, width: int = 620, height: int = 180) -> Chart:
    """Two bars per hour (hour of day, first series, second series): documents indexed, items cleared."""
    top = max((max(a, b) for _, a, b in hours), default=0) or 1
    left, bottom = 34, 20
    slot = (width - left) / max(len(hours), 1)
    bar = max(slot / 2 - 2, 1)
    room = height - bottom - 14
    bars, labels = [], [Label(left - 4, 14, str(top), "end"), Label(left - 4, height - bottom, "0", "end")]
    for n, (hour, first, second) in enumerate(hours):
        x = left + n * slot
        for offset, value, kind, what in ((0, first, "indexed", "documents indexed"),
                                          (bar + 1, second, "cleared", "items cleared")):
            size = room * value / top
            bars.append(Bar(x + offset, height - bottom - size, bar, size, kind, f"{hour:02d}:00 {what}: {value}"))
        if len(hours) <= 12 or hour % 2 == 0:
            labels.append(Label(x + slot / 2, height - 5, f"{hour:02d}", "middle"))
    return Chart(width, height, tuple(bars), tuple(labels), title)
