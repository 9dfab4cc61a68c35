"""A small, realistic base in the fake Airtable, shared by the sync tests."""

from __future__ import annotations

from devtools.fakeairtable import FakeAirtable

BASE_ID = "appNORTHWIND00001"
TOKEN = "patNorthwind.0123456789abcdefXYZ9"

T_PEOPLE, T_PATHWAYS, T_OBJECTIVES = "tblPEOPLE0000001", "tblPATHWAYS00001", "tblOBJECTIVES001"
T_KRS, T_PROJECTS, T_TASKS = "tblKEYRESULTS001", "tblPROJECTS00001", "tblTASKS00000001"
T_UPDATES = "tblUPDATES000001"


def link(field_id: str, name: str, table_id: str) -> dict:
    return {
        "id": field_id,
        "name": name,
        "type": "multipleRecordLinks",
        "options": {"linkedTableId": table_id},
    }


def select(field_id: str, name: str, choices: list[str]) -> dict:
    return {
        "id": field_id,
        "name": name,
        "type": "singleSelect",
        "options": {"choices": [{"id": f"sel{i}", "name": c} for i, c in enumerate(choices)]},
    }


def build_base(
    fake: FakeAirtable,
    *,
    projects: int = 6,
    tasks_per_project: int = 4,
    base_id: str = BASE_ID,
    token: str = TOKEN,
) -> dict:
    """The base (BASE_ID by default; another id and token for benchmarks of many bases)."""
    base = fake.add_base(base_id, "Northwind plans", tokens={token})
    people = base.add_table(
        T_PEOPLE,
        "Team",
        [
            {"id": "fldPNAME00000001", "name": "Name", "type": "singleLineText"},
            {"id": "fldPEMAIL0000001", "name": "Email", "type": "email"},
            {"id": "fldPACTIVE000001", "name": "Active", "type": "checkbox"},
            {"id": "fldPROLE00000001", "name": "Role", "type": "singleLineText"},
        ],
    )
    pathways = base.add_table(
        T_PATHWAYS,
        "Strategic Pillars",
        [
            {"id": "fldWNAME00000001", "name": "Name", "type": "singleLineText"},
        ],
    )
    objectives = base.add_table(
        T_OBJECTIVES,
        "Objectives",
        [
            {"id": "fldONAME00000001", "name": "Objective", "type": "singleLineText"},
            link("fldOPATHWAY00001", "Pillar", T_PATHWAYS),
            link("fldOOWNER0000001", "Owner", T_PEOPLE),
        ],
    )
    krs = base.add_table(
        T_KRS,
        "Key Results",
        [
            {"id": "fldKNAME00000001", "name": "Key Result", "type": "singleLineText"},
            link("fldKOBJECTIVE001", "Objective", T_OBJECTIVES),
            {"id": "fldKSTART0000001", "name": "Baseline", "type": "number"},
            {"id": "fldKCURRENT00001", "name": "Current", "type": "number"},
            {"id": "fldKTARGET000001", "name": "Target", "type": "number"},
        ],
    )
    project_table = base.add_table(
        T_PROJECTS,
        "Initiatives",
        [
            {"id": "fldJNAME00000001", "name": "Project Name", "type": "singleLineText"},
            link("fldJPATHWAY00001", "Pillar", T_PATHWAYS),
            link("fldJOBJECTIVES01", "Objectives", T_OBJECTIVES),
            link("fldJOWNER0000001", "Owner", T_PEOPLE),
            select(
                "fldJSTATUS000001",
                "Status",
                ["Not started", "In progress", "Done", "done ", "Completed", "On hold"],
            ),
            {"id": "fldJSTART0000001", "name": "Start date", "type": "date"},
            {"id": "fldJEND000000001", "name": "End date", "type": "date"},
            {"id": "fldJBUDGET000001", "name": "Budget notes", "type": "multilineText"},
        ],
    )
    task_table = base.add_table(
        T_TASKS,
        "Action Items",
        [
            {"id": "fldTNAME00000001", "name": "Task", "type": "singleLineText"},
            link("fldTPROJECT00001", "Project", T_PROJECTS),
            link("fldTASSIGNEE0001", "Assigned to", T_PEOPLE),
            select("fldTSTATUS000001", "Status", ["To do", "Doing", "Blocked", "Done"]),
            {"id": "fldTDUE000000001", "name": "Due", "type": "date"},
        ],
    )

    ids: dict[str, list[str]] = {}
    ids["people"] = [
        people.create(
            {
                "fldPNAME00000001": name,
                "fldPEMAIL0000001": email,
                "fldPACTIVE000001": active,
                "fldPROLE00000001": "Lead",
            }
        )
        for name, email, active in [
            ("Maya Okafor", "maya@northwind.example", True),
            ("Sam Lee", "sam@northwind.example", True),
            ("Jo Former", "jo@northwind.example", False),  # left: checkbox unticked
        ]
    ]
    ids["pathways"] = [pathways.create({"fldWNAME00000001": n}) for n in ("Access", "Quality")]
    ids["objectives"] = [
        objectives.create(
            {
                "fldONAME00000001": f"Objective {i}",
                "fldOPATHWAY00001": [ids["pathways"][i % 2]],
                "fldOOWNER0000001": [ids["people"][i % 3]],
            }
        )
        for i in range(4)
    ]
    ids["krs"] = [
        krs.create(
            {
                "fldKNAME00000001": f"KR {i}",
                "fldKOBJECTIVE001": [ids["objectives"][i % 4]],
                "fldKSTART0000001": 0,
                "fldKCURRENT00001": 5 * i,
                "fldKTARGET000001": 40,
            }
        )
        for i in range(8)
    ]
    statuses = ["In progress", "Done", "done ", "Completed", "Not started", "On hold"]
    ids["projects"] = [
        project_table.create(
            {
                "fldJNAME00000001": f"Project {i}",
                "fldJPATHWAY00001": [ids["pathways"][i % 2]],
                "fldJOBJECTIVES01": [ids["objectives"][i % 4], ids["objectives"][(i + 1) % 4]],
                "fldJOWNER0000001": [ids["people"][i % 3]],
                "fldJSTATUS000001": statuses[i % len(statuses)],
                "fldJSTART0000001": "2026-10-01",
                "fldJEND000000001": "2026-12-31",
                "fldJBUDGET000001": f"Budget line {i}",
            }
        )
        for i in range(projects)
    ]
    ids["tasks"] = [
        task_table.create(
            {
                "fldTNAME00000001": f"Task {p}.{t}",
                "fldTPROJECT00001": [ids["projects"][p]],
                "fldTASSIGNEE0001": [ids["people"][(p + t) % 3]],
                "fldTSTATUS000001": ["To do", "Doing", "Blocked", "Done"][t % 4],
                "fldTDUE000000001": "2026-11-15",
            }
        )
        for p in range(projects)
        for t in range(tasks_per_project)
    ]
    return ids


def add_check_ins_table(fake: FakeAirtable) -> None:
    """A check-ins table ("KR Updates"), empty: add it before connecting, so the mapping
    proposes it and check-ins made in MissionOS become its records."""
    fake.bases[BASE_ID].add_table(
        T_UPDATES,
        "KR Updates",
        [
            {"id": "fldUNAME00000001", "name": "Update", "type": "singleLineText"},
            link("fldUKR0000000001", "Key Result", T_KRS),
            {"id": "fldUVALUE0000001", "name": "Value", "type": "number"},
            {"id": "fldUNOTE00000001", "name": "Note", "type": "multilineText"},
            {"id": "fldUDATE00000001", "name": "Date", "type": "dateTime"},
        ],
    )
