"""Geometry of server-rendered SVG line charts, pure: no ORM, no Django, tested without a database.

`line_chart()` turns series of (moment, value) points into everything the template
`components/line_chart.html` draws: the lines, the axes' ticks and labels, a "today" marker and a
sentence that says what the chart shows (for screen readers, and under the chart for everyone).

Layout, and why: the <svg> is as wide as its container and `height` pixels tall, with **no
viewBox on the outer element**, so its text is never scaled. A chart scaled as a whole through a
viewBox has 5 px labels on a phone and 20 px ones on a wide screen. Horizontal positions are
therefore percentages of the plot's width (strings such as "37.5%"), vertical ones are pixels.
The lines are drawn in a nested <svg> whose viewBox is `PLOT_UNITS` wide and stretched to the
plot (preserveAspectRatio="none", non-scaling strokes): step lines are only horizontal and
vertical segments, so stretching them distorts nothing. The y labels sit in a left gutter of
`margin_left` pixels outside the <svg> box (the template pads the chart and lets it overflow).

Moments are dates or datetimes in the caller's local time: a datetime is placed by its wall
clock (its tzinfo is ignored), so pass `timezone.localtime(...)` values, never a mix of zones.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from okrs.charts import palette

Moment = date | datetime
Point = tuple[Moment, float]

# The nested <svg> that holds the lines is this many units wide, stretched to the plot's width.
PLOT_UNITS = 1000
DEFAULT_HEIGHT = 220
MARGIN_TOP = 20  # room for the "Today" label above the plot
MARGIN_BOTTOM = 28  # the x labels
MARGIN_LEFT = 44  # "100%" at 12 px, right-aligned, plus a gap
MARGIN_RIGHT = 32  # half of the widest x label ("31 Dec 2025") centred on the last tick
FONT_SIZE = 12
# Labels must not collide at the narrowest size the charts are used at (a phone, or the
# project page's sidebar: about 260 px of plot). At most MAX_X_TICKS labels are placed; when
# there are more than NARROW_X_TICKS, every other one is "minor" and hidden on narrow charts
# (a CSS container query), which leaves at most 4 labels, 65 px or more apart, on 260 px.
MAX_X_TICKS = 7
NARROW_X_TICKS = 4
MAX_Y_INTERVALS = 5
TODAY_EDGE = 0.1
# A range shorter than this (e.g. every point on one day) is widened to this many days around
# its middle, so that the axis still has dates on it and the points do not sit on its edge.
MIN_SPAN_DAYS = 4

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Tick steps tried in order, the first that gives at most MAX_X_TICKS wins: (days, months).
_DAY_STEPS = (1, 2, 3, 7, 14)
_MONTH_STEPS = (1, 2, 3, 6, 12)


class YFormat(StrEnum):
    PERCENT = "percent"  # values are fractions: 0.48 -> "48%"
    COUNT = "count"  # values are counts: 12 -> "12"


@dataclass(frozen=True)
class Series:
    """Points of one line. A value holds until the next point (step-wise), so the caller adds a
    last point at "now" to carry the line up to today. `key` names the line: its colour and
    pattern (okrs.charts.palette) and its CSS class."""

    label: str
    points: Sequence[Point]
    key: str = ""


@dataclass(frozen=True)
class XTick:
    x: str  # percentage of the plot's width, e.g. "37.5%"
    label: str
    minor: bool = False  # hidden when the chart is narrow


@dataclass(frozen=True)
class YTick:
    y: str  # pixels from the top of the <svg>
    label: str


@dataclass(frozen=True)
class DrawnSeries:
    label: str
    key: str
    points: str  # the <polyline> points, in plot units (x 0..PLOT_UNITS, y 0..plot_height)
    end_x: str  # where the last point is, for its dot: percentage ...
    end_y: str  # ... and pixels from the top of the <svg>
    end_label: str  # the last value, e.g. "48%"
    colour: str = palette.DEFAULT_STYLE.colour  # okrs.charts.palette, by key
    dashed: bool = False

    @property
    def dash_pattern(self) -> str:
        return palette.DASH_PATTERN if self.dashed else ""


@dataclass(frozen=True)
class TodayMarker:
    x: str
    # The label sits above the plot, centred on the line, or beside it near either edge so that
    # it stays inside the chart.
    anchor: str = "middle"
    label: str = "Today"


@dataclass(frozen=True)
class LineChart:
    title: str
    summary: str
    height: int
    margin_top: int
    margin_bottom: int
    margin_left: int
    margin_right: int
    series: tuple[DrawnSeries, ...]
    x_ticks: tuple[XTick, ...]
    y_ticks: tuple[YTick, ...]
    today: TodayMarker | None
    y_top: float  # the value at the top of the plot (1.0 for percentages)
    plot_units: int = PLOT_UNITS
    ink: palette.ChartInk = palette.INK

    @property
    def plot_height(self) -> int:
        return self.height - self.margin_top - self.margin_bottom

    @property
    def plot_bottom(self) -> int:
        return self.height - self.margin_bottom

    @property
    def x_label_y(self) -> int:
        return self.height - 8

    @property
    def today_label_y(self) -> int:
        # Above the plot, clear of the lines, which may well run along its top.
        return self.margin_top - 6

    @property
    def is_empty(self) -> bool:
        return not self.series

    @property
    def has_legend(self) -> bool:
        return len(self.series) > 1


def line_chart(
    series: Sequence[Series],
    *,
    start: Moment,
    end: Moment,
    y_max: float = 1.0,
    y_format: YFormat = YFormat.PERCENT,
    today: Moment | None = None,
    title: str = "",
    height: int = DEFAULT_HEIGHT,
) -> LineChart:
    """The geometry of a step-wise line chart of `series` from `start` to `end`.

    `y_max` is the top of the y axis: 1.0 for percentages; for counts the largest count, which
    is rounded up to a round number. `today` (a day, or the moment now) is marked with a line.
    Values and moments outside the ranges are drawn at the edge (clamped). Series without
    points are left out; with none left, `is_empty` is true and the caller shows an empty
    state instead. A date as `end` is its midnight: pass the day after to include a day.
    """
    x0, x1 = _x_range(_days(start), _days(end))
    y_top = 1.0 if y_format == YFormat.PERCENT else _nice_top(y_max)
    plot_height = height - MARGIN_TOP - MARGIN_BOTTOM

    def x_fraction(moment: Moment) -> float:
        return (_clamp(_days(moment), x0, x1) - x0) / (x1 - x0)

    def y_pixels(value: float) -> float:
        # From the top of the plot: the top value is 0, zero is plot_height.
        return plot_height * (1 - _clamp(value, 0.0, y_top) / y_top)

    drawn = []
    for line in series:
        points = sorted(line.points, key=lambda point: _days(point[0]))
        if not points:
            continue
        coordinates = _steps(
            [(x_fraction(moment) * PLOT_UNITS, y_pixels(value)) for moment, value in points]
        )
        last_moment, last_value = points[-1]
        key = line.key or f"series-{len(drawn)}"
        style = palette.series_style(key)
        drawn.append(
            DrawnSeries(
                label=line.label,
                key=key,
                points=" ".join(f"{_num(x)},{_num(y)}" for x, y in coordinates),
                end_x=_percent_position(x_fraction(last_moment)),
                end_y=_num(MARGIN_TOP + y_pixels(last_value)),
                end_label=format_value(last_value, y_format),
                colour=style.colour,
                dashed=style.dashed,
            )
        )

    # The last day drawn: a range ending at midnight shows none of the day that begins there.
    spans_years = _date(x0).year != _date(math.ceil(x1) - 1).year
    x_ticks = tuple(
        XTick(
            x=_percent_position((_days(day) - x0) / (x1 - x0)),
            label=date_label(day, with_year=spans_years and (i == 0 or day.month == 1)),
            minor=minor,
        )
        for i, (day, minor) in enumerate(_x_tick_days(x0, x1))
    )
    y_ticks = tuple(
        YTick(y=_num(MARGIN_TOP + y_pixels(value)), label=format_value(value, y_format))
        for value in _y_tick_values(y_top, y_format)
    )
    marker = None
    if today is not None and x0 <= _days(today) <= x1:
        fraction = (_days(today) - x0) / (x1 - x0)
        anchor = "start" if fraction < TODAY_EDGE else "end" if fraction > 1 - TODAY_EDGE else ""
        marker = TodayMarker(x=_percent_position(fraction), anchor=anchor or "middle")
    return LineChart(
        title=title,
        summary=summarize(series, y_format=y_format, with_year=spans_years),
        height=height,
        margin_top=MARGIN_TOP,
        margin_bottom=MARGIN_BOTTOM,
        margin_left=MARGIN_LEFT,
        margin_right=MARGIN_RIGHT,
        series=tuple(drawn),
        x_ticks=x_ticks,
        y_ticks=y_ticks,
        today=marker,
        y_top=y_top,
    )


def summarize(series: Sequence[Series], *, y_format: YFormat, with_year: bool = False) -> str:
    """One sentence per series: "Progress rose from 12% on 1 Oct to 48% on 20 Nov."."""
    sentences = []
    for line in series:
        points = sorted(line.points, key=lambda point: _days(point[0]))
        if not points:
            continue
        (first_at, first), (last_at, last) = points[0], points[-1]
        first_text, last_text = format_value(first, y_format), format_value(last, y_format)
        first_day = date_label(_date(_days(first_at)), with_year=with_year)
        last_day = date_label(_date(_days(last_at)), with_year=with_year)
        if len(points) == 1:
            sentences.append(f"{line.label} stood at {last_text} on {last_day}.")
        # Compared as shown, so 47.9% and 48.1% do not "rise from 48% to 48%".
        elif first_text == last_text:
            sentences.append(f"{line.label} held at {last_text} from {first_day} to {last_day}.")
        else:
            verb = "rose" if last > first else "fell"
            sentences.append(
                f"{line.label} {verb} from {first_text} on {first_day}"
                f" to {last_text} on {last_day}."
            )
    return " ".join(sentences) or "No data yet."


def format_value(value: float, y_format: YFormat) -> str:
    if y_format == YFormat.PERCENT:
        return f"{round(value * 100)}%"
    return str(round(value)) if float(value).is_integer() else f"{value:.1f}"


def date_label(day: date, *, with_year: bool = False) -> str:
    """Short and unambiguous in any locale: "6 Oct", or "6 Oct 2025"."""
    label = f"{day.day} {MONTHS[day.month - 1]}"
    return f"{label} {day.year}" if with_year else label


# Helpers. Moments become "days": the proleptic ordinal of the date plus the fraction of the
# day gone, so dates and datetimes share one axis and no timezone arithmetic is needed.


def _days(moment: Moment) -> float:
    if isinstance(moment, datetime):
        seconds = moment.hour * 3600 + moment.minute * 60 + moment.second
        return moment.toordinal() + (seconds + moment.microsecond / 1e6) / 86400
    return float(moment.toordinal())


def _date(days: float) -> date:
    return date.fromordinal(math.floor(days))


def _clamp(value: float, low: float, high: float) -> float:
    return min(high, max(low, value))


def _num(value: float) -> str:
    """Coordinates with one decimal, never in a locale's format ("12.5", not "12,5")."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _percent_position(fraction: float) -> str:
    return f"{_num(fraction * 100)}%"


