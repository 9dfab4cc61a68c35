"""Schema parsing, mapping proposals, checks and the stored form: pure, no database."""

from __future__ import annotations

import copy
import hashlib
import json
import string
from pathlib import Path
from typing import Any

import pytest

from sync.mapping.catalogue import ENTITIES, LABEL_ATTRS
from sync.mapping.check import check_mapping
from sync.mapping.describe import describe
from sync.mapping.document import EntityMapping, Mapping, MappingError
from sync.mapping.names import match_choice, normalize_name, normalize_value
from sync.mapping.propose import candidate_fields, propose_mapping, propose_value_map
from sync.schema import BaseSchema, FieldSchema, schema_from_api

FIXTURES = Path(__file__).parent / "fixtures"
ALNUM = string.ascii_letters + string.digits


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}_base.json").read_text())


def fake_id(prefix: str, seed: str) -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    return prefix + "".join(ALNUM[byte % len(ALNUM)] for byte in digest[:14])


FieldSpec = tuple[str, str] | tuple[str, str, dict[str, Any]]


def make_payload(tables: dict[str, list[FieldSpec]]) -> dict[str, Any]:
    """A metadata API payload; options {"linkedTable": name} become linkedTableId."""
    ids = {name: fake_id("tbl", name) for name in tables}
    payload_tables = []
    for table_name, specs in tables.items():
        fields = []
        for spec in specs:
            name, field_type = spec[0], spec[1]
            entry: dict[str, Any] = {
                "id": fake_id("fld", f"{table_name}/{name}"),
                "name": name,
                "type": field_type,
            }
            if len(spec) > 2:
                options = dict(spec[2])  # type: ignore[misc]
                if "linkedTable" in options:
                    options["linkedTableId"] = ids[options.pop("linkedTable")]
                if "choices" in options:
                    options["choices"] = [{"id": f"sel{c}", "name": c} for c in options["choices"]]
                entry["options"] = options
            fields.append(entry)
        payload_tables.append(
            {
                "id": ids[table_name],
                "name": table_name,
                "primaryFieldId": fields[0]["id"],
                "fields": fields,
            }
        )
    return {"tables": payload_tables}


def make_schema(tables: dict[str, list[FieldSpec]]) -> BaseSchema:
    return schema_from_api(make_payload(tables))


def link(table: str) -> dict[str, Any]:
    return {"linkedTable": table}


def select(*choices: str) -> dict[str, Any]:
    return {"choices": list(choices)}


def by_names(mapping: Mapping, schema: BaseSchema) -> dict[str, dict[str, str]]:
    """{entity: {"table": name, attribute: field name}} for readable assertions."""
    named: dict[str, dict[str, str]] = {}
    for entity, entity_mapping in mapping.entities.items():
        table = schema.table(entity_mapping.table_id)
        assert table is not None
        row = {"table": table.name}
        for attr, field_id in entity_mapping.fields.items():
            schema_field = table.field(field_id)
            assert schema_field is not None
            row[attr] = schema_field.name
        named[entity] = row
    return named


# --- schema ---------------------------------------------------------------------------------


def test_schema_from_api_reads_tables_fields_and_options():
    schema = schema_from_api(load("messy"))
    initiatives = schema.tables[5]
    assert initiatives.name == "Initiatives"
    assert schema.table(initiatives.id) is initiatives
    assert schema.table("tblNope") is None
    assert initiatives.primary_field is not None
    assert initiatives.primary_field.name == "Project Name"
    status = initiatives.field_named("status")  # case-insensitive fallback
    assert status is not None and status.name == "Status" and status.type == "singleSelect"
    assert "Frozen" in status.choices
    assert initiatives.field(status.id) is status
    owner = initiatives.field_named("Owner")
    assert owner is not None and owner.linked_table_id == schema.tables[0].id
    health = initiatives.field_named("Health score")
    assert health is not None and health.result_type == "number"


def test_schema_from_api_tolerates_unknown_types_missing_options_and_junk():
    schema = schema_from_api(
        {
            "tables": [
                {
                    "id": "tblAAAAAAAAAAAAAA",
                    "name": "Things",
                    "fields": [
                        {"id": "fldAAAAAAAAAAAAAA", "name": "Name", "type": "singleLineText"},
                        {"id": "fldBBBBBBBBBBBBBB", "name": "Hologram", "type": "hologram3d"},
                        {"id": "fldCCCCCCCCCCCCCC", "name": "Links", "type": "multipleRecordLinks"},
                        {"id": "fldDDDDDDDDDDDDDD", "type": "formula", "options": None},
                        {"name": "no id"},
                        "junk",
                    ],
                },
                {"name": "no id either"},
                42,
            ]
        }
    )
    (table,) = schema.tables
    assert table.primary_field_id == "fldAAAAAAAAAAAAAA"  # missing primaryFieldId: the first
    assert [f.type for f in table.fields] == [
        "singleLineText",
        "hologram3d",
        "multipleRecordLinks",
        "formula",
    ]
    assert table.fields[2].options == {} and table.fields[2].linked_table_id is None
    assert table.fields[3].name == "fldDDDDDDDDDDDDDD" and table.fields[3].result_type is None
    assert schema_from_api({}) == BaseSchema(tables=())
    assert schema_from_api({"tables": "nope"}) == BaseSchema(tables=())
    propose_mapping(schema)  # does not choke on any of it


