"""A labelled base for data health: a fake Airtable base with a planted problem of every kind and
clean look-alikes that must not be flagged, and the findings a correct detector raises.

`build(fake, now)` lays the base out as an organization keeps it in Airtable (Team, Strategic
Pillars, Objectives, Key Results, Check-ins, Initiatives, Action Items), with dates relative to
`now`, and returns `Labels`: per kind, the records (by their primary value) each finding is
about. Everything not listed must raise nothing: the test compares the whole set, so any extra
finding is a false positive. The look-alikes, each named for the rule it tests:

- a project on hold whose note was edited days ago (not abandoned), a closed project untouched
  for months (closed projects never are), a quiet project with a task moved this week;
- a person who left whose tasks are done or were reassigned; a done task with nobody on it;
- a done project in no pathway; a done task past its due date; a project due next month;
- a key result set ten days ago (not stale yet); one whose value matches its check-in within
  10% of its range;
- "Open the Lisbon office" / "Open the Madrid office", "Cut churn 5% in Q1" / "... Q2",
  "Launch Atlas v2" / "Launch Atlas v3": one word that carries the meaning apart;
- two people who share a first name.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from devtools.fakeairtable import FakeAirtable

BASE_ID = "appLABELLEDHEALTH"
TOKEN = "patLabelled.health-0123456789abcdef"
T_TEAM, T_PILLARS, T_OBJECTIVES = "tblLTEAM00000001", "tblLPILLARS00001", "tblLOBJECTIVES01"
T_KRS, T_CHECKINS = "tblLKRS000000001", "tblLCHECKINS0001"
T_PROJECTS, T_TASKS = "tblLPROJECTS0001", "tblLTASKS0000001"


def _fid(table: str, name: str) -> str:
    key = "".join(ch for ch in name.upper() if ch.isalnum())[:10]
    return f"fld{table[4:8]}{key}".ljust(17, "0")[:17]


def _link(table: str, name: str, target: str) -> dict:
    return {
        "id": _fid(table, name),
        "name": name,
        "type": "multipleRecordLinks",
        "options": {"linkedTableId": target},
    }


def _select(table: str, name: str, choices: list[str]) -> dict:
    return {
        "id": _fid(table, name),
        "name": name,
        "type": "singleSelect",
        "options": {"choices": [{"id": f"sel{i:03d}", "name": c} for i, c in enumerate(choices)]},
    }


def _typed(table: str, name: str, type_: str, **options) -> dict:
    spec = {"id": _fid(table, name), "name": name, "type": type_}
    if options:
        spec["options"] = options
    return spec


LAST_MODIFIED = {"isValid": True, "referencedFieldIds": [], "result": {"type": "dateTime"}}

SCHEMA = {
    T_TEAM: (
        "Team",
        [
            _typed(T_TEAM, "Name", "singleLineText"),
            _typed(T_TEAM, "Email", "email"),
            _typed(T_TEAM, "Active", "checkbox"),
            _typed(T_TEAM, "Left on", "date"),
        ],
    ),
    T_PILLARS: ("Strategic Pillars", [_typed(T_PILLARS, "Name", "singleLineText")]),
    T_OBJECTIVES: (
        "Objectives",
        [
            _typed(T_OBJECTIVES, "Objective", "singleLineText"),
            _link(T_OBJECTIVES, "Pillar", T_PILLARS),
            _link(T_OBJECTIVES, "Owner", T_TEAM),
            _typed(T_OBJECTIVES, "Owner 2", "singleLineText"),  # names: the same information
        ],
    ),
    T_KRS: (
        "Key Results",
        [
            _typed(T_KRS, "Key Result", "singleLineText"),
            _link(T_KRS, "Objective", T_OBJECTIVES),
            _typed(T_KRS, "Baseline", "singleLineText"),  # numbers kept as text
            _typed(T_KRS, "Current", "number", precision=0),
            _typed(T_KRS, "Target", "number", precision=0),
            _typed(
                T_KRS,
                "Weight",
                "formula",
                formula="{Impact} / {Effort}",
                isValid=True,
                referencedFieldIds=[],
                result={"type": "number", "options": {"precision": 2}},
            ),
        ],
    ),
    T_CHECKINS: (
        "Check-ins",
        [
            _typed(T_CHECKINS, "Check-in", "singleLineText"),
            _link(T_CHECKINS, "Key Result", T_KRS),
            _typed(T_CHECKINS, "Date", "dateTime", timeZone="utc"),
            _typed(T_CHECKINS, "Value", "number", precision=0),
        ],
    ),
    T_PROJECTS: (
        "Initiatives",
        [
            _typed(T_PROJECTS, "Name", "singleLineText"),
            _link(T_PROJECTS, "Pillar", T_PILLARS),
            _link(T_PROJECTS, "Objectives", T_OBJECTIVES),
            _link(T_PROJECTS, "Owner", T_TEAM),
            _typed(T_PROJECTS, "Owner (old)", "singleLineText"),  # not names: something else
            _select(T_PROJECTS, "Status", ["Not started", "In Progress", "On hold", "Done"]),
            _typed(T_PROJECTS, "Start date", "date"),
            _typed(T_PROJECTS, "Target end", "date"),
            _typed(T_PROJECTS, "Budget notes", "multilineText"),  # nobody fills it in
            _typed(T_PROJECTS, "Room booked", "checkbox"),  # one record does: in use
            _typed(
                T_PROJECTS,
                "Cost per day",
                "formula",
                formula="{Budget} / {Days}",
                isValid=True,
                referencedFieldIds=[],
                result={"type": "number"},
            ),  # unmapped
            _typed(T_PROJECTS, "Last modified", "lastModifiedTime", **LAST_MODIFIED),
        ],
    ),
    T_TASKS: (
        "Action Items",
        [
            _typed(T_TASKS, "Task", "singleLineText"),
            _link(T_TASKS, "Initiative", T_PROJECTS),
            _link(T_TASKS, "Assigned to", T_TEAM),
            _select(T_TASKS, "Status", ["To do", "Doing", "Blocked", "Done", "TBC"]),
            _typed(T_TASKS, "Due", "date"),
            # The due date typed again as text, mostly as ISO days, a few another way.
            _typed(T_TASKS, "Due (typed)", "singleLineText"),
            _typed(T_TASKS, "Last modified", "lastModifiedTime", **LAST_MODIFIED),
        ],
    ),
}


@dataclass
class Labels:
    """kind -> the expected findings, each the set of its records' primary values."""

    expected: dict[str, set[frozenset[str]]] = field(default_factory=dict)

    def add(self, kind: str, *labels: str) -> None:
        self.expected.setdefault(kind, set()).add(frozenset(labels))


