"""A chart laid out for print (okrs.charts.printed): absolute positions inside a fixed width,
the screen's colours, no database."""

from __future__ import annotations

import datetime

from okrs.charts import geometry
from okrs.charts.palette import PATHWAY_COLOURS
from okrs.charts.printed import printed


def test_positions_are_pixels_inside_the_width_and_lines_keep_their_colours():
    start = datetime.date(2026, 10, 1)
    chart = geometry.line_chart(
        [
            geometry.Series(
                "Access", [(start, 0.0), (datetime.date(2026, 11, 1), 0.5)], "pathway-0"
            ),
            geometry.Series("Care", [(start, 0.2)], "pathway-1"),
        ],
        start=start,
        end=datetime.date(2027, 1, 1),
        today=datetime.date(2026, 11, 15),
    )
    laid_out = printed(chart, width=480)
    assert laid_out.left == chart.margin_left and laid_out.right == 480 - chart.margin_right
    assert [line.colour for line in laid_out.lines] == list(PATHWAY_COLOURS[:2])
    for line in laid_out.lines:
        for pair in line.points.split():
            x, y = map(float, pair.split(","))
            assert laid_out.left <= x <= laid_out.right
            assert laid_out.top <= y <= laid_out.bottom
    first_x = float(laid_out.lines[0].points.split()[0].split(",")[0])
    assert first_x == laid_out.left  # the cycle's start is the plot's left edge
    assert laid_out.lines[0].end_label == "50%"
    assert laid_out.left < laid_out.today_x < laid_out.right
    assert all(laid_out.left <= tick.at <= laid_out.right for tick in laid_out.x_ticks)