# --- proposals ------------------------------------------------------------------------------


def test_proposal_for_a_clean_base():
    schema = schema_from_api(load("clean"))
    mapping = propose_mapping(schema)
    named = by_names(mapping, schema)
    assert named == {
        "person": {
            "table": "People",
            "name": "Name",
            "email": "Email",
            "active": "Active",
            "departed_on": "Departed on",
        },
        "cycle": {
            "table": "Cycles",
            "name": "Name",
            "starts_on": "Start date",
            "ends_on": "End date",
        },
        "pathway": {
            "table": "Pathways",
            "name": "Name",
            "description": "Description",
            "position": "Position",
        },
        "objective": {
            "table": "Objectives",
            "title": "Title",
            "description": "Description",
            "pathway": "Pathway",
            "cycle": "Cycle",
            "owner": "Owner",
            "parent": "Parent objective",
        },
        "key_result": {
            "table": "Key Results",
            "title": "Title",
            "objective": "Objective",
            "metric_type": "Metric type",
            "start_value": "Start value",
            "current_value": "Current value",
            "target_value": "Target value",
            "unit": "Unit",
            "weight": "Weight",
            "confidence": "Confidence",
            "owner": "Owner",
        },
        "check_in": {
            "table": "Check-ins",
            "key_result": "Key result",
            "value": "Value",
            "confidence": "Confidence",
            "note": "Note",
            "checked_in_at": "Checked in at",
            "author": "Author",
        },
        "project": {
            "table": "Projects",
            "name": "Name",
            "description": "Description",
            "pathway": "Pathway",
            "objectives": "Objectives",
            "owner": "Owner",
            "status": "Status",
            "starts_on": "Start date",
            "ends_on": "End date",
        },
        "task": {
            "table": "Tasks",
            "title": "Title",
            "project": "Project",
            "assignee": "Assignee",
            "status": "Status",
            "due_on": "Due date",
            "completed_at": "Completed at",
        },
    }
    assert mapping.entities["project"].value_maps["status"] == {
        "abandoned": "abandoned",
        "active": "active",
        "done": "done",
        "on hold": "on_hold",
        "planned": "planned",
    }
    assert mapping.entities["key_result"].value_maps["metric_type"] == {
        "currency": "currency",
        "milestone": "milestone",
        "number": "number",
        "percentage": "percentage",
        "yes no": "yes_no",
    }
    assert check_mapping(mapping, schema) == []


def test_proposal_for_a_messy_base():
    schema = schema_from_api(load("messy"))
    mapping = propose_mapping(schema)
    named = by_names(mapping, schema)
    assert {entity: row["table"] for entity, row in named.items()} == {
        "person": "Team",
        "pathway": "Strategic Pillars",
        "objective": "OKRs",
        "key_result": "Key Results",
        "check_in": "Updates",
        "project": "Initiatives",
        "task": "Action Items",
    }
    assert "cycle" not in mapping.entities  # no cycles table: objectives name their quarter
    assert named["person"] == {
        "table": "Team",
        "name": "Name",
        "email": "Work email",
        "active": "Current?",
        "departed_on": "Left on",
        "status": "Employment status",
    }
    assert named["pathway"] == {
        "table": "Strategic Pillars",
        "name": "Pillar",  # the primary field, not a field called "Name"
        "description": "Summary",
        "position": "Order",
    }
    assert named["objective"] == {
        "table": "OKRs",
        "title": "Objective",
        "description": "Details",
        "pathway": "Pillar",
        "cycle": "Quarter",  # a single select naming the cycle
        "owner": "Lead",
        "parent": "Parent OKR",
    }
    assert named["key_result"] == {
        "table": "Key Results",
        "title": "KR",
        "objective": "Objective",
        "metric_type": "Type",
        "start_value": "Baseline",
        "current_value": "Current",
        "target_value": "Target",  # not "Target (old)"
        "unit": "Unit",
        "confidence": "Confidence",
        "owner": "Owner",  # a collaborator field
    }
    assert named["check_in"] == {
        "table": "Updates",
        "key_result": "Key Result",
        "value": "Value",
        "confidence": "Confidence",
        "note": "Comment",
        "checked_in_at": "Date",
        "author": "Submitted by",
    }
    assert named["project"] == {
        "table": "Initiatives",
        "name": "Project Name",
        "description": "Description",
        "pathway": "Strategic Pillar",
        "objectives": "OKRs",
        "owner": "Owner",  # the link to Team, not the collaborator "Owner 2"
        "status": "Status",  # the select, not the text "Status (old)"
        "starts_on": "Start",
        "ends_on": "Due",
    }
    assert named["task"] == {
        "table": "Action Items",
        "title": "Action",
        "project": "Initiative",
        "assignee": "Assigned to",
        "status": "Stage",
        "due_on": "Due",
        "completed_at": "Completed on",
    }
    project = mapping.entities["project"]
    assert project.value_maps["status"] == {
        "cancelled": "abandoned",
        "completed": "done",
        "done": "done",  # "Done" and "done " are one value
        "in progress": "active",
        "not started": "planned",
        "on hold": "on_hold",
    }  # "Frozen" is left for a person to decide
    assert mapping.entities["task"].value_maps["status"] == {
        "completed": "done",
        "doing": "in_progress",
        "done": "done",
        "stuck": "blocked",
        "to do": "todo",
    }  # a task has no "abandoned": "Cancelled" is left for a person to decide
    assert mapping.entities["key_result"].value_maps["metric_type"] == {
        "$": "currency",
        "%": "percentage",
        "milestones": "milestone",
        "number": "number",
        "yes no": "yes_no",
    }
    assert mapping.entities["person"].value_maps["status"] == {
        "active": "active",
        "former staff": "departed",
        "left": "departed",
        "on leave": "active",
    }
    assert check_mapping(mapping, schema) == []


