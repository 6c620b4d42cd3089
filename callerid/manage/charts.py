"""Bar charts as geometry: where each bar, tick and label goes, for a template to draw as SVG.

Numbers only: the markup (and so the escaping of every label) stays in Jinja. Coordinates are in
the units of the SVG's viewBox; the page scales the drawing to its width."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

WIDTH = 720.0
HEIGHT = 240.0
# Room for the value axis' labels on the left and the category labels below.
LEFT, RIGHT, TOP, BOTTOM = 44.0, 8.0, 12.0, 28.0
# A bar takes this share of its slot; a lone bar does not grow wider than MAX_BAR.
BAR_SHARE = 0.72
MAX_BAR = 56.0
# Right of a horizontal chart's axis: the longest bar's value is written after its end.
VALUE_ROOM = 72.0


@dataclass(frozen=True, slots=True)
class Series:
    """One stacked layer: ``key`` names its CSS class (``chart__bar--<key>``)."""

    key: str
    name: str
    values: Sequence[float]


@dataclass(frozen=True, slots=True)
class Segment:
    key: str
    name: str
    value: float
    y: float
    height: float


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    total: float
    x: float
    width: float
    y: float
    segments: list[Segment]


@dataclass(frozen=True, slots=True)
class Tick:
    """A labelled place on an axis: ``position`` is y on the value axis, x on the category one."""

    value: float
    text: str
    position: float


@dataclass(frozen=True, slots=True)
class BarChart:
    width: float
    height: float
    left: float
    right: float
    top: float
    bottom: float
    bars: list[Bar]
    ticks: list[Tick]
    labels: list[Tick]
    series: list[Series]

    @property
    def maximum(self) -> float:
        return self.ticks[-1].value


@dataclass(frozen=True, slots=True)
class Row:
    label: str
    value: float
    y: float
    width: float


@dataclass(frozen=True, slots=True)
class HorizontalChart:
    """Bars that grow to the right from ``left``, one row each, on a value axis at the bottom."""

    width: float
    height: float
    left: float
    right: float
    row_height: float
    rows: list[Row]
    ticks: list[Tick]


def nice_ticks(maximum: float, count: int = 4, *, whole: bool = True) -> list[float]:
    """Axis ticks from 0 in equal round steps (1, 2 or 5 times a power of ten), about ``count``
    of them after 0, the last at or above ``maximum``. ``whole`` keeps steps of at least 1, for
    counts. A maximum of 0 or less gives [0, 1], so an empty chart still has a scale."""
    if maximum <= 0 or not math.isfinite(maximum):
        return [0.0, 1.0]
    rough = maximum / max(count, 1)
    power = 10.0 ** math.floor(math.log10(rough))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= rough * (1 - 1e-9))
    if whole:
        step = max(step, 1.0)
    steps = math.ceil(maximum / step - 1e-9)
    # Rounding to the step's own decimals keeps 0.1 * 3 from printing as 0.30000000000000004.
    decimals = max(0, -math.floor(math.log10(step)))
    return [round(step * n, decimals) for n in range(steps + 1)]


def tick_text(value: float) -> str:
    """1200 -> "1,200"; 0.5 -> "0.5": whole numbers without a decimal point."""
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,g}"


def bar_chart(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    label_every: int | None = None,
    short_labels: Sequence[str] | None = None,
    width: float = WIDTH,
    height: float = HEIGHT,
) -> BarChart:
    """Vertical bars, one per label, each stacking ``series`` in order from the bottom.

    Heights are proportional to the values on an axis that ends at the first nice tick at or
    above the tallest bar. Category labels (``short_labels`` when given) are drawn under every
    ``label_every``-th bar, by default as many as fit without overlapping."""
    for layer in series:
        if len(layer.values) != len(labels):
            raise ValueError(
                f"series {layer.key!r} has {len(layer.values)} values for {len(labels)} labels"
            )
    totals = [sum(layer.values[i] for layer in series) for i in range(len(labels))]
    ticks = nice_ticks(max(totals, default=0))
    base, plot_height = height - BOTTOM, height - BOTTOM - TOP
    slot = (width - LEFT - RIGHT) / max(len(labels), 1)
    bar_width = min(slot * BAR_SHARE, MAX_BAR)

    def y_of(value: float) -> float:
        return base - value / ticks[-1] * plot_height

    bars = []
    for i, label in enumerate(labels):
        x = LEFT + slot * i + (slot - bar_width) / 2
        segments = _stack([(layer, layer.values[i]) for layer in series], y_of)
        bars.append(Bar(label, totals[i], x, bar_width, y_of(totals[i]), segments))
    every = label_every or max(1, math.ceil(len(labels) / max(1, int((width - LEFT) // 56))))
    names = short_labels or labels
    return BarChart(
        width=width,
        height=height,
        left=LEFT,
        right=width - RIGHT,
        top=TOP,
        bottom=base,
        bars=bars,
        ticks=[Tick(t, tick_text(t), y_of(t)) for t in ticks],
        labels=[
            Tick(i, names[i], LEFT + slot * i + slot / 2) for i in range(0, len(labels), every)
        ],
        series=list(series),
    )


def _stack(layers: list[tuple[Series, float]], y_of: Callable[[float], float]) -> list[Segment]:
    """One bar's segments, bottom up; a zero draws nothing (no hairline at the base)."""
    segments, below = [], 0.0
    for layer, value in layers:
        if value:
            top = y_of(below + value)
            segments.append(Segment(layer.key, layer.name, value, top, y_of(below) - top))
        below += value
    return segments


def horizontal_chart(
    rows: Sequence[tuple[str, float]],
    *,
    width: float = WIDTH,
    label_width: float = 96.0,
    row_height: float = 30.0,
) -> HorizontalChart:
    """One bar per (label, value) row, lengths proportional on a nice axis from 0, for a few
    figures side by side (the screen-pop median and 95th percentile)."""
    ticks = nice_ticks(max((value for _, value in rows), default=0), whole=False)
    length = width - label_width - VALUE_ROOM
    top = 6.0
    return HorizontalChart(
        width=width,
        height=top + row_height * len(rows) + 26,
        left=label_width,
        right=label_width + length,
        row_height=row_height,
        rows=[
            Row(label, value, top + row_height * n, value / ticks[-1] * length)
            for n, (label, value) in enumerate(rows)
        ],
        ticks=[Tick(t, tick_text(t), label_width + t / ticks[-1] * length) for t in ticks],
    )
