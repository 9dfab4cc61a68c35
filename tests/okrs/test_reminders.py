"""Check-ins due and the weekly reminder: the cadence rule (pure), the selector with injected
dates, "My work"'s list, the email (one per person across organizations, HTML and text, each
with its one-click link), once a week whatever beat does, the opt-out and the signed
unsubscribe link."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from okrs import cadence, reminders, selectors, services, tasks
from okrs.models import CheckInReminderOptOut, CheckInReminderSent
from orgs import services as org_services
from orgs.models import AuditEntry, CheckInCadence, Membership, Person, Role
from tests.factories import (
    CycleFactory,
    KeyResultFactory,
    ObjectiveFactory,
    OrganizationFactory,
    PersonFactory,
)

D = datetime.date


# -- the rule, pure --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("last", "kind", "due_on"),
    [
        (D(2026, 12, 1), cadence.WEEKLY, D(2026, 12, 8)),
        (D(2026, 12, 1), cadence.FORTNIGHTLY, D(2026, 12, 15)),
        (D(2026, 12, 28), cadence.WEEKLY, D(2027, 1, 4)),  # across the year's end
        (D(2026, 12, 20), cadence.FORTNIGHTLY, D(2027, 1, 3)),
        (D(2026, 12, 31), cadence.MONTHLY, D(2027, 1, 31)),
        (D(2027, 1, 31), cadence.MONTHLY, D(2027, 2, 28)),  # a shorter month
        (D(2028, 1, 31), cadence.MONTHLY, D(2028, 2, 29)),  # a leap year
        (D(2026, 12, 1), "unknown", D(2026, 12, 8)),  # weekly unless said otherwise
    ],
)
def test_next_due(last, kind, due_on):
    assert cadence.next_due(last, kind) == due_on
    assert not cadence.is_due(last, kind, due_on - datetime.timedelta(days=1))
    assert cadence.is_due(last, kind, due_on)


def test_never_checked_in_is_due_and_weeks_start_on_monday():
    assert cadence.is_due(None, cadence.WEEKLY, D(2026, 12, 4))
    assert cadence.week_of(D(2026, 12, 4)) == D(2026, 11, 30)  # a Friday
    assert cadence.week_of(D(2027, 1, 1)) == D(2026, 12, 28)  # the week spans the new year


# -- the selector ------------------------------------------------------------------------------


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


@pytest.fixture
def owned(org, other_org, member_of):
    """Ada, a member of two organizations, owns key results in both; a cycle runs over the
    year's end in each."""
    ada = member_of(org, Role.MEMBER, username="ada", email="ada@example.org")
    Membership.objects.create(user=ada, organization=other_org, role=Role.MEMBER)
    result = {"user": ada}
    for organization in (org, other_org):
        person = PersonFactory(organization=organization, name="Ada", user=ada)
        cycle = CycleFactory(
            organization=organization, starts_on=D(2026, 10, 1), ends_on=D(2027, 3, 31)
        )
        objective = ObjectiveFactory(organization=organization, cycle=cycle, title="Grow")
        result[organization.slug] = {
            "person": person,
            "kr": KeyResultFactory(
                organization=organization, objective=objective, owner=person, title="Signups"
            ),
        }
    return result


def check_in(kr, day: datetime.date, value=Decimal(10)):
    services.check_in_create(
        key_result=kr, value=value, confidence=5, author=None, checked_in_at=at(day)
    )