@pytest.mark.parametrize("base", ["clean", "messy"])
def test_no_field_is_mapped_to_two_attributes(base: str):
    mapping = propose_mapping(schema_from_api(load(base)))
    for entity_mapping in mapping.entities.values():
        field_ids = list(entity_mapping.fields.values())
        assert len(field_ids) == len(set(field_ids))
    table_ids = [entity_mapping.table_id for entity_mapping in mapping.entities.values()]
    assert len(table_ids) == len(set(table_ids))


@pytest.mark.parametrize(
    ("table_name", "entity"),
    [
        ("People", "person"),
        ("Team", "person"),
        ("Staff", "person"),
        ("Members", "person"),
        ("Directory", "person"),
        ("Team members", "person"),
        ("Pathways", "pathway"),
        ("Strategic pillars", "pathway"),
        ("Themes", "pathway"),
        ("Priorities", "pathway"),
        ("Objectives", "objective"),
        ("Goals", "objective"),
        ("OKRs", "objective"),
        ("Key results", "key_result"),
        ("key-results", "key_result"),
        ("KRs", "key_result"),
        ("Metrics", "key_result"),
        ("Measures", "key_result"),
        ("Check-ins", "check_in"),
        ("Checkins", "check_in"),
        ("Updates", "check_in"),
        ("Progress updates", "check_in"),
        ("Progress", "check_in"),
        ("Projects", "project"),
        ("Initiatives", "project"),
        ("Programmes", "project"),
        ("Workstreams", "project"),
        ("Q3 Projects", "project"),
        ("Tasks", "task"),
        ("Actions", "task"),
        ("To-dos", "task"),
        ("Todos", "task"),
        ("Action items", "task"),
        ("  ACTION   ITEMS ", "task"),
        ("Cycles", "cycle"),
        ("Quarters", "cycle"),
        ("Periods", "cycle"),
    ],
)
def test_tables_are_matched_by_name(table_name: str, entity: str):
    schema = make_schema({table_name: [("Name", "singleLineText")]})
    mapping = propose_mapping(schema)
    assert list(mapping.entities) == [entity]


def test_a_table_with_a_noise_name_loses_to_the_real_one():
    schema = make_schema(
        {
            "Projects (old)": [("Name", "singleLineText")],
            "Projects": [("Name", "singleLineText")],
        }
    )
    assert propose_mapping(schema).entities["project"].table_name == "Projects"


def test_tables_whose_names_say_nothing_are_matched_by_their_links():
    schema = make_schema(
        {
            "Crew": [("Full name", "singleLineText"), ("Email", "email")],
            "Projects": [
                ("Name", "singleLineText"),
                ("Owner", "multipleRecordLinks", link("Crew")),
                ("Work", "multipleRecordLinks", link("Work")),
            ],
            "Work": [
                ("Name", "singleLineText"),
                ("Project", "multipleRecordLinks", link("Projects")),
                ("Status", "singleSelect", select("Todo", "Done")),
                ("Due", "date"),
            ],
            "Scratch": [("Notes", "multilineText")],
        }
    )
    mapping = propose_mapping(schema)
    named = by_names(mapping, schema)
    assert named["task"] == {
        "table": "Work",
        "title": "Name",
        "project": "Project",
        "status": "Status",
        "due_on": "Due",
    }
    assert named["person"]["table"] == "Crew"
    assert named["project"]["owner"] == "Owner"
    assert set(mapping.entities) == {"person", "project", "task"}  # Scratch stays unmapped


