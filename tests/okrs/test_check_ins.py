"""Check-ins, whichever way they are written: the service, the admin (as a superuser through
Django's test client) and the check-in form keep one rule each.

- A key result's current value follows its latest live check-in
  (`okrs.services.key_result_follow_latest_check_in`).
- A yes/no key result's check-in is 0 or 1 (`KeyResult.validate_check_in_value`, run by
  `CheckIn.clean`).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from okrs import rollups, services
from okrs.forms import CheckInForm
from okrs.models import CheckIn, KeyResult, MetricType
from tests.factories import CheckInFactory, KeyResultFactory

pytestmark = pytest.mark.django_db

YES_NO_ERROR = "A yes/no key result takes 1 (done) or 0 (not done)."
DAY_1 = datetime.datetime(2025, 10, 1, 9, 0, tzinfo=datetime.UTC)


def on_day(day: int) -> datetime.datetime:
    return DAY_1 + datetime.timedelta(days=day - 1)


def admin_form_data(
    key_result: KeyResult,
    *,
    value: Decimal | str,
    at: datetime.datetime,
    confidence: int | None = None,
    archived_at: datetime.datetime | None = None,
) -> dict[str, str]:
    """What the check-in admin's form posts (its date-times are split into a date and a time)."""
    data = {
        "organization": str(key_result.organization_id),
        "key_result": str(key_result.pk),
        "value": str(value),
        "confidence": "" if confidence is None else str(confidence),
        "note": "",
        "author": "",
        "checked_in_at_0": at.strftime("%Y-%m-%d"),
        "checked_in_at_1": at.strftime("%H:%M:%S"),
        "archived_at_0": archived_at.strftime("%Y-%m-%d") if archived_at else "",
        "archived_at_1": archived_at.strftime("%H:%M:%S") if archived_at else "",
    }
    return data


def admin_add(client, key_result: KeyResult, **fields) -> CheckIn:
    check_ins = CheckIn.objects.for_org(key_result.organization_id, include_archived=True)
    before = set(check_ins.values_list("pk", flat=True))
    response = client.post(reverse("admin:okrs_checkin_add"), admin_form_data(key_result, **fields))
    assert response.status_code == 302, response.context["adminform"].form.errors
    return check_ins.exclude(pk__in=before).get()


def admin_change(client, check_in: CheckIn, key_result: KeyResult | None = None, **fields):
    response = client.post(
        reverse("admin:okrs_checkin_change", args=[check_in.pk]),
        admin_form_data(key_result or check_in.key_result, **fields),
    )
    assert response.status_code == 302, response.context["adminform"].form.errors


def current(key_result: KeyResult) -> tuple[Decimal, int | None]:
    key_result.refresh_from_db()
    return key_result.current_value, key_result.confidence


def dashboard_value(key_result: KeyResult) -> Decimal:
    """The key result's value as the dashboard reads history (okrs.rollups), as of now."""
    return (
        KeyResult.objects.for_org(key_result.organization_id)
        .annotate(value_now=rollups.key_result_value(timezone.now()))
        .values_list("value_now", flat=True)
        .get(pk=key_result.pk)
    )


# The current value follows the latest live check-in.

# (value, moment, confidence) and what the key result stands at afterwards.
CHECK_INS = [
    ((Decimal(20), on_day(1), 6), (Decimal(20), 6)),
    # Without a confidence, the last one given stays.
    ((Decimal(35), on_day(3), None), (Decimal(35), 6)),
    # Backdated: recorded last, but not the latest.
    ((Decimal(10), on_day(2), 4), (Decimal(35), 6)),
    # At the same moment as the latest: the later row wins, as the dashboard and charts read.
    ((Decimal(50), on_day(3), 8), (Decimal(50), 8)),
]


def test_the_service_and_the_admin_agree_on_the_current_value(org, admin_client):
    by_service = KeyResultFactory(organization=org, current_value=0, target_value=100)
    by_admin = KeyResultFactory(organization=org, current_value=0, target_value=100)
    for (value, at, confidence), expected in CHECK_INS:
        services.check_in_create(
            key_result=by_service,
            value=value,
            confidence=confidence,
            author=None,
            checked_in_at=at,
        )
        admin_add(admin_client, by_admin, value=value, at=at, confidence=confidence)
        assert current(by_service) == current(by_admin) == expected
        assert dashboard_value(by_service) == dashboard_value(by_admin) == expected[0]


@pytest.fixture
def history(org):
    """A key result at 30 (day 2), with an earlier check-in at 10 (day 1)."""
    key_result = KeyResultFactory(organization=org, current_value=30, confidence=7)
    first = CheckInFactory(
        organization=org, key_result=key_result, value=10, checked_in_at=on_day(1)
    )
    latest = CheckInFactory(
        organization=org, key_result=key_result, value=30, checked_in_at=on_day(2)
    )
    return key_result, first, latest


