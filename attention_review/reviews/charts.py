"""Server-side SVG charts (confirmations per day, the weekly share of changed items):
readable without JavaScript and within the CSP (no inline styles: presentation
attributes and classes only)."""

from dataclasses import dataclass
from datetime import date

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
    labels = _date_labels([day.day for day in days], slot)
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


@dataclass(frozen=True)
class ShareBar:
    """One week's stacked bar: the edited share, with the excluded share on top."""

    x: float
    width: float
    edited_y: float
    edited_height: float
    excluded_y: float
    excluded_height: float
    label: str
    total: int
    percent_edited: int
    percent_excluded: int


@dataclass(frozen=True)
class ShareChart:
    width: int
    height: int
    bars: list[ShareBar]
    ticks: list[Tick]
    labels: list[DayLabel]
    baseline_y: float
    weeks_with_items: int


def weekly_changed_share_chart(weeks: list) -> ShareChart:
    """Stacked bars for a list of `WeekShare` on a scale of 0 to 100 %: the share of items
    edited, and above it the share excluded. A week without items has no bar."""
    plot_width = WIDTH - PAD_LEFT - 8
    plot_height = HEIGHT - PAD_TOP - PAD_BOTTOM
    baseline = PAD_TOP + plot_height
    slot = plot_width / max(len(weeks), 1)
    bar_width = max(slot * 0.75, 1.0)
    bars = []
    for index, week in enumerate(weeks):
        if not week.total:
            continue
        edited_height = plot_height * week.edited / week.total
        excluded_height = plot_height * week.excluded / week.total
        bars.append(
            ShareBar(
                x=round(PAD_LEFT + index * slot + (slot - bar_width) / 2, 2),
                width=round(bar_width, 2),
                edited_y=round(baseline - edited_height, 2),
                edited_height=round(edited_height, 2),
                excluded_y=round(baseline - edited_height - excluded_height, 2),
                excluded_height=round(excluded_height, 2),
                label=f"Week of {week.week:%b %-d, %Y}",
                total=week.total,
                percent_edited=round(100 * week.edited / week.total),
                percent_excluded=round(100 * week.excluded / week.total),
            )
        )
    ticks = [
        Tick(y=round(baseline - plot_height * value / 100, 2), value=value)
        for value in (0, 50, 100)
    ]
    labels = _date_labels([week.week for week in weeks], slot)
    return ShareChart(
        width=WIDTH,
        height=HEIGHT,
        bars=bars,
        ticks=ticks,
        labels=labels,
        baseline_y=baseline,
        weeks_with_items=len(bars),
    )


def _date_labels(dates: list[date], slot: float) -> list[DayLabel]:
    """About eight date labels under a chart's bars, centred on their slots."""
    every = max(1, round(len(dates) / 8))
    return [
        DayLabel(x=round(PAD_LEFT + index * slot + slot / 2, 2), text=when.strftime("%b %-d"))
        for index, when in enumerate(dates)
        if index % every == 0
    ]
