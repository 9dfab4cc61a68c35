"""The charts' colours: the one home of every colour a line chart is drawn in, on screen
(`components/line_chart.html`) and on paper (`components/line_chart_print.html`, the board
report's PDF). Both templates write them as SVG presentational attributes (stroke="#…",
fill="#…"), and no stylesheet sets them, so the screen, its legend and the PDF cannot drift.

On white: progress/done lines 5.0:1 and scope/score 8.7:1, labels 5.8:1, "Today" 5.2:1, axes
3.1:1; gridlines are decoration only. Green and blue are close in lightness (1.7:1), so the two
burn-up lines also differ in pattern (scope dashed, done solid) and the legend names them:
colour is never the only cue. Pure: no ORM, no Django.
"""

from __future__ import annotations

from dataclasses import dataclass

# The same values as app.css's --accent and --brand (the progress bars, the links).
ACCENT = "#2f7d5b"
BRAND = "#1f4e79"


@dataclass(frozen=True)
class SeriesStyle:
    colour: str
    dashed: bool = False  # drawn with DASH_PATTERN


DASH_PATTERN = "7 4"

# The dashboard's lines, one per pathway, told apart by hue and lightness (readable with the
# common colour-vision deficiencies) and by the legend; repeated for more pathways.
PATHWAY_COLOURS = ("#1f5fbf", "#d9730d", "#2e8b57", "#8e44ad", "#c0392b", "#5d6d7e")

# By series key (okrs.charts.geometry.Series.key): every key the chart builders use.
SERIES: dict[str, SeriesStyle] = {
    "progress": SeriesStyle(ACCENT),  # okrs.charts.pages: objective and pathway progress
    "done": SeriesStyle(ACCENT),  # the project burn-up
    "scope": SeriesStyle(BRAND, dashed=True),
    "score": SeriesStyle(BRAND),  # health.charts: the data health trend
    **{f"pathway-{i}": SeriesStyle(colour) for i, colour in enumerate(PATHWAY_COLOURS)},
}
# A series without a key of its own (okrs.charts.geometry names it "series-<n>").
DEFAULT_STYLE = SeriesStyle(BRAND)


def pathway_key(index: int) -> str:
    """The key of the dashboard's `index`-th pathway line (colours repeat past the palette)."""
    return f"pathway-{index % len(PATHWAY_COLOURS)}"


def series_style(key: str) -> SeriesStyle:
    return SERIES.get(key, DEFAULT_STYLE)


@dataclass(frozen=True)
class ChartInk:
    """The colours of everything but the lines."""

    grid: str = "#e8ebf0"
    axis: str = "#8a94a3"
    label: str = "#5b6676"  # app.css --muted
    today: str = "#a35a00"  # app.css --warn
    halo: str = "#ffffff"  # behind the "Today" label and around the end dots: the card's white


INK = ChartInk()
