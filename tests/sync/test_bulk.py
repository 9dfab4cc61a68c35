"""The sync's bulk writer: COPY on Postgres, Django's bulk methods elsewhere, same outcome."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from okrs.models import Task, TaskStatus
from sync import services
from sync.bulk import KeyReserve, new_row, save_rows, take_keys, upsert_rows
from sync.models import RunKind, RunStatus, SyncIssue, SyncRun
from sync.reconcile.adapters import ENTITY_MODELS
from sync.reconcile.issues import NATURAL_KEY, REFRESHED, problem_key
from tests.factories import ProjectFactory, TaskFactory

pytestmark = pytest.mark.django_db


def test_new_rows_get_their_keys_and_existing_rows_only_the_named_columns(org):
    project = ProjectFactory(organization=org)
    long_ago = timezone.now() - datetime.timedelta(days=400)
    existing = [TaskFactory(organization=org, project=project) for _ in range(2)]
    Task.objects.unscoped(include_archived=True).filter(pk__in=[t.pk for t in existing]).update(
        created_at=long_ago
    )
    for task in existing:
        task.refresh_from_db()
        task.title = f"{task.title} (renamed)"
        task.status = TaskStatus.DONE  # changed in memory, not named: must not be written
        task.created_at = timezone.now()
    extra = {"fields": {"fldNOTE": "naïve “quotes”\ttab\nline"}, "links": {"project": ["recA"]}}
    new = [
        Task(
            organization=org,
            project=project,
            title=f"New {i}",
            source_table="tblTASKS",
            source_record_id=f"recNEW{i}",
            source_extra=extra,
        )
        for i in range(3)
    ]

    save_rows(Task, [*existing, *new], ["title"])

    assert all(task.pk is not None for task in new)
    stored_new = Task.objects.unscoped(include_archived=True).in_bulk([task.pk for task in new])
    assert [stored_new[task.pk].title for task in new] == ["New 0", "New 1", "New 2"]
    assert all(stored_new[task.pk].source_extra == extra for task in new)
    assert all(stored_new[task.pk].updated_at is not None for task in new)
    for task in existing:
        stored = Task.objects.unscoped(include_archived=True).get(pk=task.pk)
        assert stored.title.endswith("(renamed)")
        assert stored.status == TaskStatus.TODO
        assert stored.created_at == long_ago


def test_two_writes_in_one_transaction_do_not_mix(org):
    """Postgres stages updates in a temporary table emptied at commit: a second write in the
    same transaction must not apply the first one's rows again."""
    first, second = TaskFactory(organization=org), TaskFactory(organization=org)
    with transaction.atomic():
        first.title = "First"
        save_rows(Task, [first], ["title"])
        Task.objects.unscoped(include_archived=True).filter(pk=first.pk).update(
            title="Changed in between"
        )
        second.title = "Second"
        save_rows(Task, [second], ["title"])
    assert (
        Task.objects.unscoped(include_archived=True).get(pk=first.pk).title == "Changed in between"
    )
    assert Task.objects.unscoped(include_archived=True).get(pk=second.pk).title == "Second"


@pytest.mark.django_db(transaction=True)
def test_upsert_rows_adds_new_problems_and_refreshes_only_the_named_columns_of_known_ones(
    connection,
):
    """Issues go in by COPY and one INSERT … ON CONFLICT on Postgres, by bulk_create elsewhere:
    the same rows either way, also outside a transaction (the staging table empties at every
    commit, so staging and moving must be one)."""
    first_run = services.run_request(connection=connection, kind=RunKind.FULL)
    SyncRun.objects.unscoped().filter(pk=first_run.pk).update(status=RunStatus.SUCCEEDED)
    second_run = services.run_request(connection=connection, kind=RunKind.FULL)
    org = connection.organization

    def issue(run, record_id: str, reason: str, table_name: str) -> SyncIssue:
        return SyncIssue(
            organization=org,
            run=run,
            last_seen_run=run,
            connection=connection,
            kind=SyncIssue.Kind.VALUE,
            table_id="tblTASKS",
            table_name=table_name,
            record_id=record_id,
            field_id="fldSTATUS",
            field_name="Status",
            reason=reason,
            problem_key=problem_key(reason),
        )

    upsert_rows(
        SyncIssue,
        [issue(first_run, "recA", "“Maybe” is not a status", "Tasks")],
        unique_fields=NATURAL_KEY,
        update_fields=REFRESHED,
    )
    known = SyncIssue.objects.for_org(org).get()

    upsert_rows(
        SyncIssue,
        [
            issue(second_run, "recA", "“Maybe” is not a status", "Action items"),
            issue(second_run, "recB", "tab\there, naïve", "Action items"),
        ],
        unique_fields=NATURAL_KEY,
        update_fields=REFRESHED,
    )

    rows = {row.record_id: row for row in SyncIssue.objects.for_org(org)}
    assert set(rows) == {"recA", "recB"}
    again = rows["recA"]
    assert again.pk == known.pk  # updated in place, not added
    assert again.run_id == first_run.pk  # first found by the first run ...
    assert again.last_seen_run_id == second_run.pk  # ... seen again by the second
    assert again.table_name == "Action items"
    added = rows["recB"]
    assert (added.run_id, added.last_seen_run_id) == (second_run.pk, second_run.pk)
    assert added.reason == "tab\there, naïve" and added.problem_key == problem_key(added.reason)
    assert (added.organization_id, added.connection_id) == (org.pk, connection.pk)