@pytest.mark.parametrize(
    ("field_name", "attr"),
    [
        ("Due", "due_on"),
        ("Due date", "due_on"),
        ("Deadline", "due_on"),
        ("due-date", "due_on"),
        ("Assignee", "assignee"),
        ("Assigned to", "assignee"),
        ("Status", "status"),
        ("Stage", "status"),
        ("State", "status"),
        ("Completed at", "completed_at"),
        ("Date completed", "completed_at"),
    ],
)
def test_task_fields_are_matched_by_name(field_name: str, attr: str):
    types = {
        "due_on": ("date", {}),
        "assignee": ("multipleRecordLinks", link("People")),
        "status": ("singleSelect", select("Done")),
        "completed_at": ("dateTime", {}),
    }
    field_type, options = types[attr]
    schema = make_schema(
        {
            "Tasks": [
                ("Task", "singleLineText"),
                ("Project", "multipleRecordLinks", link("Projects")),
                (field_name, field_type, options),
            ],
            "Projects": [("Name", "singleLineText")],
            "People": [("Name", "singleLineText")],
        }
    )
    named = by_names(propose_mapping(schema), schema)
    assert named["task"][attr] == field_name
    assert named["task"]["title"] == "Task"


@pytest.mark.parametrize(
    ("field_name", "attr"),
    [
        ("Project Name", "name"),
        ("Name", "name"),
        ("Title", "name"),
        ("Owner", "owner"),
        ("Lead", "owner"),
        ("Responsible", "owner"),
        ("DRI", "owner"),
        ("Project lead", "owner"),
        ("Status", "status"),
        ("Stage", "status"),
        ("Start", "starts_on"),
        ("Kick-off", "starts_on"),
        ("Deadline", "ends_on"),
        ("Due", "ends_on"),
    ],
)
def test_project_fields_are_matched_by_name(field_name: str, attr: str):
    types: dict[str, tuple[str, dict[str, Any]]] = {
        "name": ("singleLineText", {}),
        "owner": ("multipleRecordLinks", link("People")),
        "status": ("singleSelect", select("Done")),
        "starts_on": ("date", {}),
        "ends_on": ("date", {}),
    }
    field_type, options = types[attr]
    fields: list[FieldSpec] = [("ID", "autoNumber")]  # a primary field that names nothing
    fields.append((field_name, field_type, options))
    schema = make_schema({"Projects": fields, "People": [("Name", "singleLineText")]})
    named = by_names(propose_mapping(schema), schema)
    assert named["project"][attr] == field_name


@pytest.mark.parametrize(
    ("field_name", "attr"),
    [
        ("Start", "start_value"),
        ("Baseline", "start_value"),
        ("Start value", "start_value"),
        ("Target", "target_value"),
        ("Goal", "target_value"),
        ("Current", "current_value"),
        ("Actual", "current_value"),
        ("Latest", "current_value"),
    ],
)
def test_key_result_numbers_are_matched_by_name(field_name: str, attr: str):
    schema = make_schema(
        {
            "Key results": [
                ("Key result", "singleLineText"),
                ("Objective", "multipleRecordLinks", link("Objectives")),
                (field_name, "number", {"precision": 0}),
            ],
            "Objectives": [("Objective", "singleLineText")],
        }
    )
    named = by_names(propose_mapping(schema), schema)
    assert named["key_result"][attr] == field_name
    assert named["key_result"]["objective"] == "Objective"


def test_types_decide_between_fields_of_the_same_name():
    schema = make_schema(
        {
            "Key Results": [
                ("Name", "singleLineText"),
                ("Start", "date"),  # a date cannot be a start value
                ("Baseline", "number"),
                ("Goal", "multipleRecordLinks", link("Goals")),  # the objective, not the target
                ("Target", "percent", {"precision": 0}),
                ("Progress", "formula", {"result": {"type": "percent"}}),
            ],
            "Goals": [("Goal", "singleLineText")],
        }
    )
    named = by_names(propose_mapping(schema), schema)
    assert named["key_result"] == {
        "table": "Key Results",
        "title": "Name",
        "objective": "Goal",
        "start_value": "Baseline",
        "target_value": "Target",
    }


def test_duplicated_fields_prefer_the_exact_name_and_the_right_type():
    schema = make_schema(
        {
            "Projects": [
                ("Name", "singleLineText"),
                ("Owner", "singleLineText"),  # names typed by hand: cannot be a person link
                ("Owner 2", "multipleRecordLinks", link("People")),
                ("Status (old)", "singleSelect", select("Live", "Dead")),
                ("Status", "singleSelect", select("Active", "Done")),
                ("Start date (old)", "date"),
            ],
            "People": [("Name", "singleLineText")],
        }
    )
    named = by_names(propose_mapping(schema), schema)
    assert named["project"] == {
        "table": "Projects",
        "name": "Name",
        "owner": "Owner 2",
        "status": "Status",
        "starts_on": "Start date (old)",  # the only candidate, despite its noise
    }


