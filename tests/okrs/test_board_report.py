"""The board reports: the dashboard and an objective as one PDF page each (WeasyPrint), with the
organization's name, its pathways and the progress chart; another organization's objective is
not found; where WeasyPrint cannot load, a page that says so instead of an error."""

from __future__ import annotations

import io
import os

import pytest
from django.test import Client
from django.urls import reverse

from missionos import pdf
from orgs.models import Role
from tests.builders import build_organization
from tests.factories import ObjectiveFactory

pytestmark = pytest.mark.django_db

needs_weasyprint = pytest.mark.skipif(
    bool(pdf.pdf_unavailable()), reason=pdf.pdf_unavailable() or "WeasyPrint loads"
)
# Where to keep the PDFs made, to look at them (e.g. MISSIONOS_KEEP_PDF=/tmp/reports).
KEEP = os.environ.get("MISSIONOS_KEEP_PDF")


@pytest.fixture
def reference(org, other_org, member_of):
    """An organization of the reference size (4 pathways, 44 projects, 220 tasks)."""
    built = build_organization(org, 44)
    client = Client()
    client.force_login(member_of(org, Role.VIEWER))
    return client, built


def pdf_of(response, name: str):
    from pypdf import PdfReader

    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "application/pdf"
    content = response.content
    assert content.startswith(b"%PDF")
    if KEEP:
        os.makedirs(KEEP, exist_ok=True)
        with open(os.path.join(KEEP, f"{name}.pdf"), "wb") as kept:
            kept.write(content)
    return PdfReader(io.BytesIO(content))


@needs_weasyprint
def test_the_dashboard_report_is_one_page_with_the_pathways_and_the_chart(reference, org, clock):
    client, _ = reference
    response = client.get(reverse("dashboard_report", args=[org.slug]))
    assert response["Content-Disposition"].startswith('inline; filename="acme-board-report-')
    document = pdf_of(response, "dashboard")
    assert len(document.pages) == 1
    text = document.pages[0].extract_text()
    assert "Acme Health" in text
    for i in range(4):
        assert f"Pathway {i}" in text
    assert "Progress over the cycle" in text and "Today" in text  # the chart's marker, drawn


@needs_weasyprint
def test_the_objective_report_is_one_page(reference, org):
    client, built = reference
    objective = built["objective"]
    document = pdf_of(
        client.get(reverse("objective_report", args=[org.slug, objective.pk])), "objective"
    )
    assert len(document.pages) == 1
    text = document.pages[0].extract_text()
    assert "Acme Health" in text and objective.title in text and "Key results" in text


def test_the_reports_html_has_the_chart_svg_and_no_navigation(reference, org, rf):
    from okrs.views.reports import dashboard_report_html

    client, _ = reference
    request = client.get(reverse("org_home", args=[org.slug])).wsgi_request
    html = dashboard_report_html(request)
    assert 'id="report-progress-chart"' in html and "<polyline" in html
    assert "org-nav" not in html and "<button" not in html and "<script" not in html
    assert "Pathway 3" in html


def test_another_organizations_objective_report_is_not_found(reference, org, other_org):
    client, _ = reference
    theirs = ObjectiveFactory(organization=other_org)
    assert client.get(reverse("objective_report", args=[org.slug, theirs.pk])).status_code == 404
    assert client.get(reverse("dashboard_report", args=[other_org.slug])).status_code == 404
    assert (
        client.get(reverse("dashboard_report", args=[org.slug]), {"cycle": "x"}).status_code == 404
    )


def test_without_weasyprint_the_report_says_why_instead_of_failing(reference, org, monkeypatch):
    client, _ = reference
    monkeypatch.setattr(pdf, "pdf_unavailable", lambda: "PDFs cannot be made on this server: test.")
    response = client.get(reverse("dashboard_report", args=[org.slug]))
    assert response.status_code == 503
    assert "PDFs cannot be made on this server: test." in response.content.decode()


def test_the_dashboard_and_the_objective_link_their_reports(reference, org):
    client, built = reference
    home = client.get(reverse("org_home", args=[org.slug]), {"as_of": "2026-01-15"})
    assert f'href="{reverse("dashboard_report", args=[org.slug])}?as_of=2026-01-15"' in (
        home.content.decode()
    )
    objective = built["objective"]
    page = client.get(reverse("objective_detail", args=[org.slug, objective.pk])).content.decode()
    assert f'href="{reverse("objective_report", args=[org.slug, objective.pk])}"' in page
