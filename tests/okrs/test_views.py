"""OKR pages through Django's test client: what users see and what their actions change."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from okrs.models import CheckIn, KeyResult, Objective, Project, ProjectStatus, Task, TaskStatus
from orgs.models import Role
from tests.factories import (
    CycleFactory,
    KeyResultFactory,
    ObjectiveFactory,
    PathwayFactory,
    PersonFactory,
    ProjectFactory,
    TaskFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(org):
    """One pathway with two objectives: one with two weighted key results, one empty."""
    cycle = CycleFactory(organization=org)
    pathway = PathwayFactory(organization=org, name="Patient access")
    objective = ObjectiveFactory(
        organization=org, pathway=pathway, cycle=cycle, title="Cut waiting times"
    )
    kr_count = KeyResultFactory(
        organization=org, objective=objective, title="Clinics open", target_value=10
    )
    kr_wait = KeyResultFactory(
        organization=org,
        objective=objective,
        title="Median wait (days)",
        start_value=40,
        current_value=40,
        target_value=20,
        weight=3,
    )
    ObjectiveFactory(organization=org, pathway=pathway, cycle=cycle, title="No KRs yet")
    return {"pathway": pathway, "objective": objective, "count": kr_count, "wait": kr_wait}


def url(name, org, **kwargs):
    return reverse(name, kwargs={"org_slug": org.slug, **kwargs})


def test_dashboard_shows_pathways_and_progress(owner_client, org, plan):
    plan["wait"].current_value = 30  # halfway on a decreasing metric
    plan["wait"].save()
    response = owner_client.get(url("org_home", org))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Patient access" in page
    # (0 * 1 + 0.5 * 3) / 4 = 37.5% for the objective; the empty objective is left out.
    assert response.context["dashboard"].pathways[0].progress == pytest.approx(0.375)
    assert 'aria-valuenow="38"' in page


def test_htmx_check_in_updates_row_objective_and_pathway(owner_client, org, plan):
    kr = plan["wait"]
    response = owner_client.post(
        url("check_in_create", org, key_result_id=kr.pk),
        {"value": "30", "confidence": "6", "note": "  New triage rota  "},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    page = response.content.decode()
    # The key result's own row, with its new value ...
    assert f'id="kr-{kr.pk}"' in page
    assert "Check-in saved." in page
    # ... and the objective and pathway summary swapped out of band, both at 37.5%.
    assert 'id="objective-progress" class="card summary" hx-swap-oob="true"' in page
    assert page.count('aria-valuenow="38"') == 2
    assert "<html" not in page  # a fragment, not a page reload
    kr.refresh_from_db()
    assert kr.current_value == Decimal(30)
    assert kr.confidence == 6
    check_in = CheckIn.objects.unscoped(include_archived=True).get(key_result=kr)
    assert check_in.note == "New triage rota"
    assert check_in.organization_id == org.pk


def test_check_in_without_javascript_redirects_back(owner_client, org, plan):
    kr = plan["count"]
    response = owner_client.post(
        url("check_in_create", org, key_result_id=kr.pk), {"value": "5"}, follow=True
    )
    assert response.redirect_chain[-1][0] == url(
        "objective_detail", org, objective_id=plan["objective"].pk
    )
    assert "Checked in on" in response.content.decode()
    kr.refresh_from_db()
    assert kr.current_value == 5


@pytest.mark.parametrize("htmx", [True, False])
def test_check_in_refuses_text_in_a_number_and_saves_nothing(owner_client, org, plan, htmx):
    kr = plan["count"]
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = owner_client.post(
        url("check_in_create", org, key_result_id=kr.pk),
        {"value": "about five", "confidence": "11"},
        **headers,
    )
    assert response.status_code == (200 if htmx else 400)
    page = response.content.decode()
    assert "Enter a number." in page
    # Once, beside the field (it used to be printed twice by two identical validators).
    assert page.count("Ensure this value is less than or equal to 10.") == 1
    assert CheckIn.objects.unscoped(include_archived=True).count() == 0
    kr.refresh_from_db()
    assert kr.current_value == 0


def test_yes_no_check_in_takes_only_zero_or_one(owner_client, org, plan):
    kr = KeyResultFactory(organization=org, objective=plan["objective"], metric_type="yes_no")
    response = owner_client.post(
        url("check_in_create", org, key_result_id=kr.pk), {"value": "0.5"}, HTTP_HX_REQUEST="true"
    )
    assert "takes 1 (done) or 0 (not done)" in response.content.decode()
    assert not CheckIn.objects.unscoped(include_archived=True).filter(key_result=kr).exists()


def test_objective_page_lists_key_results_with_history(owner_client, org, plan):
    owner_client.post(url("check_in_create", org, key_result_id=plan["count"].pk), {"value": "2"})
    response = owner_client.get(url("objective_detail", org, objective_id=plan["objective"].pk))
    page = response.content.decode()
    assert "Clinics open" in page and "Median wait (days)" in page
    assert "History (1 check-in)" in page
    # Regression: every key result's check-in form used id="id_value", so each label
    # pointed at the first form's input.
    ids = re.findall(r' id="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "element ids repeat"


def test_empty_objective_says_it_has_no_progress(owner_client, org, plan):
    empty = Objective.objects.unscoped(include_archived=True).get(title="No KRs yet")
    page = owner_client.get(url("objective_detail", org, objective_id=empty.pk)).content.decode()
    assert "No key results yet, so this objective has no progress." in page


def test_task_status_inline_updates_row_and_completion(owner_client, org):
    project = ProjectFactory(organization=org)
    task = TaskFactory(organization=org, project=project)
    TaskFactory(organization=org, project=project)
    response = owner_client.post(
        url("task_status", org, task_id=task.pk), {"status": "done"}, HTTP_HX_REQUEST="true"
    )
    page = response.content.decode()
    assert f'id="task-{task.pk}"' in page and "is-done" in page
    assert 'id="project-completion" class="card summary" hx-swap-oob="true"' in page
    assert "1 of 2 tasks done" in page
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE and task.completed_at is not None
    # Moving it back clears the completion time.
    owner_client.post(url("task_status", org, task_id=task.pk), {"status": "todo"})
    task.refresh_from_db()
    assert task.completed_at is None


def test_task_status_refuses_unknown_status(owner_client, org):
    task = TaskFactory(organization=org)
    response = owner_client.post(
        url("task_status", org, task_id=task.pk), {"status": "finished!!"}, HTTP_HX_REQUEST="true"
    )
    assert "Choose one of the listed statuses." in response.content.decode()
    task.refresh_from_db()
    assert task.status == TaskStatus.TODO


@pytest.fixture
def projects(org):
    access = PathwayFactory(organization=org, name="Patient access")
    quality = PathwayFactory(organization=org, name="Clinical quality")
    maya = PersonFactory(organization=org, name="Maya Okafor")
    return {
        "telehealth": ProjectFactory(
            organization=org, name="Telehealth expansion", pathway=access, owner=maya
        ),
        "portal": ProjectFactory(
            organization=org, name="Patient portal rollout", pathway=access, status="on_hold"
        ),
        "audit": ProjectFactory(organization=org, name="Clinical audit programme", pathway=quality),
    }


def listed(response) -> set[str]:
    return {project.name for project in response.context["page"].object_list}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("telehealth", {"Telehealth expansion"}),
        ("  TELEHEALTH  ", {"Telehealth expansion"}),  # stray case and whitespace
        ("teleheath", {"Telehealth expansion"}),  # a typo
        ("portal  rolout", {"Patient portal rollout"}),  # a typo in the second word
        ("clinical", {"Clinical audit programme"}),
        ("maya", {"Telehealth expansion"}),  # the owner's name
        ("patient access", {"Telehealth expansion", "Patient portal rollout"}),  # the pathway
        ("zebra", set()),
    ],
)
def test_project_search_copes_with_messy_input(owner_client, org, projects, query, expected):
    response = owner_client.get(url("project_list", org), {"q": query})
    assert listed(response) == expected


def test_project_list_pages_keep_the_filters(owner_client, org):
    pathway = PathwayFactory(organization=org)
    for i in range(120):
        ProjectFactory(organization=org, pathway=pathway, name=f"Clinic {i:03}")
    ProjectFactory(organization=org, name="Elsewhere")
    base = url("project_list", org)
    first = owner_client.get(base, {"pathway": pathway.pk})
    page = first.content.decode()
    assert "120 projects, showing 1–50" in page
    assert f'href="?pathway={pathway.pk}&amp;page=2"' in page
    third = owner_client.get(base, {"pathway": pathway.pk, "page": "3"})
    assert [p.name for p in third.context["page"].object_list][:2] == ["Clinic 100", "Clinic 101"]
    # Garbage and out-of-range page numbers land on a real page instead of an error.
    assert owner_client.get(base, {"page": "x"}).context["page"].number == 1
    assert owner_client.get(base, {"page": "99"}).context["page"].number == 3
    # Searching pages too, best match first.
    found = owner_client.get(base, {"q": "clinc", "page": "2"}).context["page"]
    assert found.paginator.count == 120 and found.number == 2


def test_search_echo_is_tidied(owner_client, org, projects):
    response = owner_client.get(url("project_list", org), {"q": "  teleheath \t "})
    assert "matching “teleheath”" in response.content.decode()


def test_project_filters(owner_client, org, projects):
    base = url("project_list", org)
    assert listed(owner_client.get(base, {"status": "on_hold"})) == {"Patient portal rollout"}
    pathway = projects["audit"].pathway_id
    assert listed(owner_client.get(base, {"pathway": pathway})) == {"Clinical audit programme"}
    owner = projects["telehealth"].owner_id
    assert listed(owner_client.get(base, {"owner": owner})) == {"Telehealth expansion"}
    # Garbage in the query string is ignored, not an error.
    response = owner_client.get(base, {"status": "nope", "pathway": "x", "owner": "1;drop"})
    assert response.status_code == 200 and len(listed(response)) == 3


def test_project_search_htmx_returns_only_results(owner_client, org, projects):
    response = owner_client.get(
        url("project_list", org),
        {"q": "audit"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="project-results",
    )
    page = response.content.decode()
    assert page.lstrip().startswith('<div id="project-results"')
    assert "Clinical audit programme" in page and "Telehealth" not in page


def test_project_page_shows_tasks_and_flags_departed_assignees(owner_client, org):
    gone = PersonFactory(organization=org, name="Sam Left", departed_on=datetime.date(2026, 1, 31))
    task = TaskFactory(organization=org, assignee=gone, title="Update the rota")
    page = owner_client.get(url("project_detail", org, project_id=task.project_id)).content
    assert b"Update the rota" in page and b"left Jan 2026" in page


def test_my_work_groups_by_organization(client, org, other_org, member_of):
    user = member_of(org, Role.MEMBER, username="crossunit")
    from orgs.models import Membership

    Membership.objects.create(user=user, organization=other_org, role=Role.VIEWER)
    me_here = PersonFactory(organization=org, user=user)
    me_there = PersonFactory(organization=other_org, user=user)
    TaskFactory(organization=org, assignee=me_here, title="Here task")
    TaskFactory(organization=other_org, assignee=me_there, title="There task")
    TaskFactory(organization=other_org, assignee=me_there, title="Done task", status="done")
    KeyResultFactory(organization=other_org, owner=me_there, title="There KR")
    # Work in an organization the user has left does not show.
    stranger_org = PersonFactory().organization
    TaskFactory(
        organization=stranger_org, assignee=PersonFactory(organization=stranger_org, user=user)
    )

    client.force_login(user)
    response = client.get(reverse("my_work"))
    groups = response.context["groups"]
    assert [g.organization for g in groups] == [org, other_org]
    assert [t.title for t in groups[0].open_tasks] == ["Here task"]
    assert [t.title for t in groups[1].open_tasks] == ["There task"]
    assert [due.key_result.title for due in groups[1].check_ins_due] == ["There KR"]
    page = response.content.decode()
    assert url("org_home", other_org) in page


def test_my_work_ignores_check_ins_deleted_in_airtable(client, org, member_of):
    """Found in review: the last check-in date counted archived check-ins."""
    user = member_of(org, Role.MEMBER)
    kr = KeyResultFactory(organization=org, owner=PersonFactory(organization=org, user=user))
    CheckIn.objects.create(
        organization=org, key_result=kr, value=1, archived_at=datetime.datetime.now(datetime.UTC)
    )
    client.force_login(user)
    [group] = client.get(reverse("my_work")).context["groups"]
    assert [k.last_check_in for k in group.check_ins_due] == [None]


# Forms refuse bad input beside the field and save nothing.


def test_key_result_target_equal_to_start_is_refused(owner_client, org, plan):
    response = owner_client.post(
        url("key_result_create", org, objective_id=plan["objective"].pk),
        {
            "title": "Flat",
            "metric_type": "number",
            "start_value": "5",
            "target_value": "5.0",
            "weight": "1",
        },
    )
    assert response.status_code == 400
    assert "The target must differ from the start" in response.content.decode()
    assert not KeyResult.objects.unscoped(include_archived=True).filter(title="Flat").exists()


def test_key_result_text_in_number_is_refused(owner_client, org, plan):
    response = owner_client.post(
        url("key_result_create", org, objective_id=plan["objective"].pk),
        {
            "title": "Typed",
            "metric_type": "number",
            "start_value": "zero",
            "target_value": "10",
            "weight": "1",
        },
    )
    assert response.status_code == 400
    assert 'id="id_start_value_error">Enter a number.' in response.content.decode()
    assert not KeyResult.objects.unscoped(include_archived=True).filter(title="Typed").exists()


def test_new_key_result_starts_at_its_start_value(owner_client, org, plan):
    response = owner_client.post(
        url("key_result_create", org, objective_id=plan["objective"].pk),
        {
            "title": "  Churn  ",
            "metric_type": "percentage",
            "start_value": "8",
            "target_value": "5",
            "unit": "%",
            "weight": "1",
        },
    )
    assert response.status_code == 302
    kr = KeyResult.objects.unscoped(include_archived=True).get(title="Churn")
    assert kr.current_value == 8 and kr.organization == org


def test_project_end_before_start_is_refused(owner_client, org):
    response = owner_client.post(
        url("project_create", org),
        {
            "name": "Backwards",
            "status": "planned",
            "starts_on": "2026-05-01",
            "ends_on": "2026-04-01",
        },
    )
    assert response.status_code == 400
    assert "The end date cannot be before the start date." in response.content.decode()
    assert not Project.objects.unscoped(include_archived=True).filter(name="Backwards").exists()


def test_project_title_of_ten_thousand_characters_is_refused(owner_client, org):
    response = owner_client.post(
        url("project_create", org), {"name": "x" * 10_000, "status": "planned"}
    )
    assert response.status_code == 400
    assert "at most 200 characters (it has 10000)" in response.content.decode()
    assert Project.objects.unscoped(include_archived=True).count() == 0


def test_task_assignee_from_another_organization_is_refused(owner_client, org, other_org):
    project = ProjectFactory(organization=org)
    outsider = PersonFactory(organization=other_org, name="Outsider")
    response = owner_client.post(
        url("task_create", org, project_id=project.pk),
        {"title": "Sneaky", "status": "todo", "assignee": outsider.pk},
    )
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not Task.objects.unscoped(include_archived=True).filter(title="Sneaky").exists()


def test_project_objective_from_another_organization_is_refused(owner_client, org, other_org):
    foreign = ObjectiveFactory(organization=other_org)
    response = owner_client.post(
        url("project_create", org),
        {"name": "Linked", "status": "active", "objectives": [foreign.pk]},
    )
    assert response.status_code == 400
    assert not Project.objects.unscoped(include_archived=True).filter(name="Linked").exists()


def test_project_create_and_edit(owner_client, org, plan):
    response = owner_client.post(
        url("project_create", org),
        {
            "name": "Night clinics",
            "status": ProjectStatus.ACTIVE,
            "pathway": plan["pathway"].pk,
            "objectives": [plan["objective"].pk],
        },
    )
    project = Project.objects.unscoped(include_archived=True).get(name="Night clinics")
    assert response.url == url("project_detail", org, project_id=project.pk)
    assert list(project.objectives.all()) == [plan["objective"]]


def test_departed_people_are_not_offered_for_new_tasks(owner_client, org):
    project = ProjectFactory(organization=org)
    PersonFactory(organization=org, name="Still Here")
    PersonFactory(organization=org, name="Long Gone", departed_on=datetime.date(2025, 1, 1))
    page = owner_client.get(url("task_create", org, project_id=project.pk)).content.decode()
    assert "Still Here" in page and "Long Gone" not in page


def test_project_service_refuses_another_organizations_objective(org, other_org):
    from django.core.exceptions import ValidationError

    from okrs.services import project_save

    project = Project(organization=org, name="Cross-linked", status=ProjectStatus.ACTIVE)
    with pytest.raises(ValidationError):
        project_save(project=project, objectives=[ObjectiveFactory(organization=other_org)])
    assert not Project.objects.unscoped(include_archived=True).filter(name="Cross-linked").exists()


def test_dashboard_at_risk_list_agrees_with_the_health_rule(owner_client, org):
    from okrs import progress, selectors

    cycle = CycleFactory(organization=org)  # half elapsed
    pathway = PathwayFactory(organization=org)
    cases = {
        "ahead": (80, 8),
        "slightly behind": (40, 8),
        "behind": (30, 8),
        "far behind": (5, 8),
        "unsure": (60, 4),
        "no key results": (None, None),
    }
    for title, (current, confidence) in cases.items():
        objective = ObjectiveFactory(organization=org, pathway=pathway, cycle=cycle, title=title)
        if current is not None:
            KeyResultFactory(
                organization=org, objective=objective, current_value=current, confidence=confidence
            )
    dashboard = selectors.dashboard(organization=org)
    everything = selectors.attach_health(
        list(selectors.objectives_with_progress(organization=org)), dashboard.elapsed
    )
    expected = {
        o.title
        for o in everything
        if o.health in (progress.Health.AT_RISK, progress.Health.OFF_TRACK)
    }
    assert {o.title for o in dashboard.at_risk} == expected == {"behind", "far behind", "unsure"}
    assert dashboard.at_risk_count == 3
    assert dashboard.at_risk[0].title == "far behind"  # furthest behind first


def test_project_form_tells_near_identical_objectives_apart(owner_client, org):
    ObjectiveFactory(
        organization=org,
        title="Reduce wait times",
        pathway=PathwayFactory(organization=org, name="Access"),
    )
    ObjectiveFactory(
        organization=org,
        title="Reduce wait times",
        pathway=PathwayFactory(organization=org, name="Quality"),
    )
    page = owner_client.get(url("project_create", org)).content.decode()
    assert "Reduce wait times · Access · This quarter" in page
    assert "Reduce wait times · Quality · This quarter" in page
    assert 'type="checkbox" name="objectives"' in page


def test_current_value_follows_the_latest_live_check_in(org):
    import datetime as dt

    from django.utils import timezone

    from okrs.services import check_in_create
    from tests.factories import CheckInFactory

    kr = KeyResultFactory(organization=org)
    CheckInFactory(
        organization=org,
        key_result=kr,
        value=90,
        archived_at=timezone.now(),
        checked_in_at=timezone.now() + dt.timedelta(hours=1),
    )
    check_in_create(key_result=kr, value=Decimal(20), confidence=None, author=None)
    kr.refresh_from_db()
    assert kr.current_value == 20


def test_records_orphaned_by_the_sync_do_not_break_pages(client, org, member_of):
    """A synced task whose project, a key result whose objective, or an objective whose
    pathway was deleted in Airtable is kept with an empty link; every page still renders."""
    user = member_of(org, Role.OWNER)
    me = PersonFactory(organization=org, user=user)
    cycle = CycleFactory(organization=org)
    orphan_objective = ObjectiveFactory(organization=org, cycle=cycle, title="Lost objective")
    Objective.objects.unscoped(include_archived=True).filter(pk=orphan_objective.pk).update(
        pathway=None
    )
    orphan_kr = KeyResultFactory(organization=org, owner=me, title="Lost KR")
    KeyResult.objects.unscoped(include_archived=True).filter(pk=orphan_kr.pk).update(objective=None)
    orphan_task = TaskFactory(
        organization=org, assignee=me, title="Lost task", due_on=datetime.date(2020, 1, 1)
    )
    Task.objects.unscoped(include_archived=True).filter(pk=orphan_task.pk).update(project=None)
    CheckIn.objects.create(organization=org, key_result=None, value=1)

    client.force_login(user)
    for page in (
        url("org_home", org),
        reverse("my_work"),
        url("objective_detail", org, objective_id=orphan_objective.pk),
        url("project_list", org),
        # Found in review: these two crashed on the empty link (500).
        url("key_result_edit", org, key_result_id=orphan_kr.pk),
        url("project_create", org),  # lists the objective without a pathway
    ):
        response = client.get(page)
        assert response.status_code == 200, page
    assert "Lost task" in client.get(url("org_home", org)).content.decode()
    assert "Lost KR" in client.get(reverse("my_work")).content.decode()


def test_a_task_without_a_project_can_be_edited(owner_client, org):
    """Regression: the edit page of a synced task whose project link broke crashed (500)."""
    task = TaskFactory(organization=org, title="Orphan")
    Task.objects.unscoped(include_archived=True).filter(pk=task.pk).update(project=None)
    assert owner_client.get(url("task_edit", org, task_id=task.pk)).status_code == 200