def test_a_link_only_maps_to_a_link_to_the_target_entitys_table():
    schema = make_schema(
        {
            "Tasks": [
                ("Title", "singleLineText"),
                ("Project", "multipleRecordLinks", link("Clients")),  # wrong table
                ("Initiative", "multipleRecordLinks", link("Projects")),
            ],
            "Projects": [("Name", "singleLineText")],
            "Clients": [("Name", "singleLineText")],
        }
    )
    mapping = propose_mapping(schema)
    assert by_names(mapping, schema)["task"]["project"] == "Initiative"


def test_person_links_fall_back_to_collaborator_fields():
    schema = make_schema(
        {
            "Tasks": [
                ("Title", "singleLineText"),
                ("Project", "multipleRecordLinks", link("Projects")),
                ("Assignee", "singleCollaborator"),
            ],
            "Projects": [("Name", "singleLineText"), ("Owner", "multipleCollaborators")],
        }
    )
    named = by_names(propose_mapping(schema), schema)
    assert named["task"]["assignee"] == "Assignee"
    assert named["project"]["owner"] == "Owner"


def test_date_attributes_take_date_formulas_but_not_text_formulas():
    schema = make_schema(
        {
            "Tasks": [
                ("Title", "singleLineText"),
                ("Due", "formula", {"result": {"type": "date"}}),
                ("Completed", "formula", {"result": {"type": "singleLineText"}}),
            ]
        }
    )
    named = by_names(propose_mapping(schema), schema)
    assert named["task"]["due_on"] == "Due"
    assert "completed_at" not in named["task"]


def test_candidate_fields_lists_compatible_fields_best_first():
    schema = schema_from_api(load("messy"))
    mapping = propose_mapping(schema)
    names = [f.name for f in candidate_fields(mapping, schema, "project", "owner")]
    assert names == ["Owner", "Owner 2"]
    dates = [f.name for f in candidate_fields(mapping, schema, "project", "ends_on")]
    assert dates[0] == "Due" and "Start" in dates and "Budget" not in dates


# --- value maps -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entity", "attr", "option", "expected"),
    [
        ("task", "status", "Done", "done"),
        ("task", "status", "done ", "done"),
        ("task", "status", "Completed", "done"),
        ("task", "status", "Complete", "done"),
        ("task", "status", "Finished", "done"),
        ("task", "status", "Closed", "done"),
        ("task", "status", "✅ DONE", "done"),
        ("task", "status", "In progress", "in_progress"),
        ("task", "status", "in-progress", "in_progress"),
        ("task", "status", "Doing", "in_progress"),
        ("task", "status", "WIP", "in_progress"),
        ("task", "status", "Ongoing", "in_progress"),
        ("task", "status", "Active", "in_progress"),
        ("task", "status", "Not started", "todo"),
        ("task", "status", "To do", "todo"),
        ("task", "status", "To-Do", "todo"),
        ("task", "status", "Todo", "todo"),
        ("task", "status", "Backlog", "todo"),
        ("task", "status", "2. Planned", "todo"),
        ("task", "status", "On hold", "blocked"),
        ("task", "status", "Paused", "blocked"),
        ("task", "status", "Blocked", "blocked"),
        ("task", "status", "Stuck", "blocked"),
        ("task", "status", "Cancelled", None),
        ("task", "status", "Frozen", None),
        ("project", "status", "Active", "active"),
        ("project", "status", "In progress", "active"),
        ("project", "status", "WIP", "active"),
        ("project", "status", "Not started", "planned"),
        ("project", "status", "Proposed", "planned"),
        ("project", "status", "On hold", "on_hold"),
        ("project", "status", "Parked", "on_hold"),
        ("project", "status", "Blocked", "on_hold"),
        ("project", "status", "Done", "done"),
        ("project", "status", "Completed", "done"),
        ("project", "status", "Cancelled", "abandoned"),
        ("project", "status", "Canceled", "abandoned"),
        ("project", "status", "Abandoned", "abandoned"),
        ("project", "status", "Dropped", "abandoned"),
        ("project", "status", "Won't do", "abandoned"),
        ("project", "status", "On hold (waiting on vendor)", "on_hold"),
        ("person", "status", "Left", "departed"),
        ("person", "status", "Former", "departed"),
        ("person", "status", "Inactive", "departed"),
        ("person", "status", "Departed", "departed"),
        ("person", "status", "Current", "active"),
        ("key_result", "metric_type", "%", "percentage"),
        ("key_result", "metric_type", "Percent", "percentage"),
        ("key_result", "metric_type", "$", "currency"),
        ("key_result", "metric_type", "Yes / No", "yes_no"),
        ("key_result", "metric_type", "Milestones", "milestone"),
        ("key_result", "metric_type", "#", "number"),
        ("key_result", "confidence", "High", "8"),
        ("key_result", "confidence", "Very high", "9"),
    ],
)
def test_value_synonyms(entity: str, attr: str, option: str, expected: str | None):
    assert match_choice(ENTITIES[entity][attr], option) == expected