@pytest.mark.django_db
def test_due_follows_the_owners_cadence(org, other_org, owned):
    ada, home, away = owned["user"], owned[org.slug], owned[other_org.slug]
    check_in(home["kr"], D(2026, 12, 30))  # yesterday: not due
    check_in(away["kr"], D(2026, 12, 24))  # a week ago: due (weekly)
    today = D(2026, 12, 31)
    due = selectors.check_ins_due(user=ada, today=today)
    assert [(d.organization, d.key_result) for d in due] == [(other_org, away["kr"])]
    assert due[0].last_check_in == D(2026, 12, 24) and due[0].due_on == D(2026, 12, 31)
    # Fortnightly in the other organization: a week ago is not due yet.
    away["person"].check_in_cadence = CheckInCadence.FORTNIGHTLY
    away["person"].save()
    assert selectors.check_ins_due(user=ada, today=today) == []
    assert len(selectors.check_ins_due(user=ada, today=D(2027, 1, 7))) == 2  # into the new year


@pytest.mark.django_db
def test_not_due_when_done_when_its_cycle_is_over_or_its_owner_left(org, other_org, owned):
    ada, home, away = owned["user"], owned[org.slug], owned[other_org.slug]
    check_in(home["kr"], D(2026, 12, 1), value=Decimal(100))  # reached its target
    away["person"].departed_on = D(2026, 12, 1)
    away["person"].save()
    assert selectors.check_ins_due(user=ada, today=D(2026, 12, 31)) == []
    q3 = CycleFactory(organization=org, starts_on=D(2026, 7, 1), ends_on=D(2026, 9, 30))
    ended = KeyResultFactory(
        organization=org,
        objective=ObjectiveFactory(organization=org, cycle=q3),
        owner=home["person"],
    )
    assert selectors.check_ins_due(user=ada, today=D(2026, 12, 31)) == []  # Q3 is over
    assert [d.key_result for d in selectors.check_ins_due(user=ada, today=D(2026, 8, 3))] == [ended]


@pytest.mark.django_db
def test_my_work_lists_check_ins_due_with_their_form(client, org, other_org, owned):
    client.force_login(owned["user"])
    page = client.get(reverse("my_work"))
    assert page.status_code == 200
    for organization in (org, other_org):
        kr = owned[organization.slug]["kr"]
        link = reverse(
            "objective_detail",
            kwargs={"org_slug": organization.slug, "objective_id": kr.objective_id},
        )
        assert f'href="{link}#kr-{kr.pk}"' in page.text
    assert 'Check-ins due <span class="count">2</span>' in page.text


@pytest.mark.django_db
def test_the_one_click_link_signs_in_first_then_opens_the_form(client, org, owned):
    kr = owned[org.slug]["kr"]
    (item,) = [d for d in selectors.check_ins_due(user=owned["user"]) if d.organization == org]
    answer = client.get(item.path.split("#")[0])
    assert answer.status_code == 302 and "next=" in answer.url
    client.force_login(owned["user"])
    form = client.get(item.path.split("#")[0])
    action = reverse("check_in_create", kwargs={"org_slug": org.slug, "key_result_id": kr.pk})
    assert f'action="{action}"' in form.text


# -- the email ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_one_email_per_person_across_organizations_once_a_week(settings, org, other_org, owned):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "https://missionos.example"
    today = D(2026, 12, 31)
    assert reminders.reminders_send_all(today=today) == 1
    (message,) = mail.outbox
    assert message.to == ["ada@example.org"]
    assert message.subject == "2 check-ins due this week"
    html = message.alternatives[0][0]
    for organization in (org, other_org):
        kr = owned[organization.slug]["kr"]
        link = "https://missionos.example" + reverse(
            "objective_detail",
            kwargs={"org_slug": organization.slug, "objective_id": kr.objective_id},
        )
        assert f"{link}#kr-{kr.pk}" in message.body and f"{link}#kr-{kr.pk}" in html
        assert organization.name in message.body
    assert "https://missionos.example/notifications/unsubscribe/?t=" in message.body
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # Beat runs again that week (Friday after Thursday): nothing more.
    assert reminders.reminders_send_all(today=D(2027, 1, 1)) == 0
    assert len(mail.outbox) == 1
    assert CheckInReminderSent.objects.get().week_of == D(2026, 12, 28)
    # Next week it goes again.
    assert reminders.reminders_send_all(today=D(2027, 1, 4)) == 1


