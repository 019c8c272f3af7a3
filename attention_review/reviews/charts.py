"""Server-side SVG charts: readable without JavaScript and within the CSP (no inline
styles: presentation attributes and classes only)."""

from dataclasses import dataclass

WIDTH = 720
HEIGHT = 200
PAD_LEFT = 36
PAD_BOTTOM = 28
PAD_TOP = 12


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    count: int


@dataclass(frozen=True)
class Tick:
    y: float
    value: int


@dataclass(frozen=True)
class DayLabel:
    x: float
    text: str


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    bars: list[Bar]
    ticks: list[Tick]
    labels: list[DayLabel]
    baseline_y: float
    total: int
    peak: int


def confirmations_per_day_chart(days: list) -> BarChart:
    """Bars for a list of `DayCount`, scaled to the busiest day, with a few axis ticks."""
    plot_width = WIDTH - PAD_LEFT - 8
    plot_height = HEIGHT - PAD_TOP - PAD_BOTTOM
    peak = max((day.count for day in days), default=0)
    scale_top = max(peak, 1)
    slot = plot_width / max(len(days), 1)
    bar_width = max(slot * 0.75, 1.0)
    bars = []
    for index, day in enumerate(days):
        height = plot_height * day.count / scale_top
        bars.append(
            Bar(
                x=round(PAD_LEFT + index * slot + (slot - bar_width) / 2, 2),
                y=round(PAD_TOP + plot_height - height, 2),
                width=round(bar_width, 2),
                height=round(height, 2),
                label=day.day.strftime("%b %-d, %Y"),
                count=day.count,
            )
        )
    tick_values = sorted({0, scale_top // 2, scale_top}) if scale_top > 1 else [0, 1]
    ticks = [
        Tick(y=round(PAD_TOP + plot_height - plot_height * value / scale_top, 2), value=value)
        for value in tick_values
    ]
    every = max(1, round(len(days) / 8))
    labels = [
        DayLabel(x=round(PAD_LEFT + index * slot + slot / 2, 2), text=day.day.strftime("%b %-d"))
        for index, day in enumerate(days)
        if index % every == 0
    ]
    return BarChart(
        width=WIDTH,
        height=HEIGHT,
        bars=bars,
        ticks=ticks,
        labels=labels,
        baseline_y=PAD_TOP + plot_height,
        total=sum(day.count for day in days),
        peak=peak,
    )