def test_propose_value_map_keys_are_normalized_options():
    status = FieldSchema(
        "fldAAAAAAAAAAAAAA",
        "Status",
        "singleSelect",
        {"choices": [{"name": "Done"}, {"name": "done "}, {"name": "Completed"}, {"name": "?"}]},
    )
    assert propose_value_map(ENTITIES["task"]["status"], status) == {
        "completed": "done",
        "done": "done",
    }
    assert normalize_value("  In-Progress  ") == "in progress"
    assert normalize_name("Key Results") == "key result" == normalize_name("key-result")


# --- checks: renames, removals, broken links ------------------------------------------------


def renamed(payload: dict[str, Any]) -> dict[str, Any]:
    """Every table and field renamed; ids (and links between tables) untouched."""
    payload = copy.deepcopy(payload)
    for t_index, table in enumerate(payload["tables"]):
        table["name"] = f"Renamed table {t_index}"
        for f_index, field_ in enumerate(table["fields"]):
            field_["name"] = f"Column {t_index}.{f_index}"
            for choice in field_.get("options", {}).get("choices", []):
                choice["name"] = choice["name"].upper()
    return payload


@pytest.mark.parametrize("base", ["clean", "messy"])
def test_renaming_every_table_and_field_breaks_nothing(base: str):
    payload = load(base)
    stored = propose_mapping(schema_from_api(payload)).to_dict()
    renamed_schema = schema_from_api(renamed(payload))
    mapping = Mapping.from_dict(json.loads(json.dumps(stored)))
    assert check_mapping(mapping, renamed_schema) == []
    lines = describe(mapping, renamed_schema)
    assert any(line.startswith("project ← table Renamed table") for line in lines)


def remove_field(payload: dict[str, Any], table_name: str, field_name: str) -> dict[str, Any]:
    payload = copy.deepcopy(payload)
    for table in payload["tables"]:
        if table["name"] == table_name:
            table["fields"] = [f for f in table["fields"] if f["name"] != field_name]
    return payload


def field_id(payload: dict[str, Any], table_name: str, field_name: str) -> str:
    for table in payload["tables"]:
        if table["name"] == table_name:
            for field_ in table["fields"]:
                if field_["name"] == field_name:
                    return field_["id"]
    raise KeyError(field_name)


def test_a_removed_field_is_a_problem_naming_it():
    payload = load("messy")
    mapping = propose_mapping(schema_from_api(payload))
    due = field_id(payload, "Action Items", "Due")
    problems = check_mapping(mapping, schema_from_api(remove_field(payload, "Action Items", "Due")))
    assert problems == [
        f"task.due_on is mapped to field 'Due' ({due}), which is no longer in table Action Items "
        f"({mapping.entities['task'].table_id}): map task.due_on to another field or unmap it."
    ]


def test_a_removed_required_field_says_it_is_required():
    payload = load("messy")
    mapping = propose_mapping(schema_from_api(payload))
    problems = check_mapping(
        mapping, schema_from_api(remove_field(payload, "Action Items", "Initiative"))
    )
    assert len(problems) == 1
    assert problems[0].startswith("task.project is mapped to field 'Initiative' (fld")
    assert problems[0].endswith("(it is required).")


def test_a_removed_table_is_a_problem():
    payload = load("messy")
    mapping = propose_mapping(schema_from_api(payload))
    payload["tables"] = [t for t in payload["tables"] if t["name"] != "Updates"]
    problems = check_mapping(mapping, schema_from_api(payload))
    table_id = mapping.entities["check_in"].table_id
    assert problems == [
        f"check_in is mapped to table 'Updates' ({table_id}), which is no longer in the base: "
        "map check_in to another table or unmap it."
    ]


def test_a_link_that_now_points_elsewhere_is_a_problem():
    payload = load("messy")
    mapping = propose_mapping(schema_from_api(payload))
    notes_id = next(t["id"] for t in payload["tables"] if t["name"] == "Notes")
    for table in payload["tables"]:
        for field_ in table["fields"]:
            if table["name"] == "Action Items" and field_["name"] == "Initiative":
                field_["options"]["linkedTableId"] = notes_id
            if table["name"] == "OKRs" and field_["name"] == "Lead":
                field_["type"], field_["options"] = "singleLineText", {}
    problems = check_mapping(mapping, schema_from_api(payload))
    assert len(problems) == 2
    assert "objective.owner is mapped to Lead" in problems[0]
    assert "is no longer a link field (it is now singleLineText)" in problems[0]
    assert "task.project is mapped to Initiative" in problems[1]
    assert f"now links to table Notes ({notes_id}) instead of Initiatives" in problems[1]


