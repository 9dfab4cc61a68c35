"""The geometry of the SVG line charts (okrs.charts.geometry): pure, no database."""

from __future__ import annotations

import datetime
import itertools

import pytest

from okrs.charts.geometry import (
    MARGIN_BOTTOM,
    MARGIN_TOP,
    MAX_X_TICKS,
    NARROW_X_TICKS,
    PLOT_UNITS,
    Series,
    YFormat,
    date_label,
    format_value,
    line_chart,
    summarize,
)

OCT_1 = datetime.date(2025, 10, 1)  # a Wednesday
HEIGHT = 220
PLOT_HEIGHT = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM  # 172


def days(n: int) -> datetime.date:
    return OCT_1 + datetime.timedelta(days=n)


def chart(points, *, start=OCT_1, end=None, **options):
    return line_chart(
        [Series("Progress", points)], start=start, end=end or days(10), height=HEIGHT, **options
    )


def test_percent_axis_has_five_labelled_ticks_from_bottom_to_top():
    drawn = chart([(OCT_1, 0.5)])
    assert [tick.label for tick in drawn.y_ticks] == ["0%", "25%", "50%", "75%", "100%"]
    assert [tick.y for tick in drawn.y_ticks] == ["192", "149", "106", "63", "20"]
    assert drawn.plot_height == PLOT_HEIGHT
    assert drawn.y_ticks[0].y == str(drawn.plot_bottom)
    assert drawn.y_ticks[-1].y == str(drawn.margin_top)


@pytest.mark.parametrize(
    ("largest", "labels"),
    [
        (0, ["0", "1"]),
        (3, ["0", "1", "2", "3"]),
        (7, ["0", "2", "4", "6", "8"]),
        (10, ["0", "2", "4", "6", "8", "10"]),
        (23, ["0", "5", "10", "15", "20", "25"]),
        (240, ["0", "50", "100", "150", "200", "250"]),
    ],
)
def test_count_axis_rounds_up_to_a_round_number(largest, labels):
    drawn = chart([(OCT_1, largest)], y_max=largest, y_format=YFormat.COUNT)
    assert [tick.label for tick in drawn.y_ticks] == labels
    assert drawn.y_top == int(labels[-1])


def test_values_hold_until_the_next_point():
    drawn = chart([(OCT_1, 0.0), (days(5), 0.5), (days(10), 0.5)])
    # y is pixels down from the plot's top: 0% is PLOT_HEIGHT (172), 50% is 86.
    assert drawn.series[0].points == "0,172 500,172 500,86 1000,86"
    assert (drawn.series[0].end_x, drawn.series[0].end_label) == ("100%", "50%")
    assert drawn.series[0].end_y == str(MARGIN_TOP + 86)


def test_points_are_sorted_and_datetimes_placed_within_their_day():
    noon = datetime.datetime(2025, 10, 3, 12, 0)
    drawn = chart([(days(4), 0.25), (noon, 0.0)], end=days(4))
    # 2.5 of 4 days = 625 units; the value 0 holds until day 4, then 25%.
    assert drawn.series[0].points == "625,172 1000,172 1000,129"


def test_values_and_moments_outside_the_ranges_are_clamped():
    drawn = chart([(days(-3), 1.7), (days(2), -0.2), (days(30), 0.5)])
    assert drawn.series[0].points == "0,0 200,0 200,172 1000,172 1000,86"
    counts = chart([(OCT_1, 12)], y_max=5, y_format=YFormat.COUNT)
    assert counts.series[0].end_y == str(MARGIN_TOP)  # drawn at the top (5), labelled 12
    assert counts.series[0].end_label == "12"


def test_a_single_point_is_a_dot_and_a_sentence():
    drawn = chart([(days(2), 0.3)])
    (series,) = drawn.series
    assert series.points == "200,120.4"
    assert (series.end_x, series.end_label) == ("20%", "30%")
    assert drawn.summary == "Progress stood at 30% on 3 Oct."


def test_points_all_on_one_day_widen_the_range_around_that_day():
    day = datetime.datetime(2025, 10, 6, 0, 0)
    drawn = chart([(day, 0.2), (day.replace(hour=12), 0.4)], start=day, end=day.replace(hour=12))
    # Four days around the middle (06:00): 4 Oct 06:00 to 8 Oct 06:00.
    assert drawn.series[0].points == "437.5,137.6 562.5,137.6 562.5,103.2"
    assert [tick.label for tick in drawn.x_ticks] == ["5 Oct", "6 Oct", "7 Oct", "8 Oct"]
    assert [tick.x for tick in drawn.x_ticks] == ["18.8%", "43.8%", "68.8%", "93.8%"]


def test_no_points_is_empty_and_other_series_still_draw():
    assert chart([]).is_empty
    assert chart([]).summary == "No data yet."
    drawn = line_chart(
        [Series("Scope", [], key="scope"), Series("Done", [(OCT_1, 2)], key="done")],
        start=OCT_1,
        end=days(10),
        y_max=2,
        y_format=YFormat.COUNT,
    )
    assert [series.key for series in drawn.series] == ["done"]
    assert not drawn.is_empty and not drawn.has_legend


def test_a_quarter_is_labelled_every_other_monday_and_narrow_charts_keep_four():
    drawn = chart([(OCT_1, 0.1)], end=datetime.date(2025, 12, 31))
    labels = [tick.label for tick in drawn.x_ticks]
    assert labels == ["6 Oct", "20 Oct", "3 Nov", "17 Nov", "1 Dec", "15 Dec", "29 Dec"]
    assert [tick.minor for tick in drawn.x_ticks] == [False, True] * 3 + [False]
    assert drawn.x_ticks[0].x == "5.5%"  # 5 of 91 days