def _x_range(x0: float, x1: float) -> tuple[float, float]:
    if x1 < x0:
        x0, x1 = x1, x0
    if x1 - x0 < MIN_SPAN_DAYS:
        middle = (x0 + x1) / 2
        x0, x1 = middle - MIN_SPAN_DAYS / 2, middle + MIN_SPAN_DAYS / 2
    return x0, x1


def _steps(coordinates: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """A value holds until the next point: go across at the old value, then up or down."""
    stepped: list[tuple[float, float]] = []
    for x, y in coordinates:
        if stepped and stepped[-1][1] != y:
            stepped.append((x, stepped[-1][1]))
        if not stepped or stepped[-1] != (x, y):
            stepped.append((x, y))
    return stepped


def _x_tick_days(x0: float, x1: float) -> list[tuple[date, bool]]:
    """Days to label, and whether each is minor (hidden when narrow).

    The smallest step that gives at most MAX_X_TICKS labels: whole days, then weeks (on
    Mondays), then months (on the 1st). Past NARROW_X_TICKS, every other tick is minor.
    """
    first, last = _date(math.ceil(x0)), _date(math.floor(x1))
    days: list[date] = []
    for step in _DAY_STEPS:
        start = first
        if step % 7 == 0:
            start = first + timedelta(days=(7 - first.weekday()) % 7)
        days = _every(start, last, timedelta(days=step))
        if len(days) <= MAX_X_TICKS:
            break
    else:
        for months in _MONTH_STEPS:
            days = _months(first, last, months)
            if len(days) <= MAX_X_TICKS:
                break
    crowded = len(days) > NARROW_X_TICKS
    return [(day, crowded and i % 2 == 1) for i, day in enumerate(days)]


def _every(start: date, last: date, step: timedelta) -> list[date]:
    days = []
    while start <= last:
        days.append(start)
        start += step
    return days


def _months(first: date, last: date, months: int) -> list[date]:
    """The 1st of every `months`-th month from the first 1st on or after `first`, aligned to
    the calendar (quarters start in Jan, Apr, Jul, Oct)."""
    index = first.year * 12 + first.month - 1 + (first.day > 1)
    index += -index % months
    days = []
    while (day := date(index // 12, index % 12 + 1, 1)) <= last:
        days.append(day)
        index += months
    return days


def _nice_top(y_max: float) -> float:
    """The top of a count axis: `y_max` rounded up to a multiple of a 1-2-5 step."""
    return _count_step(y_max) * max(1, math.ceil(max(y_max, 0) / _count_step(y_max)))


def _count_step(y_max: float) -> int:
    """The smallest 1-2-5 step that splits [0, y_max] into at most MAX_Y_INTERVALS."""
    magnitude = 1
    while True:
        for multiple in (1, 2, 5):
            step = multiple * magnitude
            if math.ceil(max(y_max, 0) / step) <= MAX_Y_INTERVALS:
                return step
        magnitude *= 10


def _y_tick_values(y_top: float, y_format: YFormat) -> list[float]:
    if y_format == YFormat.PERCENT:
        return [i / 4 * y_top for i in range(5)]
    step = _count_step(y_top)
    return [float(i * step) for i in range(round(y_top / step) + 1)]