def test_required_attributes_and_entities_must_be_mapped():
    schema = schema_from_api(load("messy"))
    mapping = propose_mapping(schema)
    del mapping.entities["task"].fields["title"]
    del mapping.entities["project"]
    problems = check_mapping(mapping, schema)
    assert any(
        p.startswith("task.title is required but not mapped: choose the field of table Action")
        for p in problems
    )
    assert "task needs its project link, but project is not mapped" in "\n".join(problems)
    assert check_mapping(Mapping(), schema) == [
        "Nothing is mapped: map at least one table to a MissionOS entity."
    ]


def test_one_field_for_two_attributes_and_one_table_for_two_entities_are_problems():
    schema = schema_from_api(load("messy"))
    mapping = propose_mapping(schema)
    task = mapping.entities["task"]
    task.fields["completed_at"] = task.fields["due_on"]
    project = mapping.entities["project"]
    mapping.entities["project"] = EntityMapping(
        "project", task.table_id, task.table_name, {"name": task.fields["title"]}, {}
    )
    problems = check_mapping(mapping, schema)
    assert any("is mapped to both task.due_on and task.completed_at" in p for p in problems)
    assert any("is mapped to both project and task" in p for p in problems)
    assert project.table_id != task.table_id


# --- stored form ----------------------------------------------------------------------------


def test_round_trip_through_json():
    mapping = propose_mapping(schema_from_api(load("messy")))
    data = mapping.to_dict()
    assert data["version"] == 1
    assert list(data["entities"]) == [e for e in ENTITIES if e in mapping.entities]
    text = json.dumps(data)
    again = Mapping.from_dict(json.loads(text))
    assert again == mapping
    assert json.dumps(again.to_dict()) == text


def test_to_dict_is_stable_whatever_the_insertion_order():
    mapping = propose_mapping(schema_from_api(load("clean")))
    shuffled = Mapping(
        entities={
            entity: EntityMapping(
                em.entity,
                em.table_id,
                em.table_name,
                dict(reversed(em.fields.items())),
                {k: dict(reversed(v.items())) for k, v in reversed(em.value_maps.items())},
                dict(reversed(em.field_names.items())),
            )
            for entity, em in reversed(mapping.entities.items())
        }
    )
    assert json.dumps(shuffled.to_dict()) == json.dumps(mapping.to_dict())


def test_from_dict_accepts_a_minimal_hand_written_mapping():
    mapping = Mapping.from_dict(
        {
            "version": 1,
            "entities": {
                "task": {
                    "table_id": "tblTasks",
                    "fields": {"title": "fldTitle"},
                    "value_maps": {"status": {"Done ": "done"}},
                }
            },
        }
    )
    task = mapping.entities["task"]
    assert task.table_name == "" and task.fields == {"title": "fldTitle"}
    assert task.value_maps == {"status": {"done": "done"}}  # keys normalized