def test_a_week_is_labelled_every_other_day():
    drawn = chart([(OCT_1, 0.1)], end=days(7))
    assert [tick.label for tick in drawn.x_ticks] == ["1 Oct", "3 Oct", "5 Oct", "7 Oct"]
    assert [tick.x for tick in drawn.x_ticks] == ["0%", "28.6%", "57.1%", "85.7%"]
    assert not any(tick.minor for tick in drawn.x_ticks)


def test_long_ranges_are_labelled_on_the_first_of_months_with_the_year_when_it_changes():
    drawn = chart([(OCT_1, 0.1)], start=datetime.date(2024, 11, 1), end=datetime.date(2026, 3, 1))
    assert [tick.label for tick in drawn.x_ticks] == [
        "1 Jan 2025",
        "1 Apr",
        "1 Jul",
        "1 Oct",
        "1 Jan 2026",
    ]


def _label_px(label: str) -> float:
    # 12 px system-ui: digits and lowercase are at most ~7 px wide on average.
    return len(label) * 7


@pytest.mark.parametrize("span", [4, 5, 6, 9, 13, 20, 30, 45, 61, 90, 120, 200, 365, 500, 900])
def test_labels_never_collide(span):
    """At most MAX_X_TICKS labels; at the narrowest plot (260 px) the ones left after hiding
    the minor ticks are at least their half-widths plus 6 px apart, and all of them are at the
    560 px container width where minor ticks come back (about 480 px of plot)."""
    drawn = chart([(OCT_1, 0.1)], end=days(span))
    ticks = drawn.x_ticks
    assert 2 <= len(ticks) <= MAX_X_TICKS
    shown_narrow = [tick for tick in ticks if not tick.minor]
    assert len(shown_narrow) <= NARROW_X_TICKS
    for visible, plot_px in ((shown_narrow, 260), (ticks, 480)):
        for left, right in itertools.pairwise(visible):
            gap = (float(right.x[:-1]) - float(left.x[:-1])) / 100 * plot_px
            assert gap >= (_label_px(left.label) + _label_px(right.label)) / 2 + 6, (left, right)


def test_today_is_marked_only_inside_the_range():
    assert chart([(OCT_1, 0.1)], today=days(5)).today.x == "50%"
    assert chart([(OCT_1, 0.1)], today=days(11)).today is None
    assert chart([(OCT_1, 0.1)], today=days(-1)).today is None
    # Its label is centred above the line, or beside it near an edge.
    assert chart([(OCT_1, 0.1)], today=days(0)).today.anchor == "start"
    assert chart([(OCT_1, 0.1)], today=days(5)).today.anchor == "middle"
    assert chart([(OCT_1, 0.1)], today=days(10)).today.anchor == "end"


def test_summary_says_how_each_series_moved():
    rose = [(OCT_1, 0.12), (days(20), 0.3), (datetime.date(2025, 11, 20), 0.48)]
    # The points past the range's end are clamped in the drawing, not in the sentence.
    assert chart(rose).summary == "Progress rose from 12% on 1 Oct to 48% on 20 Nov."
    fell = [(OCT_1, 0.6), (days(3), 0.2)]
    assert chart(fell).summary == "Progress fell from 60% on 1 Oct to 20% on 4 Oct."
    held = [(OCT_1, 0.479), (days(3), 0.481)]  # both shown as 48%
    assert chart(held).summary == "Progress held at 48% from 1 Oct to 4 Oct."
    burnup = summarize(
        [
            Series("Tasks in scope", [(OCT_1, 3), (days(9), 12)]),
            Series("Tasks done", [(OCT_1, 0), (days(9), 5)]),
        ],
        y_format=YFormat.COUNT,
    )
    assert burnup == (
        "Tasks in scope rose from 3 on 1 Oct to 12 on 10 Oct. "
        "Tasks done rose from 0 on 1 Oct to 5 on 10 Oct."
    )


def test_summary_names_years_when_the_chart_spans_two():
    drawn = chart(
        [(datetime.date(2025, 12, 20), 0.1), (datetime.date(2026, 1, 10), 0.2)],
        start=datetime.date(2025, 12, 1),
        end=datetime.date(2026, 1, 31),
    )
    assert drawn.summary == "Progress rose from 10% on 20 Dec 2025 to 20% on 10 Jan 2026."
    # Up to the midnight that starts 1 Jan draws none of 2026: no years.
    december = chart(
        [(datetime.date(2025, 12, 20), 0.1)],
        start=datetime.date(2025, 12, 1),
        end=datetime.date(2026, 1, 1),
    )
    assert december.summary == "Progress stood at 10% on 20 Dec."


def test_series_keys_and_legend():
    drawn = line_chart(
        [Series("Tasks in scope", [(OCT_1, 3)], key="scope"), Series("Tasks done", [(OCT_1, 1)])],
        start=OCT_1,
        end=days(10),
        y_max=3,
        y_format=YFormat.COUNT,
        title="Burn-up",
    )
    assert [series.key for series in drawn.series] == ["scope", "series-1"]
    assert drawn.has_legend and drawn.title == "Burn-up"
    assert drawn.plot_units == PLOT_UNITS


def test_value_and_date_labels():
    assert [format_value(v, YFormat.PERCENT) for v in (0, 0.126, 1)] == ["0%", "13%", "100%"]
    assert [format_value(v, YFormat.COUNT) for v in (0, 12.0, 2.25)] == ["0", "12", "2.2"]
    assert date_label(datetime.date(2025, 10, 6)) == "6 Oct"
    assert date_label(datetime.date(2026, 1, 1), with_year=True) == "1 Jan 2026"
