"""The audit log (orgs.audit): what the services of orgs and okrs write to it, with each value
before and after, and the page and CSV export that admins read it through.

The sync's entries are in tests/sync/test_audit.py, data health's in tests/health/test_audit.py.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import re
from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from okrs import services as okrs_services
from okrs.models import Pathway, ProjectStatus, TaskStatus
from orgs import audit, services
from orgs.invitations import invitation_accept
from orgs.models import AuditEntry, Invitation, Membership, Person, Role
from tests.factories import (
    KeyResultFactory,
    ObjectiveFactory,
    PathwayFactory,
    PersonFactory,
    ProjectFactory,
    TaskFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def entries(organization) -> list[AuditEntry]:
    """The organization's log, oldest first."""
    return list(AuditEntry.objects.for_org(organization).order_by("created_at", "id"))


def last(organization) -> AuditEntry:
    return entries(organization)[-1]


def at(name: str, organization, **kwargs) -> str:
    return reverse(name, kwargs={"org_slug": organization.slug, **kwargs})


@pytest.fixture
def admin(org, member_of):
    return member_of(org, Role.ADMIN, username="ada")


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin)
    return client


# -- values and the CSV's cells, without a database ------------------------------------------


def test_values_are_kept_as_they_are_shown():
    assert audit.shown(Decimal("42.500")) == "42.5"
    assert audit.shown(Decimal("1E+2")) == "100"
    assert audit.shown(datetime.date(2026, 3, 1)) == "2026-03-01"
    moment = datetime.datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=datetime.UTC)
    assert audit.shown(moment) == "2026-03-01T09:30:15+00:00"
    assert audit.shown(None) is None and audit.shown(True) is True
    assert audit.shown(["a", Decimal("2.0")]) == ["a", "2"]
    long = audit.shown("x" * 5000)
    assert len(long) == audit.TEXT_MAX and long.endswith("…")


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("Plain text", "Plain text"),
        ("a=b", "a=b"),
        (None, ""),
        (["x", "y"], "x, y"),
        (False, "no"),
    ],
)
def test_csv_cells_never_start_a_formula(value, cell):
    assert audit.csv_cell(value) == cell


def test_an_unknown_kind_is_a_programming_error(org):
    with pytest.raises(ValueError, match="unknown audit kind"):
        audit.record(organization_id=org.pk, action="edited", kind="nope", target_id=1, label="x")
    with pytest.raises(ValueError, match="already registered"):
        audit.register_audit_kind(audit.AuditKind("task", "Something else"))


# -- plan data, through the services ----------------------------------------------------------


def test_a_person_added_then_edited_through_the_pages(admin_client, org, admin):
    admin_client.post(at("person_create", org), {"name": "Dana  Scully", "email": "D@X.org"})
    person = Person.objects.for_org(org).get()
    created = last(org)
    assert (created.actor, created.actor_label, created.action) == (admin, "ada", "created")
    assert (created.target_kind, created.target_id, created.target_label) == (
        "person",
        person.pk,
        "Dana Scully",
    )
    assert created.changes == {
        "name": [None, "Dana Scully"],
        "email": [None, "d@x.org"],
        "check_in_cadence": [None, "Weekly"],
    }

    edit = at("person_edit", org, person_id=person.pk)
    admin_client.post(edit, {"name": "Dana Mulder", "email": "d@x.org"})
    edited = last(org)
    assert edited.action == "edited"
    assert edited.changes == {"name": ["Dana Scully", "Dana Mulder"]}

    admin_client.post(edit, {"name": "Dana Mulder", "email": "d@x.org"})  # untouched
    assert len(entries(org)) == 2


def test_a_foreign_key_is_shown_by_name_and_an_archive_says_so(org, owner):
    pathway = PathwayFactory(organization=org, name="Growth")
    objective = ObjectiveFactory(organization=org, pathway=pathway, title="Win")
    sam, maya = (PersonFactory(organization=org, name=n) for n in ("Sam Lee", "Maya Okafor"))
    objective.owner = sam
    services.record_save(record=objective, actor=owner)
    assert last(org).changes == {"owner": [None, "Sam Lee"]}
    objective.owner = maya
    services.record_save(record=objective, actor=owner)
    entry = last(org)
    assert (entry.action, entry.target_kind, entry.changes) == (
        "edited",
        "objective",
        {"owner": ["Sam Lee", "Maya Okafor"]},
    )

    pathway = Pathway.objects.for_org(org).get(pk=pathway.pk)
    pathway.archived_at = timezone.now()
    services.record_save(record=pathway, actor=owner)
    archived = last(org)
    assert archived.action == "archived" and archived.changes["archived_at"][0] is None
    pathway.archived_at = None
    services.record_save(record=pathway, actor=owner)
    assert last(org).action == "restored"