@pytest.mark.parametrize("model", sorted(ENTITY_MODELS.values(), key=lambda m: m.__name__))
def test_new_row_makes_the_row_djangos_constructor_makes(model, org):
    """sync.bulk.new_row, the sync's fast constructor, against `model(**values)`: every
    field's value, the relation set through its descriptor, a new row's state."""
    values = {
        "organization": org,
        "source_table": "tblX",
        "source_record_id": "recX",
        "source_connection_id": None,
        "created_at": timezone.now(),
        "archived_at": None,
    }
    made, django_made = new_row(model, dict(values)), model(**values)
    made_each_time = {
        f.attname for f in model._meta.concrete_fields if f.has_default() and callable(f.default)
    }
    fields = [f.attname for f in model._meta.concrete_fields if f.attname not in made_each_time]
    assert {f: getattr(made, f) for f in fields} == {f: getattr(django_made, f) for f in fields}
    for name in made_each_time:  # timezone.now, dict: made anew, of the same kind
        assert type(getattr(made, name)) is type(getattr(django_made, name)), name
    assert made.organization is org and made.organization_id == org.pk
    assert made._state.adding and made.pk is None
    assert made._state.db == django_made._state.db  # the relation's descriptor set it
    # A default made for each row is not shared between rows (a JSON field's dict).
    for model_field in model._meta.concrete_fields:
        if model_field.has_default() and callable(model_field.default):
            other = new_row(model, dict(values))
            value = getattr(made, model_field.attname)
            if isinstance(value, dict | list):
                assert value is not getattr(other, model_field.attname)


def test_new_row_refuses_a_name_that_is_no_field(org):
    with pytest.raises(TypeError, match="unexpected keyword"):
        new_row(Task, {"organization": org, "titel": "typo"})


def test_a_new_row_is_saved_like_any_other(org):
    project = ProjectFactory(organization=org)
    task = new_row(Task, {"organization": org, "project": project, "title": "Made fast"})
    save_rows(Task, [task], ["title"])
    stored = Task.objects.for_org(org).get(pk=task.pk)
    assert (stored.title, stored.project_id, stored.status) == ("Made fast", project.pk, "todo")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="keys from the sequence")
def test_a_key_reserve_takes_keys_a_block_at_a_time(org):
    project = ProjectFactory(organization=org)
    reserve = KeyReserve()
    pages = [
        [Task(organization=org, project=project, title=f"Page {p} row {i}") for i in range(100)]
        for p in range(4)
    ]
    with CaptureQueriesContext(connection) as captured:
        for page in pages:
            take_keys(Task, page, reserve)
    assert sum("nextval" in q["sql"] for q in captured.captured_queries) == 1
    keys = [task.pk for page in pages for task in page]
    assert keys == sorted(set(keys))  # distinct, in the order asked
    for page in pages:
        save_rows(Task, page, ["title"])
    assert Task.objects.for_org(org).filter(pk__in=keys).count() == 400
    # A block bigger than what is left: the reserve tops up with what the page needs.
    big = [Task(organization=org, project=project, title=f"Big {i}") for i in range(1200)]
    take_keys(Task, big, reserve)
    assert len({task.pk for task in big}) == 1200 and min(t.pk for t in big) > max(keys)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="keys from the sequence")
def test_a_few_new_rows_take_exactly_their_keys(org):
    """A run that adds a few rows (an incremental sync's) leaves no gap in the sequence."""
    project = ProjectFactory(organization=org)
    reserve = KeyReserve()
    few = [Task(organization=org, project=project, title=f"Few {i}") for i in range(3)]
    take_keys(Task, few, reserve)
    after = Task(organization=org, project=project, title="After")
    take_keys(Task, [after])
    assert [task.pk for task in few] == [few[0].pk + i for i in range(3)]
    assert after.pk == few[-1].pk + 1
