"""The charts' colours have one home (okrs.charts.palette): every series key the chart builders
emit has its style there, the screen chart, its legend and the board report's printed chart
draw the same chart in the same colours, and no stylesheet overrides them (issue 14)."""

from __future__ import annotations

import datetime
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from health.charts import score_trend
from health.models import HealthSnapshot
from okrs.charts import palette
from okrs.charts.pages import (
    dashboard_progress_chart,
    objective_progress_chart,
    pathway_progress_chart,
    project_burnup_chart,
)
from okrs.charts.printed import printed
from tests.factories import (
    CheckInFactory,
    CycleFactory,
    KeyResultFactory,
    ObjectiveFactory,
    PathwayFactory,
    ProjectFactory,
    TaskFactory,
)

STYLESHEETS = ("css/app.css", "css/charts.css", "css/report.css")


class _Elements(HTMLParser):
    """Every start tag with its attributes and the classes of the elements around it."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.found: list[tuple[str, dict[str, str], list[str]]] = []

    def handle_starttag(self, tag, attrs):
        self.handle_startendtag(tag, attrs)
        self.open.append(dict(attrs).get("class") or tag)

    def handle_startendtag(self, tag, attrs):
        self.found.append((tag, {k: v or "" for k, v in attrs}, list(self.open)))

    def handle_endtag(self, tag):
        self.open.pop()


def _elements(html: str) -> list[tuple[str, dict[str, str], list[str]]]:
    parser = _Elements()
    parser.feed(html)
    return parser.found


def _ink(attrs: dict[str, str], paint: str) -> tuple[str, str]:
    return attrs.get(paint, ""), attrs.get("stroke-dasharray", "")


def screen_colours(html: str) -> dict[str, list[tuple[str, str]]]:
    found = _elements(html)
    return {
        "lines": [
            _ink(a, "stroke")
            for tag, a, around in found
            if tag == "polyline" and "chart-line" in a.get("class", "")
        ],
        "dots": [(a.get("fill", ""), "") for tag, a, _ in found if tag == "circle"],
        "legend": [_ink(a, "stroke") for tag, a, around in found if "chart-swatch" in around],
    }


def print_colours(html: str) -> dict[str, list[tuple[str, str]]]:
    found = _elements(html)
    return {
        "lines": [_ink(a, "stroke") for tag, a, _ in found if tag == "polyline"],
        "dots": [(a.get("fill", ""), "") for tag, a, _ in found if tag == "circle"],
        "legend": [_ink(a, "stroke") for tag, a, around in found if "swatch" in around],
    }


@pytest.fixture
def charts(org):
    """The dashboard (seven pathways: the palette's six colours and one repeated), objective,
    pathway, project burn-up and data health trend charts, each with something to draw."""
    now = timezone.now()
    today = timezone.localdate()
    cycle = CycleFactory(
        organization=org,
        starts_on=today - datetime.timedelta(days=30),
        ends_on=today + datetime.timedelta(days=60),
    )
    pathways, objectives = [], []
    for position in range(len(palette.PATHWAY_COLOURS) + 1):
        pathway = PathwayFactory(organization=org, position=position)
        objective = ObjectiveFactory(organization=org, pathway=pathway, cycle=cycle)
        kr = KeyResultFactory(organization=org, objective=objective, current_value=40)
        CheckInFactory(
            organization=org,
            key_result=kr,
            value=10 * position,
            checked_in_at=now - datetime.timedelta(days=position + 1),
        )
        pathways.append(pathway)
        objectives.append(objective)
    project = ProjectFactory(organization=org)
    for days_ago in (9, 5):
        TaskFactory(
            organization=org, project=project, created_at=now - datetime.timedelta(days=days_ago)
        )
    snapshots = [
        HealthSnapshot(organization=org, score=score, computed_at=now - datetime.timedelta(days=d))
        for score, d in ((62, 5), (80, 1))
    ]
    return {
        "dashboard": dashboard_progress_chart(organization=org, pathways=pathways, cycle=cycle),
        "objective": objective_progress_chart(organization=org, objective=objectives[0]),
        "pathway": pathway_progress_chart(organization=org, pathway=pathways[0], cycle=cycle),
        "burn-up": project_burnup_chart(organization=org, project=project),
        "health trend": score_trend(snapshots, now=now),
    }


@pytest.mark.django_db
def test_screen_legend_and_print_draw_each_chart_in_the_palettes_colours(charts):
    for name, chart in charts.items():
        assert chart is not None and not chart.is_empty, name
        keys = [series.key for series in chart.series]
        # Every key the builders emit is named in the palette (none falls back to the default).
        assert set(keys) <= set(palette.SERIES), (name, keys)
        expected = [
            (palette.SERIES[key].colour, palette.DASH_PATTERN if palette.SERIES[key].dashed else "")
            for key in keys
        ]
        screen_html = render_to_string("components/line_chart.html", {"chart": chart, "id": "c"})
        print_html = render_to_string(
            "components/line_chart_print.html", {"printed": printed(chart), "id": "p"}
        )
        screen, paper = screen_colours(screen_html), print_colours(print_html)
        assert screen["lines"] == paper["lines"] == expected, name
        assert screen["dots"] == paper["dots"] == [(colour, "") for colour, _ in expected], name
        legend = expected if chart.has_legend else []
        assert screen["legend"] == paper["legend"] == legend, name
        ink = chart.ink
        for colour in (ink.grid, ink.axis, ink.label, ink.today, ink.halo):
            assert colour in screen_html and colour in print_html, (name, colour)
    dashboard = [series.key for series in charts["dashboard"].series]
    assert len(set(dashboard)) == len(palette.PATHWAY_COLOURS)  # six colours, the 7th repeats
    assert dashboard[-1] == dashboard[0]


def test_every_key_has_exactly_one_style_and_pathway_lines_are_told_apart():
    colours = [palette.series_style(palette.pathway_key(i)).colour for i in range(12)]
    assert colours[:6] == list(palette.PATHWAY_COLOURS) and colours[6:] == colours[:6]
    assert len(set(palette.PATHWAY_COLOURS)) == len(palette.PATHWAY_COLOURS)
    for style in palette.SERIES.values():
        assert re.fullmatch(r"#[0-9a-f]{6}", style.colour)


def test_no_stylesheet_colours_a_chart():
    """A stroke or fill in CSS beats an SVG presentational attribute: the screen would drift
    from the palette (and so from the PDF) again."""
    offending = []
    for name in STYLESHEETS:
        css = (Path(settings.BASE_DIR) / "static" / name).read_text()
        css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
        for selector, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
            if "chart" not in selector and "svg" not in selector:
                continue
            if re.search(r"(?<![-\w])(stroke|fill|--series)\s*:", body):
                offending.append(f"{name}: {selector.strip()}")
    assert not offending, offending