def build(fake: FakeAirtable, now: datetime.datetime) -> Labels:
    base = fake.add_base(BASE_ID, "Labelled health base", tokens={TOKEN})
    tables = {
        table_id: base.add_table(table_id, name, fields)
        for table_id, (name, fields) in SCHEMA.items()
    }
    labels = Labels()

    def ago(days: float) -> datetime.datetime:
        return now - datetime.timedelta(days=days)

    def day(days_from_now: int) -> str:
        return (now + datetime.timedelta(days=days_from_now)).date().isoformat()

    def moment(days: float) -> str:
        return ago(days).strftime("%Y-%m-%dT%H:%M:%S.000Z")

    def create(table_id: str, values: dict, *, created_days_ago: float = 120) -> str:
        cells = {_fid(table_id, name): value for name, value in values.items() if value is not None}
        return tables[table_id].create(cells, created_time=ago(created_days_ago))

    # -- people ---------------------------------------------------------------------------
    people = {}
    for name, email, left_days_ago in [
        ("Maya Okafor", "maya@labelled.example", None),
        ("Sam Lee", "sam@labelled.example", None),
        ("Jo Former", "jo@labelled.example", 90),
        ("Kim Gone", "kim@labelled.example", 30),
        ("Maria Lopez", "maria.lopez@labelled.example", None),
        ("Maria Garcia", "maria.garcia@labelled.example", None),
        ("Priya Shah", "priya@labelled.example", None),
        ("priya  shah", "PRIYA@Labelled.example", None),
    ]:
        people[name] = create(
            T_TEAM,
            {
                "Name": name,
                "Email": email,
                "Active": left_days_ago is None,
                "Left on": day(-left_days_ago) if left_days_ago else None,
            },
        )
    labels.add("duplicate_people", "Priya Shah", "priya  shah")

    pillars = {name: create(T_PILLARS, {"Name": name}) for name in ("Access", "Quality")}

    # -- objectives and key results --------------------------------------------------------
    objectives = {}
    for title, pillar, owner in [
        ("Open the Lisbon office", "Access", "Maya Okafor"),
        ("Open the Madrid office", "Access", "Sam Lee"),
        ("Cut churn 5% in Q1", "Quality", "Maya Okafor"),
        ("Cut churn 5% in Q2", "Quality", "Sam Lee"),
        ("Improve patient onboarding", "Access", "Maya Okafor"),
        ("improve patient onbaording", "Quality", "Sam Lee"),
        ("Grow referrals", "Quality", "Sam Lee"),
    ]:
        objectives[title] = create(
            T_OBJECTIVES,
            {
                "Objective": title,
                "Pillar": [pillars[pillar]],
                "Owner": [people[owner]],
                # A copy gone stale: the current owner in most, someone else in two.
                "Owner 2": owner if title[0] != "C" else "Kim Gone",
            },
        )
    labels.add("duplicate_objectives", "Improve patient onboarding", "improve patient onbaording")
    labels.add("duplicate_fields", "Objectives.Owner", "Objectives.Owner 2")

    key_results = {}
    # Baseline is a text field: "0" is a number as a number field would hold it; "~5", "TBD"
    # and "1,000" are numbers kept as text (one finding, for the field). Weight is a formula:
    # two give errors (one finding, for the field).
    for title, objective, current, baseline, weight, created_days_ago in [
        ("Clinics open", "Grow referrals", 40, "0", {"error": "#ERROR!"}, 100),
        ("Referral rate", "Grow referrals", 50, "0", 1, 100),
        ("Bookings", "Grow referrals", 55, "0", {"specialValue": "NaN"}, 100),
        ("Wait time", "Improve patient onboarding", 30, "0", 1, 100),
        ("NPS", "Improve patient onboarding", 10, "~5", 1, 100),
        ("New KR", "Improve patient onboarding", 0, "TBD", 1, 10),
        ("Onboarding survey", "improve patient onbaording", 20, "1,000", 1, 100),
    ]:
        key_results[title] = create(
            T_KRS,
            {
                "Key Result": title,
                "Objective": [objectives[objective]],
                "Baseline": baseline,
                "Current": current,
                "Target": 100,
                "Weight": weight,
            },
            created_days_ago=created_days_ago,
        )
    labels.add("value_not_number", "NPS", "New KR", "Onboarding survey")
    labels.add("formula_error", "Clinics open", "Bookings")
    for kr, value, days_ago in [
        ("Clinics open", 40, 3),
        ("Referral rate", 30, 2),  # 20 points off a range of 100: contradicts
        ("Bookings", 50, 2),  # 5 points off: within 10%
        ("Wait time", 30, 60),  # agrees, but 60 days ago: stale
        ("Onboarding survey", 20, 1),
    ]:
        create(
            T_CHECKINS,
            {
                "Check-in": f"{kr} update",
                "Key Result": [key_results[kr]],
                "Date": moment(days_ago),
                "Value": value,
            },
            created_days_ago=days_ago,
        )
    labels.add("key_result_stale", "Wait time")
    labels.add("key_result_stale", "NPS")
    labels.add("value_contradicts_checkins", "Referral rate")

    # -- projects -----------------------------------------------------------------------
    projects = {}
    for name, status, pillar, objective, modified_days_ago, ends_in in [
        ("Legacy portal revamp", "In Progress", "Access", "Grow referrals", 120, 60),
        ("Paused pilot", "On hold", "Access", "Grow referrals", 5, 60),
        ("Finished but open", "In Progress", "Quality", "Grow referrals", 10, 60),
        ("Closed old project", "Done", "Quality", "Grow referrals", 200, -150),
        ("Quiet project", "In Progress", "Quality", "Grow referrals", 100, 60),
        ("Orphan project", "In Progress", None, "Grow referrals", 2, 60),
        ("Unlinked project", "In Progress", "Access", None, 2, 60),
        ("Done without pillar", "Done", None, "Grow referrals", 2, -5),
        ("Overdue project", "In Progress", "Access", "Grow referrals", 2, -10),
        ("Future project", "Not started", "Access", "Grow referrals", 2, 30),
        ("Patient portal redesign", "In Progress", "Access", "Grow referrals", 2, 60),
        (
            "Redesign the patient portal",
            "In Progress",
            "Quality",
            "improve patient onbaording",
            2,
            60,
        ),
        ("Launch Atlas v2", "In Progress", "Access", "Grow referrals", 2, 60),
        ("Launch Atlas v3", "Not started", "Access", "Grow referrals", 2, 90),
    ]:
        projects[name] = create(
            T_PROJECTS,
            {
                "Name": name,
                "Status": status,
                "Pillar": [pillars[pillar]] if pillar else None,
                "Objectives": [objectives[objective]] if objective else None,
                "Owner": [people["Maya Okafor"]],
                "Owner (old)": "see notes" if status == "In Progress" else None,
                "Start date": day(-200),
                "Target end": day(ends_in),
                "Last modified": moment(modified_days_ago),
            },
            created_days_ago=200,
        )
    tables[T_PROJECTS].update(projects["Paused pilot"], {_fid(T_PROJECTS, "Room booked"): True})
    cost = _fid(T_PROJECTS, "Cost per day")
    tables[T_PROJECTS].update(projects["Quiet project"], {cost: {"specialValue": "Infinity"}})
    tables[T_PROJECTS].update(projects["Future project"], {cost: 12.5})
    labels.add("formula_error", "Quiet project")
    labels.add("empty_field", f"{SCHEMA[T_PROJECTS][0]}.Budget notes")
    labels.add("abandoned_project", "Legacy portal revamp")  # nothing changed for 100+ days
    labels.add("abandoned_project", "Finished but open")  # every task done, still open
    labels.add("project_no_pathway", "Orphan project")
    labels.add("project_no_objective", "Unlinked project")
    labels.add("past_due", "Overdue project")
    labels.add("duplicate_projects", "Patient portal redesign", "Redesign the patient portal")

    # -- tasks ----------------------------------------------------------------------------
    # Airtable clears links to a record it deletes, but bases imported or restored from
    # snapshots keep them: a link to a record id the base does not have.
    deleted_project = "recDELETEDPROJ001"
    for index, (title, project, assignee, status, due_in, modified_days_ago) in enumerate(
        [
            ("Migrate logins", "Legacy portal revamp", "Maya Okafor", "To do", 20, 100),
            ("Retire old server", "Legacy portal revamp", "Sam Lee", "Done", None, 130),
            ("Pilot debrief", "Paused pilot", "Sam Lee", "To do", 15, 70),
            ("Write summary", "Finished but open", "Maya Okafor", "Done", None, 10),
            ("Share results", "Finished but open", "Sam Lee", "Done", None, 12),
            ("Old report", "Closed old project", "Jo Former", "Done", -160, 160),
            ("Active task", "Quiet project", "Maya Okafor", "Doing", 10, 3),
            ("Map the gaps", "Orphan project", "Sam Lee", "To do", 5, 2),
            ("Draft the brief", "Unlinked project", "Maya Okafor", "To do", None, 2),
            ("Chase sign-off", "Overdue project", "Maya Okafor", "To do", 3, 2),
            ("Plan kickoff", "Future project", "Sam Lee", "TBC", 40, 2),  # a status nobody mapped
            ("Call suppliers", "Future project", "Jo Former", "To do", 10, 2),
            ("Handover notes", "Future project", "Maya Okafor", "To do", 12, 2),  # was Kim's
            ("Kim's last report", "Future project", "Kim Gone", "Done", -20, 25),
            ("Unowned task", "Future project", None, "To do", 14, 2),
            ("Done unowned", "Future project", None, "Done", None, 2),
            ("Late task", "Future project", "Sam Lee", "To do", -5, 2),
            ("Late but done", "Future project", "Sam Lee", "Done", -20, 2),
            ("Wireframes", "Patient portal redesign", "Maya Okafor", "To do", 20, 2),
            ("User interviews", "Redesign the patient portal", "Sam Lee", "To do", 20, 2),
            ("Atlas v2 release notes", "Launch Atlas v2", "Sam Lee", "Doing", 20, 2),
            ("Atlas v3 scoping", "Launch Atlas v3", "Maya Okafor", "To do", 40, 2),
            ("Stray task", None, "Maya Okafor", "To do", 9, 2),
            ("Ghost link", "Deleted initiative", "Sam Lee", "To do", 9, 2),
        ]
    ):
        project_id = deleted_project if project == "Deleted initiative" else projects.get(project)
        create(
            T_TASKS,
            {
                "Task": title,
                "Initiative": [project_id] if project_id else None,
                "Assigned to": [people[assignee]] if assignee else None,
                "Status": status,
                "Due": day(due_in) if due_in is not None else None,
                "Due (typed)": _typed_day(day(due_in), index) if due_in is not None else None,
                "Last modified": moment(modified_days_ago),
            },
            created_days_ago=max(modified_days_ago, 150),
        )
    blank = tables[T_TASKS].create({}, created_time=ago(50))  # a blank row
    labels.add("empty_record", blank)
    labels.add("unmapped_value", "Plan kickoff")
    labels.add("duplicate_fields", "Action Items.Due", "Action Items.Due (typed)")
    labels.add("task_departed_assignee", "Call suppliers")
    labels.add("task_unassigned", "Unowned task")
    labels.add("task_no_project", "Stray task")
    labels.add("task_no_project", "Ghost link")
    labels.add("broken_link", "Ghost link")
    labels.add("past_due", "Late task")
    return labels


def _typed_day(iso: str, index: int) -> str:
    """A due date as a person types it: an ISO day, or now and then month/day/year."""
    if index % 5:
        return iso
    year, month, day_of_month = iso.split("-")
    return f"{int(month)}/{int(day_of_month)}/{year}"
