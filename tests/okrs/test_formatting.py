"""One formatting home for key result values (okrs.formatting), used wherever a value shows."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse

from okrs import services
from okrs.formatting import value_text
from okrs.models import MetricType
from orgs.models import Activity, Membership, Role
from tests.factories import CheckInFactory, KeyResultFactory, ObjectiveFactory, UserFactory

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


@pytest.mark.parametrize(
    ("value", "kwargs", "text"),
    [
        (Decimal(1), {"metric_type": "yes_no"}, "Done"),
        (Decimal(0), {"metric_type": "yes_no"}, "Not yet"),
        (Decimal(1), {"metric_type": "milestone", "start": 0, "target": 1}, "Done"),
        (Decimal(0), {"metric_type": "milestone", "start": 0, "target": 1}, "Not yet"),
        (Decimal(3), {"metric_type": "milestone", "start": 0, "target": 5}, "3 of 5 milestones"),
        (Decimal("4.7"), {"unit": "clinics"}, "5 clinics"),
        (Decimal("4.2"), {"unit": "people"}, "4 people"),
        (Decimal("4.7"), {"unit": "hours"}, "4.7 hours"),
        (Decimal("42.50"), {"unit": "%"}, "42.5%"),
        (Decimal("42.5"), {"metric_type": "percentage"}, "42.5%"),
        (Decimal("1234.5"), {}, "1,234.5"),
        (Decimal("-0"), {}, "0"),
        (None, {}, "–"),
    ],
)
def test_values_read_as_what_they_are(value, kwargs, text):
    assert value_text(value, **kwargs) == text


def test_every_template_shows_key_result_values_through_the_one_filter():
    bare = [
        f"{path.relative_to(TEMPLATES)}:{n}"
        for path in TEMPLATES.rglob("*.html")
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if "|metric:" in line
        or ("{{ check_in.value" in line and "|kr_value" not in line)
        or ("_value }}" in line)
    ]
    assert not bare, f"show these values with |kr_value: {bare}"


@pytest.mark.django_db
def test_recent_check_ins_and_the_feed_say_done_and_whole_counts(client, org):
    objective = ObjectiveFactory(organization=org)
    launched = KeyResultFactory(
        organization=org,
        objective=objective,
        title="Launched",
        metric_type=MetricType.YES_NO,
        start_value=0,
        target_value=1,
    )
    clinics = KeyResultFactory(
        organization=org, objective=objective, title="Clinics", unit="clinics", target_value=10
    )
    CheckInFactory(organization=org, key_result=launched, value=1)
    CheckInFactory(organization=org, key_result=clinics, value=Decimal("4.7"))
    services.check_in_create(key_result=launched, value=Decimal(1), confidence=8, author=None)
    user = UserFactory()
    Membership.objects.create(user=user, organization=org, role=Role.VIEWER)
    client.force_login(user)
    html = client.get(reverse("org_home", args=[org.slug])).content.decode()
    assert "<strong>Done</strong>" in html and "<strong>5 clinics</strong>" in html
    assert "<strong>1</strong>" not in html and "4.7" not in html
    page = client.get(reverse("objective_detail", args=[org.slug, objective.pk]))
    assert "4.7" not in page.content.decode()
    assert Activity.objects.for_org(org).get().detail == "Done"