def test_a_task_created_edited_and_moved(org, owner):
    project = ProjectFactory(organization=org)
    sam, maya = (PersonFactory(organization=org, name=n) for n in ("Sam Lee", "Maya Okafor"))
    task = TaskFactory.build(organization=org, project=project, title="Call", assignee=sam)
    okrs_services.task_save(task=task, actor=owner)
    created = last(org)
    assert (created.action, created.target_kind, created.target_id) == ("created", "task", task.pk)
    assert created.changes["title"] == [None, "Call"]
    assert created.changes["assignee"] == [None, "Sam Lee"]
    assert created.changes["status"] == [None, "To do"]

    task.assignee_id = maya.pk  # as a health fix sets it: by id, the row not loaded
    okrs_services.task_save(task=task, actor=owner)
    assert last(org).changes == {"assignee": ["Sam Lee", "Maya Okafor"]}

    okrs_services.task_set_status(task=task, status=TaskStatus.DONE, actor=owner)
    moved = last(org)
    assert moved.action == "moved"
    assert moved.changes["status"] == ["To do", "Done"]
    assert moved.changes["completed_at"][0] is None and moved.changes["completed_at"][1]
    count = len(entries(org))
    okrs_services.task_set_status(task=task, status=TaskStatus.DONE, actor=owner)
    assert len(entries(org)) == count  # nothing moved


def test_a_projects_objectives_and_status(org, owner):
    first, second = (ObjectiveFactory(organization=org, title=t) for t in ("Alpha", "Beta"))
    project = ProjectFactory(organization=org, name="Portal", status=ProjectStatus.ACTIVE)
    okrs_services.project_save(project=project, objectives=[first], actor=owner)
    assert last(org).changes == {"objectives": [None, ["Alpha"]]}
    project.status = ProjectStatus.ON_HOLD
    okrs_services.project_save(project=project, objectives=[first, second], actor=owner)
    assert last(org).changes == {
        "status": ["Active", "On hold"],
        "objectives": [["Alpha"], ["Alpha", "Beta"]],
    }


def test_a_check_in_moves_its_key_result(org, owner):
    key_result = KeyResultFactory(organization=org, current_value=Decimal("10"), confidence=5)
    okrs_services.check_in_create(
        key_result=key_result, value=Decimal("25.50"), confidence=7, note="Good", author=owner
    )
    entry = last(org)
    assert (entry.action, entry.target_kind, entry.target_id) == (
        "checked in",
        "key_result",
        key_result.pk,
    )
    assert entry.changes == {
        "current_value": ["10", "25.5"],
        "confidence": [5, 7],
        "check_in": [None, "25.5"],
        "note": [None, "Good"],
    }


# -- memberships --------------------------------------------------------------------------------


def _link_token() -> str:
    return re.search(r"/invitations/([^/\s]+)/", mail.outbox[-1].body).group(1)


def test_memberships_from_invitation_to_removal(owner_client, org, owner):
    owner_client.post(at("member_list", org), {"email": "New@Example.org", "role": "member"})
    invitation = Invitation.objects.for_org(org).get()
    invited = last(org)
    assert (invited.actor, invited.action, invited.target_kind, invited.target_label) == (
        owner,
        "invited",
        "invitation",
        "new@example.org",
    )
    assert invited.changes == {"email": [None, "new@example.org"], "role": [None, "Member"]}
    first_token = _link_token()

    owner_client.post(at("member_list", org), {"email": "new@example.org", "role": "admin"})
    again = last(org)
    assert again.action == "invited again" and again.changes["role"] == ["Member", "Admin"]
    token = _link_token()

    newcomer = UserFactory(username="newt", email="new@example.org")
    membership = invitation_accept(token=token, user=newcomer)
    joined = last(org)
    assert (joined.actor, joined.action, joined.target_kind, joined.target_id) == (
        newcomer,
        "joined",
        "membership",
        membership.pk,
    )
    assert joined.changes == {"role": [None, "Admin"], "invitation": [None, "new@example.org"]}

    owner_client.post(at("member_role", org, membership_id=membership.pk), {"role": "viewer"})
    changed = last(org)
    assert (changed.actor, changed.action, changed.target_label, changed.changes) == (
        owner,
        "changed role",
        "newt",
        {"role": ["Admin", "Viewer"]},
    )
    owner_client.post(at("member_remove", org, membership_id=membership.pk))
    removed = last(org)
    assert (removed.action, removed.target_id, removed.changes) == (
        "removed",
        membership.pk,
        {"role": ["Viewer", None]},
    )
    assert not Membership.objects.for_org(org).filter(user=newcomer).exists()

    # Neither link's token nor its hash is anywhere in the log.
    invitation.refresh_from_db()
    logged = json.dumps([[e.target_label, e.changes] for e in entries(org)])
    for secret in (first_token, token, invitation.token_hash):
        assert secret not in logged


