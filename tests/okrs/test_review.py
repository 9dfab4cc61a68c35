"""The end-of-cycle review: final scores and what moved, rebuilt from check-ins at the cycle's
end; the closing note; carrying unfinished objectives over into the next cycle (links kept,
starting from their last values, idempotent); and the pages, with another organization's ids
answering 404."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from okrs import selectors, services
from okrs.models import Cycle, KeyResult, Objective, ObjectiveReview
from orgs.models import AuditEntry, Role
from tests.factories import (
    CycleFactory,
    KeyResultFactory,
    ObjectiveFactory,
    PersonFactory,
    ProjectFactory,
)

pytestmark = pytest.mark.django_db

Q3 = (datetime.date(2026, 7, 1), datetime.date(2026, 9, 30))
Q4 = (datetime.date(2026, 10, 1), datetime.date(2026, 12, 31))
AFTER_Q3 = timezone.make_aware(datetime.datetime(2026, 10, 5, 12, 0))


def at(day: datetime.date, hour: int = 12) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


@pytest.fixture
def quarter(org):
    """Q3 with two objectives: one half done (a key result moved 10 -> 50 of 100 during the
    quarter, one finished), one done; and Q4 after it."""
    q3 = CycleFactory(organization=org, name="Q3", starts_on=Q3[0], ends_on=Q3[1])
    q4 = CycleFactory(organization=org, name="Q4", starts_on=Q4[0], ends_on=Q4[1])
    owner = PersonFactory(organization=org, name="Ada")
    half = ObjectiveFactory(organization=org, cycle=q3, title="Open clinics", owner=owner)
    moving = KeyResultFactory(organization=org, objective=half, title="Clinics", owner=owner)
    finished = KeyResultFactory(organization=org, objective=half, title="Staff hired")
    services.check_in_create(
        key_result=moving,
        value=Decimal(10),
        confidence=6,
        author=None,
        checked_in_at=at(Q3[0]) - datetime.timedelta(days=3),
    )
    services.check_in_create(
        key_result=moving, value=Decimal(50), confidence=5, author=None, checked_in_at=at(Q3[1], 9)
    )
    services.check_in_create(
        key_result=finished,
        value=Decimal(100),
        confidence=9,
        author=None,
        checked_in_at=at(Q3[1], 10),
    )
    done = ObjectiveFactory(organization=org, cycle=q3, title="Done one")
    done_kr = KeyResultFactory(organization=org, objective=done)
    services.check_in_create(
        key_result=done_kr, value=Decimal(100), confidence=9, author=None, checked_in_at=at(Q3[1])
    )
    project = ProjectFactory(organization=org, pathway=half.pathway)
    project.objectives.add(half)
    return {"q3": q3, "q4": q4, "half": half, "done": done, "moving": moving, "project": project}


def test_final_score_and_what_moved_at_the_cycle_end(org, quarter):
    # A check-in after the cycle ended does not change its final score.
    services.check_in_create(
        key_result=quarter["moving"],
        value=Decimal(90),
        confidence=8,
        author=None,
        checked_in_at=at(Q4[0], 9),
    )
    review = selectors.cycle_review(organization=org, cycle_id=quarter["q3"].pk, now=AFTER_Q3)
    assert review.ended and review.next_cycle == quarter["q4"]
    scores = {s.objective.title: s for s in review.scores}
    assert scores["Open clinics"].score == pytest.approx(0.75)  # (0.5 + 1.0) / 2
    assert scores["Done one"].score == pytest.approx(1.0)
    assert [s.objective.title for s in review.unfinished] == ["Open clinics"]
    moves = {m.key_result.title: m for m in scores["Open clinics"].moves}
    assert (moves["Clinics"].start, moves["Clinics"].end) == (Decimal(10), Decimal(50))
    assert (moves["Staff hired"].start, moves["Staff hired"].end) == (Decimal(0), Decimal(100))


def test_a_running_cycle_is_scored_as_of_now(org, quarter):
    mid = at(
        datetime.date(2026, 9, 30),
        9,
    ) + datetime.timedelta(minutes=30)
    page = selectors.objective_review(organization=org, objective_id=quarter["half"].pk, now=mid)
    assert not page.ended
    assert page.score.score == pytest.approx(0.25)  # 50%, and the other not yet checked in


def test_carry_over_copies_unfinished_with_links_and_last_values(org, quarter, owner):
    done = services.cycle_carry_over(
        cycle=quarter["q3"], next_cycle=quarter["q4"], objectives=[quarter["half"]], actor=owner
    )
    (copy,) = done.created
    assert done.key_results == 1  # "Staff hired" is finished: not copied
    assert copy.cycle == quarter["q4"] and copy.carried_over_from == quarter["half"]
    assert (copy.pathway, copy.owner, copy.title) == (
        quarter["half"].pathway,
        quarter["half"].owner,
        "Open clinics",
    )
    (kr,) = KeyResult.objects.for_org(org).filter(objective=copy)
    assert (kr.title, kr.start_value, kr.current_value, kr.target_value) == (
        "Clinics",
        Decimal(50),
        Decimal(50),
        Decimal(100),
    )
    assert kr.carried_over_from == quarter["moving"] and kr.owner == quarter["moving"].owner
    assert set(quarter["project"].objectives.all()) == {quarter["half"], copy}
    assert (
        AuditEntry.objects.for_org(org).filter(target_kind="objective", target_id=copy.pk).exists()
    )

    again = services.cycle_carry_over(
        cycle=quarter["q3"], next_cycle=quarter["q4"], objectives=[quarter["half"]], actor=owner
    )
    assert again.created == [] and again.already == [quarter["half"]]
    assert Objective.objects.for_org(org).filter(carried_over_from=quarter["half"]).count() == 1
    assert KeyResult.objects.for_org(org).filter(objective__cycle=quarter["q4"]).count() == 1


def test_carry_over_refuses_an_earlier_cycle_or_another_cycles_objective(org, quarter):
    with pytest.raises(ValidationError):
        services.cycle_carry_over(
            cycle=quarter["q4"], next_cycle=quarter["q3"], objectives=[], actor=None
        )
    with pytest.raises(ValidationError):
        services.cycle_carry_over(
            cycle=quarter["q4"],
            next_cycle=CycleFactory(
                organization=org,
                starts_on=datetime.date(2027, 1, 1),
                ends_on=datetime.date(2027, 3, 31),
            ),
            objectives=[quarter["half"]],
            actor=None,
        )


def test_closing_note_is_saved_once_per_objective_and_audited(org, quarter, owner):
    services.objective_review_save(
        objective=quarter["half"], note="  Slower than hoped. ", actor=owner
    )
    services.objective_review_save(objective=quarter["half"], note="Half way.", actor=owner)
    (review,) = ObjectiveReview.objects.for_org(org).filter(objective=quarter["half"])
    assert review.note == "Half way." and review.written_by == owner
    assert AuditEntry.objects.for_org(org).filter(target_kind="objective_review").count() == 2


# -- the pages ---------------------------------------------------------------------------------


def test_cycle_review_page_carries_over_and_says_what_it_did(
    client, org, other_org, quarter, member_of, clock
):
    admin = member_of(org, Role.ADMIN)
    client.force_login(admin)
    url = reverse("cycle_review", kwargs={"org_slug": org.slug, "cycle_id": quarter["q3"].pk})
    page = client.get(url)
    assert page.status_code == 200
    assert "Review of Q3" in page.text and "Open clinics" in page.text
    carry = reverse("cycle_carry_over", kwargs={"org_slug": org.slug, "cycle_id": quarter["q3"].pk})
    data = {"objectives": [quarter["half"].pk], "next_cycle": quarter["q4"].pk}
    answer = client.post(carry, data, follow=True)
    assert "Carried 1 objective and 1 key result over into Q4." in answer.text
    answer = client.post(carry, data, follow=True)
    assert "Already carried over, so not copied again: “Open clinics” (into Q4)." in answer.text
    assert Objective.objects.for_org(org).filter(cycle=quarter["q4"]).count() == 1
    # A finished objective is not a choice.
    refused = client.post(
        carry, {"objectives": [quarter["done"].pk], "next_cycle": quarter["q4"].pk}
    )
    assert refused.status_code == 400
    # Another organization's cycle: 404 for the page and the action.
    foreign = CycleFactory(organization=other_org)
    for name in ("cycle_review", "cycle_carry_over"):
        foreign_url = reverse(name, kwargs={"org_slug": org.slug, "cycle_id": foreign.pk})
        assert client.post(foreign_url, data).status_code == 404


def test_no_next_cycle_offers_to_create_one_with_proposed_dates(client, org, member_of):
    q3 = CycleFactory(organization=org, name="Q3", starts_on=Q3[0], ends_on=Q3[1])
    ObjectiveFactory(organization=org, cycle=q3)
    client.force_login(member_of(org, Role.ADMIN))
    page = client.get(reverse("cycle_review", kwargs={"org_slug": org.slug, "cycle_id": q3.pk}))
    create = reverse("cycle_create", kwargs={"org_slug": org.slug}) + f"?after={q3.pk}"
    assert "Create the next cycle" in page.text and create.replace("&", "&amp;") in page.text
    form = client.get(create)
    assert 'value="2026-10-01"' in form.text and 'value="2026-12-31"' in form.text
    saved = client.post(create, {"name": "Q4", "starts_on": "2026-10-01", "ends_on": "2026-12-31"})
    assert saved.url == reverse("cycle_review", kwargs={"org_slug": org.slug, "cycle_id": q3.pk})
    assert Cycle.objects.for_org(org).filter(name="Q4").exists()


def test_objective_review_page_and_note(client, org, other_org, quarter, member_of):
    viewer = member_of(org, Role.VIEWER)
    client.force_login(viewer)
    url = reverse(
        "objective_review", kwargs={"org_slug": org.slug, "objective_id": quarter["half"].pk}
    )
    page = client.get(url)
    assert page.status_code == 200 and "Final score" in page.text and "Save note" not in page.text
    note = reverse(
        "objective_review_note", kwargs={"org_slug": org.slug, "objective_id": quarter["half"].pk}
    )
    assert client.post(note, {"note": "Mine"}).status_code == 403
    client.force_login(member_of(org, Role.ADMIN))
    assert client.post(note, {"note": "We learned a lot."}).status_code == 302
    assert "We learned a lot." in client.get(url).text
    foreign = ObjectiveFactory(organization=other_org)
    for name in ("objective_review", "objective_review_note"):
        foreign_url = reverse(name, kwargs={"org_slug": org.slug, "objective_id": foreign.pk})
        assert client.post(foreign_url, {"note": "x"}).status_code == 404


def test_the_copy_shows_where_it_came_from(client, org, quarter, owner):
    (copy,) = services.cycle_carry_over(
        cycle=quarter["q3"], next_cycle=quarter["q4"], objectives=[quarter["half"]], actor=owner
    ).created
    client.force_login(owner)
    page = client.get(
        reverse("objective_detail", kwargs={"org_slug": org.slug, "objective_id": copy.pk})
    )
    assert "Carried over from" in page.text
    review_url = reverse(
        "objective_review", kwargs={"org_slug": org.slug, "objective_id": quarter["half"].pk}
    )
    assert "already carried over to Q4" in client.get(review_url).text


def test_an_objective_carried_over_to_any_later_cycle_is_not_offered_or_copied_again(
    client, org, quarter, member_of
):
    """Carried over into a cycle after the next one: the form (which proposes the next) lists
    it as already carried over, with a link to its copy, and a POST naming it copies nothing."""
    q1 = CycleFactory(
        organization=org,
        name="Q1 next year",
        starts_on=datetime.date(2027, 1, 1),
        ends_on=datetime.date(2027, 3, 31),
    )
    (copy,) = services.cycle_carry_over(
        cycle=quarter["q3"], next_cycle=q1, objectives=[quarter["half"]], actor=None
    ).created
    client.force_login(member_of(org, Role.ADMIN))
    url = reverse("cycle_review", kwargs={"org_slug": org.slug, "cycle_id": quarter["q3"].pk})
    page = client.get(url)
    assert page.context["review"].carryable == []
    assert f'name="objectives" value="{quarter["half"].pk}"' not in page.text
    copy_url = reverse("objective_detail", kwargs={"org_slug": org.slug, "objective_id": copy.pk})
    assert f'<a href="{copy_url}">already carried over to Q1 next year</a>' in page.text
    assert "Every unfinished objective has been carried over already." in page.text

    carry = reverse("cycle_carry_over", kwargs={"org_slug": org.slug, "cycle_id": quarter["q3"].pk})
    data = {"objectives": [quarter["half"].pk], "next_cycle": quarter["q4"].pk}
    answer = client.post(carry, data, follow=True)
    assert "Already carried over, so not copied again: “Open clinics” (into Q1 next year)." in (
        answer.text
    )
    assert not Objective.objects.for_org(org).filter(cycle=quarter["q4"]).exists()
    assert (
        Objective.objects.for_org(org, include_archived=True)
        .filter(carried_over_from=quarter["half"])
        .count()
        == 1
    )

    # Its copy archived: still carried over (restoring it would make two), shown in the Archive.
    services.record_archive(record=copy, actor=None)
    page = client.get(url)
    archive_url = reverse("archive", kwargs={"org_slug": org.slug})
    assert f'href="{archive_url}#archived-objective-{copy.pk}"' in page.text
    assert copy_url not in page.text
    client.post(carry, data)
    assert not Objective.objects.for_org(org).filter(cycle=quarter["q4"]).exists()