@pytest.mark.django_db
def test_nothing_due_nothing_sent(settings, org, owned):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    for key in (org.slug, *[k for k in owned if k not in ("user", org.slug)]):
        check_in(owned[key]["kr"], D(2026, 12, 30))
    assert reminders.reminders_send_all(today=D(2026, 12, 31)) == 0
    assert mail.outbox == [] and not CheckInReminderSent.objects.exists()


@pytest.mark.django_db
def test_switched_off_on_the_notifications_page(client, settings, owned):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    client.force_login(owned["user"])
    page = client.get(reverse("notifications"))
    assert 'Weekly check-in reminders are <strong class="reminder-state">on' in page.text
    answer = client.post(reverse("notifications"), {}, follow=True)
    assert "Weekly check-in reminders are off." in answer.text
    assert reminders.reminders_send_all(today=D(2026, 12, 31)) == 0 and mail.outbox == []
    client.post(reverse("notifications"), {"check_in_reminders": "on"})
    assert reminders.reminders_send_all(today=D(2026, 12, 31)) == 1


@pytest.mark.django_db
def test_signed_unsubscribe_link(client, owned):
    ada = owned["user"]
    url = reverse("reminder_unsubscribe") + "?t=" + reminders.unsubscribe_token(ada)
    answer = client.get(url)  # no login
    assert answer.status_code == 200
    assert "Check-in reminders switched off" in answer.text
    assert CheckInReminderOptOut.objects.filter(user=ada).exists()
    assert client.get(url).status_code == 200  # twice: still off, still says so
    CheckInReminderOptOut.objects.all().delete()
    tampered = url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB")
    refused = client.get(tampered)
    assert refused.status_code == 400
    assert (
        "This unsubscribe link is not valid" in refused.text
        and "Nothing was switched off" in refused.text
    )
    assert not CheckInReminderOptOut.objects.exists()
    # Cut short, or no token at all: refused too.
    assert client.post(url[: len(url) // 2]).status_code == 400
    assert client.get(reverse("reminder_unsubscribe")).status_code == 400
    # A mail client's one-click POST works too.
    assert client.post(url).status_code == 200
    assert CheckInReminderOptOut.objects.filter(user=ada).exists()


@pytest.mark.django_db
def test_the_beat_task_sends_once_a_week(settings, owned, clock):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert tasks.send_check_in_reminders.run() == 1  # today, wherever the clock stands
    assert tasks.send_check_in_reminders.run() == 0  # beat ran twice
    assert len(mail.outbox) == 1
    assert "okrs:weekly-check-in-reminders" in settings.CELERY_BEAT_SCHEDULE


# -- one's own cadence, on the Notifications page (issue 14) ---------------------------------


def cadence_field(person) -> str:
    return f"cadence_{person.pk}"


def cadences(*people) -> list[str]:
    return [type(p).objects.unscoped().get(pk=p.pk).check_in_cadence for p in people]


@pytest.mark.django_db
def test_own_cadence_is_set_per_organization_and_audited(client, org, other_org, owned):
    ada, home, away = owned["user"], owned[org.slug]["person"], owned[other_org.slug]["person"]
    client.force_login(ada)
    page = client.get(reverse("notifications"))
    assert f"Check-in cadence in {org.name}" in page.text
    assert f"Check-in cadence in {other_org.name}" in page.text
    answer = client.post(
        reverse("notifications"),
        {
            "check_in_reminders": "on",
            cadence_field(home): "fortnightly",
            cadence_field(away): "monthly",
        },
        follow=True,
    )
    assert answer.status_code == 200
    assert cadences(home, away) == ["fortnightly", "monthly"]
    assert f"You now check in every two weeks in {org.name}." in answer.text
    assert f"You now check in monthly in {other_org.name}." in answer.text
    assert reminders.reminders_enabled(user=ada)
    entry = AuditEntry.objects.for_org(org).get(target_kind="person", target_id=home.pk)
    assert entry.actor == ada and entry.changes["check_in_cadence"] == ["Weekly", "Every two weeks"]
    # My work says it, in each organization, with the way to change it.
    page = client.get(reverse("my_work")).text
    assert 'You check in every two weeks — <a href="/notifications/">change</a>' in page
    assert "You check in monthly — <a" in page


@pytest.mark.django_db
def test_a_garbage_cadence_is_refused_beside_its_field_and_nothing_changes(
    client, org, other_org, owned
):
    ada, home, away = owned["user"], owned[org.slug]["person"], owned[other_org.slug]["person"]
    client.force_login(ada)
    answer = client.post(
        reverse("notifications"),
        {cadence_field(home): "monthly", cadence_field(away): "daily; DROP TABLE"},
    )
    assert answer.status_code == 400
    assert (
        f'<p class="field-error" id="id_{cadence_field(away)}_error">'
        "Choose weekly, every two weeks or monthly.</p>" in answer.text
    )
    assert cadences(home, away) == ["weekly", "weekly"]
    assert reminders.reminders_enabled(user=ada)  # the unticked box did not switch it off


@pytest.mark.django_db
def test_nobody_sets_someone_elses_cadence(client, org, other_org, owned, member_of):
    ada, home = owned["user"], owned[org.slug]["person"]
    colleague = PersonFactory(organization=org, name="Cy", user=member_of(org, username="cy"))
    third = OrganizationFactory(slug="third")
    stranger = PersonFactory(organization=third, name="Sam")
    client.force_login(ada)
    for person in (colleague, stranger):
        answer = client.post(
            reverse("notifications"),
            {
                "check_in_reminders": "on",
                cadence_field(home): "monthly",
                cadence_field(person): "monthly",
            },
        )
        assert answer.status_code == 400
        assert "You can set only your own check-in cadence." in answer.text
        assert cadences(home, person) == ["weekly", "weekly"]
    # The service refuses too, whoever calls it, and changes nothing.
    with pytest.raises(Person.DoesNotExist):
        org_services.own_cadences_save(
            user=ada, cadences={home.pk: "monthly", colleague.pk: "monthly"}
        )
    with pytest.raises(ValidationError):
        org_services.own_cadences_save(user=ada, cadences={home.pk: "daily"})
    assert cadences(home, colleague) == ["weekly", "weekly"]


@pytest.mark.django_db
def test_without_a_directory_entry_the_page_explains_instead_of_a_select(
    client, org, other_org, owned
):
    ada, away = owned["user"], owned[other_org.slug]["person"]
    away.user = None
    away.save()
    client.force_login(ada)
    page = client.get(reverse("notifications")).text
    assert f'name="{cadence_field(owned[org.slug]["person"])}"' in page
    assert f'name="{cadence_field(away)}"' not in page
    assert f"Check-in cadence in {other_org.name}</strong>" in page
    assert "You are not linked to an entry in its directory of people" in page


@pytest.mark.django_db
def test_a_fortnightly_owner_checked_in_8_days_ago_is_not_due(client, org, other_org, owned):
    ada, home = owned["user"], owned[org.slug]
    check_in(home["kr"], D(2026, 12, 23))
    check_in(owned[other_org.slug]["kr"], D(2026, 12, 30))
    today = D(2026, 12, 31)  # 8 days after the first
    assert [d.key_result for d in selectors.check_ins_due(user=ada, today=today)] == [home["kr"]]
    client.force_login(ada)
    client.post(
        reverse("notifications"),
        {"check_in_reminders": "on", cadence_field(home["person"]): "fortnightly"},
    )
    assert selectors.check_ins_due(user=ada, today=today) == []
    # Due again two weeks after it.
    due_then = selectors.check_ins_due(user=ada, today=D(2027, 1, 6))
    assert home["kr"] in [d.key_result for d in due_then]