def test_a_revoked_invitation(owner_client, org, owner):
    owner_client.post(at("member_list", org), {"email": "x@example.org", "role": "viewer"})
    invitation = Invitation.objects.for_org(org).get()
    owner_client.post(at("invitation_revoke", org, invitation_id=invitation.pk))
    revoked = last(org)
    assert (revoked.action, revoked.target_id, revoked.changes) == (
        "revoked invitation",
        invitation.pk,
        {"status": ["pending", "revoked"]},
    )
    owner_client.post(at("invitation_revoke", org, invitation_id=invitation.pk))  # again
    assert [e.action for e in entries(org)] == ["invited", "revoked invitation"]


def test_a_refused_change_writes_nothing(owner_client, org, owner):
    membership = Membership.objects.for_org(org).get(user=owner)
    owner_client.post(at("member_role", org, membership_id=membership.pk), {"role": "viewer"})
    owner_client.post(at("member_remove", org, membership_id=membership.pk))  # the last owner
    assert entries(org) == []


# -- the page -----------------------------------------------------------------------------------


def _entry(organization, *, days_ago: float = 0, **fields) -> AuditEntry:
    values = {
        "actor_label": "ada",
        "action": "edited",
        "target_kind": "task",
        "target_id": 1,
        "target_label": "A task",
        "changes": {"title": ["Old", "New"]},
        **fields,
    }
    return AuditEntry(
        organization=organization,
        created_at=timezone.now() - datetime.timedelta(days=days_ago),
        **values,
    )


def _log(organization, count: int) -> None:
    AuditEntry.objects.bulk_create(
        _entry(
            organization,
            days_ago=i / 24,
            actor_label=f"user{i % 5}",
            action=("edited", "created", "moved")[i % 3],
            target_label=f"Task {i}",
        )
        for i in range(count)
    )


@pytest.mark.parametrize("role", [Role.VIEWER, Role.MEMBER])
def test_only_admins_and_owners_read_the_log(client, org, member_of, role):
    client.force_login(member_of(org, role))
    for name in ("audit_log", "audit_csv"):
        response = client.get(at(name, org))
        assert response.status_code == 403
        assert "This needs the admin role." in response.content.decode()
    assert f'href="{at("audit_log", org)}"' not in client.get(at("org_home", org)).content.decode()


def test_another_organizations_log_is_not_found_and_never_shown(
    admin_client, org, other_org, member_of
):
    AuditEntry.objects.bulk_create(
        [
            _entry(org, target_label="Ours"),
            _entry(other_org, target_label="Theirs", actor_label="theo", action="removed"),
        ]
    )
    for name in ("audit_log", "audit_csv"):
        assert admin_client.get(at(name, other_org)).status_code == 404
    page = admin_client.get(at("audit_log", org)).content.decode()
    assert "Ours" in page and "Theirs" not in page
    assert "theo" not in page and ">removed<" not in page  # nor among the filters' choices
    exported = b"".join(admin_client.get(at("audit_csv", org)).streaming_content).decode()
    assert "Ours" in exported and "Theirs" not in exported
    # Even the other organization's admin, in theirs, sees only theirs.
    theirs = Client()
    theirs.force_login(member_of(other_org, Role.OWNER))
    page = theirs.get(at("audit_log", other_org)).content.decode()
    assert "Theirs" in page and "Ours" not in page


def test_the_page_shows_who_what_when_and_before_and_after(admin_client, org, admin):
    pathway = PathwayFactory(organization=org, name="Growth")
    pathway.name = "Growth & reach"
    services.record_save(record=pathway, actor=admin)
    response = admin_client.get(at("audit_log", org))
    html = response.content.decode()
    assert "<title>Audit log · Acme Health · MissionOS</title>" in html
    row = html[html.index(f'id="audit-{last(org).pk}"') :].split("</tr>")[0]
    assert ">ada<" in row and "edited" in row
    assert f'href="{at("pathway_detail", org, pathway_id=pathway.pk)}"' in row  # its page
    assert "<dt>name</dt>" in row
    assert (
        '<span class="before">Growth</span> → <span class="after">Growth &amp; reach</span>' in row
    )
    assert "style=" not in html and "onclick" not in html.lower()


