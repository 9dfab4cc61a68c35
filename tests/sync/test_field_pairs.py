"""Fields that look like copies of each other (sync.reconcile.field_pairs): which pairs are
candidates by name, and how their values are judged, by meaning rather than type."""

from __future__ import annotations

from sync.reconcile.field_pairs import candidate_pairs, judge
from sync.schema import FieldSchema, TableSchema


def field(fid: str, name: str, type_: str = "singleLineText", **options) -> FieldSchema:
    return FieldSchema(id=fid, name=name, type=type_, options=options)


def select(fid: str, name: str, *choices: str) -> FieldSchema:
    return field(fid, name, "singleSelect", choices=[{"name": c} for c in choices])


def test_candidates_by_name_but_not_numbered_slots_or_other_words():
    table = TableSchema(
        id="tblT",
        name="T",
        primary_field_id="f1",
        fields=(
            field("f1", "Owner", "multipleRecordLinks", linkedTableId="tblP"),
            field("f2", "Owner 2"),
            field("f3", "Status"),
            field("f4", "Status (old)"),
            field("f5", "Phone 1"),
            field("f6", "Phone 2"),
            field("f7", "Start date", "date"),
            field("f8", "End date", "date"),
            field("f9", "owner-copy"),
        ),
    )
    pairs = set(candidate_pairs(table))
    assert pairs == {("f1", "f2"), ("f1", "f9"), ("f2", "f9"), ("f3", "f4")}


def names(record_id: str) -> str | None:
    return {"recMAYA": "Maya Okafor", "recSAM": "Sam Lee"}.get(record_id)


def known(schema_field: FieldSchema) -> set[str]:
    return {"maya okafor", "sam lee"} if schema_field.type == "multipleRecordLinks" else set()


def test_a_link_and_a_text_of_names_are_one_kind_and_other_text_is_not():
    owner = field("f1", "Owner", "multipleRecordLinks", linkedTableId="tblP")
    copy = field("f2", "Owner 2")
    samples = [(["recMAYA"], "Maya Okafor"), (["recSAM"], "maya okafor"), (["recSAM"], "Sam Lee")]
    judged = judge(owner, copy, samples, names, known)
    assert (judged["both"], judged["same_kind"], round(judged["agree"], 2)) == (3, 1.0, 0.67)
    notes = [(["recMAYA"], "see notes"), (["recSAM"], "TBD"), (["recSAM"], "ask Jo")]
    assert judge(owner, copy, notes, names, known)["same_kind"] == 0.0


def test_a_date_and_a_date_typed_as_text_are_one_kind():
    due, typed = field("f1", "Due", "date"), field("f2", "Due (old)")
    samples = [("2026-03-01", "2026-03-01"), ("2026-04-02", "04/02/2026"), ("2026-05-01", "soon")]
    judged = judge(due, typed, samples, names, known)
    assert (round(judged["same_kind"], 2), round(judged["agree"], 2)) == (0.67, 0.67)


def test_selects_with_a_shared_vocabulary_are_one_kind_even_when_stale():
    status = select("f1", "Status", "To do", "Doing", "Done")
    old = select("f2", "Status (old)", "To do", "Done", "Archived")
    other = select("f3", "Status (old)", "Red", "Amber", "Green")
    samples = [("Doing", "To do"), ("Done", "Archived"), ("Done", "Done")]
    assert judge(status, old, samples, names, known)["same_kind"] == 1.0
    assert judge(status, other, [("Doing", "Red")] * 3, names, known)["same_kind"] == 0.0