def test_editing_the_latest_check_in_in_the_admin_moves_the_current_value(history, admin_client):
    key_result, _, latest = history
    admin_change(admin_client, latest, value=Decimal(40), at=on_day(2), confidence=5)
    assert current(key_result) == (Decimal(40), 5)
    # Moved back before the other one, it is no longer the latest.
    admin_change(
        admin_client, latest, value=Decimal(40), at=on_day(1) - datetime.timedelta(hours=1)
    )
    assert current(key_result) == (Decimal(10), 5)
    assert dashboard_value(key_result) == 10


def test_archiving_the_latest_check_in_in_the_admin_follows_the_one_before(history, admin_client):
    key_result, _, latest = history
    admin_change(admin_client, latest, value=Decimal(30), at=on_day(2), archived_at=on_day(3))
    # Archived check-ins are not history (the dashboard, the charts and the service agree).
    assert current(key_result)[0] == dashboard_value(key_result) == 10


def test_deleting_a_check_in_in_the_admin_follows_the_one_before(history, admin_client):
    key_result, first, latest = history
    response = admin_client.post(
        reverse("admin:okrs_checkin_delete", args=[latest.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not CheckIn.objects.unscoped(include_archived=True).filter(pk=latest.pk).exists()
    assert current(key_result)[0] == dashboard_value(key_result) == 10
    # The last one gone, there is nothing to follow: the value stays as it was.
    admin_client.post(reverse("admin:okrs_checkin_delete", args=[first.pk]), {"post": "yes"})
    assert (
        not CheckIn.objects.unscoped(include_archived=True).filter(key_result=key_result).exists()
    )
    assert current(key_result)[0] == 10


def test_deleting_check_ins_in_bulk_in_the_admin_follows_what_is_left(history, admin_client):
    key_result, _, latest = history
    response = admin_client.post(
        reverse("admin:okrs_checkin_changelist"),
        {"action": "delete_selected", "_selected_action": [latest.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not CheckIn.objects.unscoped(include_archived=True).filter(pk=latest.pk).exists()
    assert current(key_result)[0] == dashboard_value(key_result) == 10


def test_moving_a_check_in_to_another_key_result_in_the_admin_updates_both(
    org, history, admin_client
):
    key_result, _, latest = history
    other = KeyResultFactory(organization=org, current_value=0)
    admin_change(admin_client, latest, key_result=other, value=Decimal(30), at=on_day(2))
    assert current(key_result)[0] == dashboard_value(key_result) == 10
    assert current(other)[0] == dashboard_value(other) == 30


# A yes/no key result's check-in is 0 or 1, on every path.


@pytest.fixture
def yes_no(org):
    return KeyResultFactory(
        organization=org, metric_type=MetricType.YES_NO, start_value=0, target_value=1
    )


def test_the_service_refuses_a_yes_no_value_other_than_0_or_1(yes_no):
    with pytest.raises(ValidationError) as refused:
        services.check_in_create(key_result=yes_no, value=Decimal(2), confidence=None, author=None)
    assert refused.value.message_dict == {"value": [YES_NO_ERROR]}
    assert not CheckIn.objects.unscoped(include_archived=True).filter(key_result=yes_no).exists()
    services.check_in_create(key_result=yes_no, value=Decimal(1), confidence=None, author=None)
    assert current(yes_no)[0] == 1


def test_other_metrics_take_any_value(org):
    key_result = KeyResultFactory(organization=org, metric_type=MetricType.NUMBER)
    services.check_in_create(key_result=key_result, value=Decimal(2), confidence=None, author=None)
    assert current(key_result)[0] == 2


def test_the_admin_refuses_a_yes_no_value_other_than_0_or_1(yes_no, admin_client):
    response = admin_client.post(
        reverse("admin:okrs_checkin_add"), admin_form_data(yes_no, value="2", at=on_day(1))
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"value": [YES_NO_ERROR]}
    assert YES_NO_ERROR in response.content.decode()
    assert not CheckIn.objects.unscoped(include_archived=True).filter(key_result=yes_no).exists()
    # Nor may an existing check-in be changed to it.
    check_in = admin_add(admin_client, yes_no, value="1", at=on_day(1))
    response = admin_client.post(
        reverse("admin:okrs_checkin_change", args=[check_in.pk]),
        admin_form_data(yes_no, value="2", at=on_day(1)),
    )
    assert response.context["adminform"].form.errors == {"value": [YES_NO_ERROR]}
    check_in.refresh_from_db()
    assert check_in.value == 1


def test_the_check_in_form_shows_the_rule_beside_the_value(yes_no):
    form = CheckInForm(data={"value": "2"}, key_result=yes_no)
    assert form.errors == {"value": [YES_NO_ERROR]}
    assert CheckInForm(data={"value": "0"}, key_result=yes_no).is_valid()