def test_the_filters(admin_client, org):
    AuditEntry.objects.bulk_create(
        [
            _entry(org, target_label="Old edit", days_ago=30),
            _entry(org, target_label="Bea's task", actor_label="bea", action="moved"),
            _entry(
                org,
                target_label="Airtable run",
                actor_label="Airtable",
                target_kind="sync_run",
                action="synced",
                changes={"records created": [None, 3]},
            ),
            _entry(org, target_label="Recent edit", days_ago=1),
        ]
    )

    def listed(**params) -> list[str]:
        response = admin_client.get(at("audit_log", org), params)
        assert response.status_code == 200
        return [entry.target_label for entry in response.context["page"].object_list]

    assert listed() == ["Airtable run", "Bea's task", "Recent edit", "Old edit"]
    assert listed(actor="bea") == ["Bea's task"]
    assert listed(actor="Airtable") == ["Airtable run"]
    assert listed(kind="sync_run") == ["Airtable run"]
    assert listed(action="moved") == ["Bea's task"]
    today = timezone.localdate()
    assert set(listed(since=(today - datetime.timedelta(days=2)).isoformat())) == {
        "Bea's task",
        "Airtable run",
        "Recent edit",
    }
    month_ago = (today - datetime.timedelta(days=30)).isoformat()
    assert listed(since=month_ago, until=month_ago) == ["Old edit"]
    assert listed(kind="task", actor="ada", since=month_ago) == ["Recent edit", "Old edit"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"since": "2024-13-01"}, "From: Enter a valid date."),
        ({"until": "0001-01-01"}, "To: 0001-01-01 is outside the dates MissionOS keeps"),
        ({"since": "2026-03-02", "until": "2026-03-01"}, "Choose a day on or after the first one."),
        ({"actor": "nobody"}, "Select a valid choice."),
        ({"kind": "<script>"}, "Select a valid choice. &lt;script&gt; is not one of"),
        ({"page": "9" * 40}, ""),
    ],
)
def test_bad_filters_are_said_and_left_out(admin_client, org, params, message):
    _log(org, 3)
    response = admin_client.get(at("audit_log", org), params)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert len(response.context["page"].object_list) == 3  # the rest of the filters still apply
    exported = admin_client.get(at("audit_csv", org), params)
    if message:  # the export is never of something else than asked: the page says why
        assert exported.status_code == 302
        assert exported.url.startswith(at("audit_log", org) + "?")
    else:
        assert exported.status_code == 200


def test_newest_first_in_pages_and_the_fragment_for_htmx(admin_client, org):
    _log(org, 60)
    first = admin_client.get(at("audit_log", org)).context["page"]
    assert [e.target_label for e in first.object_list][:2] == ["Task 0", "Task 1"]
    assert len(first.object_list) == 50 and first.paginator.num_pages == 2
    second = admin_client.get(at("audit_log", org), {"page": 2}).context["page"]
    assert [e.target_label for e in second.object_list][-1] == "Task 59"
    fragment = admin_client.get(
        at("audit_log", org),
        {"page": 2, "action": "moved"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="audit-results",
    ).content.decode()
    assert fragment.strip().startswith('<div id="audit-results"') and "<html" not in fragment
    assert "20 entries" in fragment


def test_the_csv_export(admin_client, org, admin):
    AuditEntry.objects.bulk_create(
        [
            _entry(
                org,
                days_ago=1,
                target_label='=HYPERLINK("http://x")',
                changes={"title": ["@SUM(A1)", "+cmd"], "due_on": [None, "-1"]},
            ),
            _entry(org, actor_label="bea", action="moved", target_label="Other", changes={}),
        ]
    )
    response = admin_client.get(at("audit_csv", org), {"actor": "ada"})
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-acme-')
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == audit.CSV_HEADER
    assert [row[1:] for row in rows[1:]] == [
        ["ada", "edited", "Task", "1", '\'=HYPERLINK("http://x")', "title", "'@SUM(A1)", "'+cmd"],
        ["ada", "edited", "Task", "1", '\'=HYPERLINK("http://x")', "due on", "", "'-1"],
    ]
    assert datetime.datetime.fromisoformat(rows[1][0]).utcoffset() == datetime.timedelta(0)
    everything = b"".join(admin_client.get(at("audit_csv", org)).streaming_content).decode()
    assert everything.count("\r\n") == 4  # the header, two fields, one entry without any
    assert "bea,moved,Task,1,Other,,," in everything
    page = admin_client.get(at("audit_log", org), {"actor": "ada", "page": 1}).content.decode()
    assert f'href="{at("audit_csv", org)}?actor=ada"' in page  # the page's filters, not its page


@pytest.mark.parametrize("size", [3, 300])
def test_the_page_costs_the_same_queries_at_any_size(
    admin_client, org, other_org, size, django_assert_num_queries, session_queries
):
    _log(org, size)
    _log(other_org, size)
    url = at("audit_log", org)
    admin_client.get(url)  # warm: the organization is marked used
    # The user with their memberships, who and which actions for the filters, the count, the
    # page's rows.
    with django_assert_num_queries(session_queries + 5):
        response = admin_client.get(url, {"kind": "task"})
    assert response.context["page"].paginator.count == size
