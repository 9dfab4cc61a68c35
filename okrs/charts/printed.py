"""A line chart laid out at a fixed width for print (the board report's PDF), pure.

On screen the chart stretches to its container (percentages and a nested, stretched <svg>:
okrs.charts.geometry); a PDF renderer such as WeasyPrint draws neither reliably, nor styles SVG
from the page's stylesheet. This turns a `LineChart` into absolute pixel positions, drawn by
`components/line_chart_print.html` with presentational attributes only, in the colours the
screen draws it in (the chart carries them: okrs.charts.palette).
"""

from __future__ import annotations

from dataclasses import dataclass

from okrs.charts.geometry import LineChart


@dataclass(frozen=True)
class PrintedLine:
    label: str
    colour: str
    points: str  # pixels of the whole <svg>
    end_x: float
    end_y: float
    end_label: str
    dash_pattern: str  # "" for a solid line


@dataclass(frozen=True)
class PrintedTick:
    at: float
    label: str


@dataclass(frozen=True)
class PrintedChart:
    chart: LineChart
    width: int
    lines: tuple[PrintedLine, ...]
    x_ticks: tuple[PrintedTick, ...]
    y_ticks: tuple[PrintedTick, ...]
    today_x: float | None
    left: float
    right: float
    top: float
    bottom: float


def printed(chart: LineChart, *, width: int = 520) -> PrintedChart:
    """`chart` at `width` pixels (the y labels inside it, on the left)."""
    left, right = chart.margin_left, width - chart.margin_right
    top, bottom = chart.margin_top, chart.plot_bottom
    plot_width = right - left

    def across(percent: str) -> float:
        return round(left + float(percent.rstrip("%")) / 100 * plot_width, 1)

    def line_points(points: str) -> str:
        pairs = (pair.split(",") for pair in points.split())
        scale = plot_width / chart.plot_units
        return " ".join(
            f"{round(left + float(x) * scale, 1)},{round(top + float(y), 1)}" for x, y in pairs
        )

    lines = tuple(
        PrintedLine(
            label=series.label,
            colour=series.colour,  # the screen's, both from okrs.charts.palette
            points=line_points(series.points),
            end_x=across(series.end_x),
            end_y=float(series.end_y),
            end_label=series.end_label,
            dash_pattern=series.dash_pattern,
        )
        for series in chart.series
    )
    # On paper there is room for every label but the crowded ones: keep the major ticks.
    x_ticks = tuple(
        PrintedTick(across(tick.x), tick.label)
        for tick in chart.x_ticks
        if not tick.minor or len(chart.x_ticks) <= 5
    )
    y_ticks = tuple(PrintedTick(float(tick.y), tick.label) for tick in chart.y_ticks)
    return PrintedChart(
        chart=chart,
        width=width,
        lines=lines,
        x_ticks=x_ticks,
        y_ticks=y_ticks,
        today_x=across(chart.today.x) if chart.today else None,
        left=left,
        right=right,
        top=top,
        bottom=bottom,
    )