def test_from_dict_keeps_the_stored_order_and_empty_value_maps():
    mapping = Mapping.from_dict(
        {
            "version": 1,
            "entities": {
                "task": {"table_id": "tblTasks", "fields": {}, "value_maps": {"status": {}}},
                "person": {"table_id": "tblPeople", "fields": {}},
            },
        }
    )
    assert list(mapping.entities) == ["task", "person"]
    assert mapping.entities["task"].value_maps == {"status": {}}
    assert mapping.entities["person"].value_maps == {}


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (None, "not an object"),
        ([], "not an object"),
        ("{}", "not an object"),
        ({"entities": {}}, '"version" is missing'),
        ({"version": 2, "entities": {}}, "only 1 is understood"),
        ({"version": 1}, '"entities" must be an object'),
        ({"version": 1, "entities": [], "extra": 1}, "unknown key 'extra'"),
        ({"version": 1, "entities": {"projects": {}}}, "unknown entity 'projects'"),
        ({"version": 1, "entities": {"task": "tbl"}}, "task: must be an object"),
        (
            {"version": 1, "entities": {"task": {"table_id": 5, "fields": {}}}},
            "task.table_id must be a table id",
        ),
        (
            {"version": 1, "entities": {"task": {"table_id": "tblX", "fields": []}}},
            "task.fields must be an object",
        ),
        (
            {"version": 1, "entities": {"task": {"table_id": "tblX", "fields": {"nme": "fldX"}}}},
            "task.fields: unknown attribute 'nme'",
        ),
        (
            {"version": 1, "entities": {"task": {"table_id": "tblX", "fields": {"title": 3}}}},
            "task.fields.title must be a field id",
        ),
        (
            {
                "version": 1,
                "entities": {
                    "task": {
                        "table_id": "tblX",
                        "fields": {},
                        "value_maps": {"status": {"Done": "finished"}},
                    }
                },
            },
            "'Done' -> 'finished' is not one of todo, in_progress, blocked, done",
        ),
        (
            {
                "version": 1,
                "entities": {
                    "task": {"table_id": "tblX", "fields": {}, "value_maps": {"title": {}}}
                },
            },
            "task.title takes no value map",
        ),
        ({"version": True, "entities": {}}, '"version" is True; only 1 is understood'),
        (
            {"version": 1, "entities": {"task": {"fields": {}}}},
            "task.table_id is missing: it must be a table id (tbl...)",
        ),
        (
            {"version": 1, "entities": {"task": {"table_id": "tblX", "fields": {}, "x": 1}}},
            "task: unknown key 'x'",
        ),
        (
            {
                "version": 1,
                "entities": {
                    "task": {"table_id": "tblX", "fields": {}, "field_names": {"title": 3}}
                },
            },
            "task.field_names.title must be text, not 3",
        ),
        (
            {
                "version": 1,
                "entities": {
                    "task": {"table_id": "tblX", "fields": {}, "value_maps": {"status": None}}
                },
            },
            "task.value_maps.status must be an object of Airtable value -> MissionOS value",
        ),
        (
            {
                "version": 1,
                "entities": {
                    "key_result": {
                        "table_id": "tblX",
                        "fields": {},
                        "value_maps": {"confidence": {"High": "very"}},
                    }
                },
            },
            "key_result.value_maps.confidence: 'High' -> 'very' is not a number",
        ),
    ],
)
def test_from_dict_refuses_garbage(data: object, fragment: str):
    with pytest.raises(MappingError) as caught:
        Mapping.from_dict(data)
    assert fragment in str(caught.value)
    assert any(fragment in error for error in caught.value.errors)


def test_from_dict_lists_every_problem_at_once():
    with pytest.raises(MappingError) as caught:
        Mapping.from_dict(
            {
                "version": 3,
                "entities": {
                    "task": {"table_id": "nope", "fields": {"title": "x", "colour": "fldX"}},
                    "widget": {},
                },
            }
        )
    assert len(caught.value.errors) == 5
    assert str(caught.value).startswith("The stored mapping is invalid: ")


# --- describe -------------------------------------------------------------------------------


def test_describe_lists_the_mapping_and_what_is_left_over():
    payload = load("messy")
    schema = schema_from_api(payload)
    lines = describe(propose_mapping(schema), schema)
    initiatives = next(t for t in schema.tables if t.name == "Initiatives")
    name_id = field_id(payload, "Initiatives", "Project Name")
    project_line = next(line for line in lines if line.startswith("project ←"))
    assert project_line.startswith(
        f"project ← table Initiatives ({initiatives.id}): name ← Project Name ({name_id}), "
    )
    assert "cycle ← (no table)" in lines
    assert any(line.startswith("unmapped tables: Notes (tbl") for line in lines)
    assert any("unmapped: Frozen" in line for line in lines)
    assert any(line.startswith("  unmapped fields: Owner 2 (fld") for line in lines)
    assert "  not mapped: weight" in lines


def test_every_entity_has_a_label_attribute_or_none():
    for entity, label in LABEL_ATTRS.items():
        assert ENTITIES[entity][label].kind == "text"
        assert ENTITIES[entity][label].required


def test_a_name_that_starts_with_a_synonym_counts_only_for_a_well_typed_field():
    schema = make_schema(
        {
            "Key Results": [
                ("Name", "singleLineText"),
                ("Current quarter", "singleLineText"),  # not a current value
                ("Status (manual)", "singleSelect", select("On track")),
                ("Target (stretch)", "number"),
            ],
        }
    )
    named = by_names(propose_mapping(schema), schema)
    assert named["key_result"] == {
        "table": "Key Results",
        "title": "Name",
        "target_value": "Target (stretch)",
    }
    schema = make_schema(
        {"Tasks": [("Name", "singleLineText"), ("Status (manual)", "singleSelect", select("Done"))]}
    )
    assert by_names(propose_mapping(schema), schema)["task"]["status"] == "Status (manual)"


def test_describe_shows_options_the_built_in_synonyms_cover():
    payload = load("messy")
    schema = schema_from_api(payload)
    mapping = propose_mapping(schema)
    del mapping.entities["project"].value_maps["status"]["completed"]
    mapping.entities["project"].value_maps["status"]["frozen"] = "on_hold"
    lines = describe(mapping, schema)
    (line,) = [line for line in lines if line.startswith("  project.status values:")]
    assert "Completed → done (built-in)" in line
    assert "Frozen → on_hold" in line
    assert "unmapped" not in line
