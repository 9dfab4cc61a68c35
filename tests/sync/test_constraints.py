"""No record can fail a run on the database's rules: every value the sync writes fits its column
and its model's check constraints. A value that does not is left empty, the record is kept and
the run lists an issue; the run never fails (it used to, for good: every re-run met the same
record). Synced rows are dated by Airtable's createdTime, not by the sync.

The end-to-end tests go through the real client and the fake Airtable; the property test feeds
open-ended values to the conversion and saves what comes out, so it covers every column and
constraint of every synced model, including ones added later.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import models, transaction
from django.db.models import CheckConstraint
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from okrs import history
from okrs.models import KeyResult, Pathway, Project, Task
from sync import selectors, services
from sync.airtable.ratelimit import NoRateLimiter
from sync.mapping.catalogue import ENTITIES
from sync.mapping.document import EntityMapping
from sync.models import RunKind, RunStatus, SyncIssue
from sync.reconcile.adapters import ADAPTERS
from sync.reconcile.records import convert_record
from sync.schema import FieldSchema, TableSchema
from tests.factories import (
    KeyResultFactory,
    ObjectiveFactory,
    OrganizationFactory,
    ProjectFactory,
)
from tests.sync.airtable_base import BASE_ID, T_KRS, T_PATHWAYS, T_PROJECTS, TOKEN
from tests.sync.test_sync import FAST

pytestmark = pytest.mark.django_db


def full_sync(connection):
    run = services.run_request(connection=connection, kind=RunKind.FULL)
    services.run_execute(run_id=run.pk, policy=FAST, limiter=NoRateLimiter())
    run.refresh_from_db()
    return run


@pytest.fixture
def messy(fake, org):
    """The test base with values that break the database's rules, and a connection to it
    (made after the fields exist, so the proposed mapping takes them)."""
    base = fake.bases[BASE_ID]
    projects, krs, pathways = base.table(T_PROJECTS), base.table(T_KRS), base.table(T_PATHWAYS)
    weight = krs.add_field("Weight", "number", options={"precision": 2})
    position = pathways.add_field("Position", "number", options={"precision": 0})
    backwards = projects.create(
        {
            "fldJNAME00000001": "Backwards",
            "fldJSTART0000001": "2026-10-01",
            "fldJEND000000001": "2026-09-01",  # due before it starts
        },
        created_time="2025-03-04T09:00:00.000Z",
    )
    objective = {"fldKOBJECTIVE001": [fake.ids["objectives"][0]]}
    huge = krs.create(
        {"fldKNAME00000001": "Huge", "fldKTARGET000001": 1e20, weight: -3, **objective}
    )
    precise = krs.create(
        {"fldKNAME00000001": "Precise", "fldKTARGET000001": 0.123456, weight: 2, **objective}
    )
    far = pathways.create({"fldWNAME00000001": "Far", position: 70000})
    connection = services.connection_create(
        organization=org, name="Messy", base_id=BASE_ID, token=TOKEN
    )
    mapped = connection.mapping["entities"]
    assert mapped["key_result"]["fields"].get("weight") == weight
    assert mapped["pathway"]["fields"].get("position") == position
    return connection, {"backwards": backwards, "huge": huge, "precise": precise, "far": far}


def issues_of(run, record_id: str) -> list[str]:
    return [
        i.reason
        for i in selectors.run_issues(organization=run.organization, run=run).filter(
            record_id=record_id
        )
    ]


def test_a_project_due_before_it_starts_is_kept_without_its_end_date(messy, org):
    connection, ids = messy
    run = full_sync(connection)
    assert run.status == RunStatus.SUCCEEDED, run.error
    project = Project.objects.for_org(org).get(source_record_id=ids["backwards"])
    assert (project.starts_on, project.ends_on) == (datetime.date(2026, 10, 1), None)
    assert issues_of(run, ids["backwards"]) == [
        "ends 1 Sep 2026, before it starts 1 Oct 2026; end date left empty"
    ]
    again = full_sync(connection)  # unchanged: nothing written, the issue listed again
    assert (again.status, again.created, again.updated) == (RunStatus.SUCCEEDED, 0, 0)
    assert issues_of(again, ids["backwards"]) == issues_of(run, ids["backwards"])


def test_numbers_a_column_cannot_hold_are_left_empty_and_said(messy, org):
    connection, ids = messy
    run = full_sync(connection)
    assert run.status == RunStatus.SUCCEEDED, run.error
    huge = KeyResult.objects.for_org(org).get(source_record_id=ids["huge"])
    assert (huge.target_value, huge.weight) == (Decimal(0), Decimal(1))  # the entity's defaults
    reasons = issues_of(run, ids["huge"])
    assert reasons == [
        "too large: 1e+20",  # the conversion's own limit (sync.values)
        "-3 does not fit: ensure this value is greater than or equal to 0; left empty",
    ]
    precise = KeyResult.objects.for_org(org).get(source_record_id=ids["precise"])
    assert precise.target_value == Decimal("0.1235")  # rounded to the column: not an issue
    assert issues_of(run, ids["precise"]) == []
    far = Pathway.objects.for_org(org).get(source_record_id=ids["far"])
    assert far.position == 0
    assert any("70000 does not fit" in r for r in issues_of(run, ids["far"]))


def test_a_rounded_number_is_not_taken_for_a_missionos_edit(messy, org):
    connection, ids = messy
    full_sync(connection)
    # Converted again (as when the base changes): what the sync wrote is what the row holds.
    KeyResult.objects.for_org(org).filter(source_record_id=ids["precise"]).update(source_hash="")
    again = full_sync(connection)
    overwrites = SyncIssue.objects.for_org(org).filter(run=again, kind=SyncIssue.Kind.OVERWRITE)
    assert not overwrites.exists()


def test_nul_characters_are_removed_wherever_they_are(messy, fake, org):
    connection, _ = messy
    tasks = fake.bases[BASE_ID].table("tblTASKS00000001")
    nul = tasks.create({"fldTNAME00000001": "Call\x00 back", "fldTSTATUS000001": "Sooon\x00"})
    run = full_sync(connection)
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert Task.objects.for_org(org).get(source_record_id=nul).title == "Call back"
    reasons = issues_of(run, nul)
    assert "NUL characters (U+0000) removed" in reasons
    assert not any("\x00" in reason for reason in reasons)


def test_synced_rows_are_dated_by_airtables_created_time(messy, org):
    connection, ids = messy
    full_sync(connection)
    project = Project.objects.for_org(org).get(source_record_id=ids["backwards"])
    assert project.created_at == datetime.datetime(2025, 3, 4, 9, 0, tzinfo=datetime.UTC)


def test_a_synced_projects_burn_up_counts_its_tasks_from_their_creation_in_airtable(
    messy, fake, org
):
    """The burn-up used to show no task in scope until the day of the sync, then a jump."""
    connection, _ = messy
    base = fake.bases[BASE_ID]
    month_ago = "2026-11-01T08:00:00.000Z"
    project_id = base.table(T_PROJECTS).create(
        {"fldJNAME00000001": "Clinic hours"}, created_time=month_ago
    )
    for title in ("Draft rota", "Book rooms"):
        base.table("tblTASKS00000001").create(
            {"fldTNAME00000001": title, "fldTPROJECT00001": [project_id]}, created_time=month_ago
        )
    full_sync(connection)
    project = Project.objects.for_org(org).get(source_record_id=project_id)
    burn_up = history.project_burnup(organization=org, project=project)
    first_moment, first_scope = burn_up.scope[0]
    assert first_moment == datetime.datetime(2026, 11, 1, 8, 0, tzinfo=datetime.UTC)
    assert first_scope == 2


def test_rows_synced_before_created_time_was_read_are_dated_again(messy, org):
    connection, ids = messy
    full_sync(connection)
    moved = Project.objects.for_org(org).filter(source_record_id=ids["backwards"])
    moved.update(created_at=datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC), source_hash="")
    full_sync(connection)  # the record is converted again (as after CONVERSION_VERSION moves)
    assert moved.get().created_at == datetime.datetime(2025, 3, 4, 9, 0, tzinfo=datetime.UTC)


def test_every_check_constraint_of_a_synced_model_is_kept_by_its_adapter():
    for entity, adapter in ADAPTERS.items():
        checks = {c.name for c in adapter.model._meta.constraints if isinstance(c, CheckConstraint)}
        assert checks <= adapter.checks_kept, (
            f"{entity}: nobody keeps {checks - adapter.checks_kept}"
        )


def test_no_unique_constraint_of_a_synced_model_rests_on_a_value_from_airtable():
    """Uniques hold by construction: a record is one row per (organization, table, record id),
    the last copy winning when a page repeats it; nothing else unique is written from a cell."""
    provenance = {"organization", "source_table", "source_record_id"}
    for entity, adapter in ADAPTERS.items():
        synced = set(ENTITIES[entity]) - adapter.virtual_attributes
        for constraint in adapter.model._meta.constraints:
            if isinstance(constraint, models.UniqueConstraint):
                from_airtable = (set(constraint.fields) - provenance) & synced
                assert not from_airtable, f"{entity}: {constraint.name} on {from_airtable}"
        for field in adapter.model._meta.fields:
            assert not (field.unique and field.name in synced), f"{entity}.{field.name} unique"


# -- any value at all -----------------------------------------------------------------------

# What an Airtable cell can hold, for each kind of attribute: ordinary values and the edges.
NUMBERS = st.one_of(
    st.integers(min_value=-(10**22), max_value=10**22),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(
        allow_nan=False, allow_infinity=False, places=6, min_value=-(10**20), max_value=10**20
    ),
    st.text(max_size=12),
)
DATES = st.one_of(
    st.dates(min_value=datetime.date(1, 1, 1), max_value=datetime.date(9999, 12, 31)).map(
        datetime.date.isoformat
    ),
    st.text(max_size=12),
)
CELLS = {
    "text": st.text(max_size=400),
    "long_text": st.text(max_size=6000),
    "email": st.text(max_size=300),
    "number": NUMBERS,
    "integer": NUMBERS,
    "date": DATES,
    "datetime": st.datetimes(timezones=st.just(datetime.UTC)).map(lambda d: d.isoformat()),
    "checkbox": st.one_of(st.booleans(), st.none()),
    "choice": st.text(max_size=30),
}
FIELD_TYPES = {
    "text": "singleLineText",
    "long_text": "multilineText",
    "email": "email",
    "number": "number",
    "integer": "number",
    "date": "date",
    "datetime": "dateTime",
    "checkbox": "checkbox",
    "choice": "singleLineText",
}


def entity_table(entity: str) -> tuple[TableSchema, EntityMapping]:
    attrs = {n: a for n, a in ENTITIES[entity].items() if a.kind in CELLS}
    fields = tuple(
        FieldSchema(id=f"fld{n[:10]:_<14}"[:17], name=n, type=FIELD_TYPES[a.kind])
        for n, a in attrs.items()
    )
    table = TableSchema(
        id="tblANYTHING00001", name=entity, primary_field_id=fields[0].id, fields=fields
    )
    mapping = EntityMapping(
        entity=entity,
        table_id=table.id,
        table_name=entity,
        fields={n: f.id for n, f in zip(attrs, fields, strict=True)},
    )
    return table, mapping


def parents(entity: str, organization) -> dict:
    """The links a row of `entity` needs to be saved (the conversion does not set links)."""
    if entity == "key_result":
        return {"objective": ObjectiveFactory(organization=organization)}
    if entity == "check_in":
        return {"key_result": KeyResultFactory(organization=organization)}
    if entity == "task":
        return {"project": ProjectFactory(organization=organization)}
    return {}


@pytest.mark.parametrize("entity", list(ENTITIES))
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_whatever_a_cell_holds_the_row_can_be_saved(entity, data):
    table, mapping = entity_table(entity)
    adapter = ADAPTERS[entity]
    cells = {
        field_id: data.draw(CELLS[ENTITIES[entity][name].kind], label=name)
        for name, field_id in mapping.fields.items()
    }
    cells["fldNOTMAPPED00001"] = data.draw(st.text(max_size=40), label="an unmapped field")
    record = {"id": "recANYTHING000001", "createdTime": "2026-01-02T03:04:05.000Z", "fields": cells}
    now = datetime.datetime(2026, 6, 1, tzinfo=datetime.UTC)
    item = convert_record(adapter, mapping, table, record, now=now)
    assert not any("\x00" in reason for _, _, reason in item.issues)  # issues are saved too
    if item.skip:
        return  # not a row at all, with an issue saying why
    organization = OrganizationFactory()
    with transaction.atomic():
        row = adapter.model(
            organization=organization,
            source_table=table.id,
            source_record_id=record["id"],
            created_at=item.created_time,
            source_extra={"fields": item.extras},  # the unmapped cells, kept as the sync does
            **item.values,
            **parents(entity, organization),
        )
        adapter.keep_checks(row, item, mapping)
        links = [f.name for f in adapter.model._meta.fields if f.is_relation]
        row.clean_fields(exclude=links)  # lengths, digits, ranges: what SQLite does not enforce
        row.validate_constraints()
        row.save()  # and what Postgres does
        transaction.set_rollback(True)
