"""Cleaning Airtable cells into MissionOS values: pure, no database."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.mapping.catalogue import ENTITIES, Attr
from sync.mapping.propose import propose_mapping
from sync.schema import FieldSchema, TableSchema, schema_from_api
from sync.values import (
    NUL_IN_JSON,
    Converted,
    NameRef,
    PersonRef,
    content_hash,
    convert,
    parse_number,
    record_raw,
)
from sync.writeback.state import value_key

TEXT = Attr("text")
LONG = Attr("long_text")
EMAIL = Attr("email")
NUMBER = Attr("number")
PERCENT = Attr("percent")
INTEGER = Attr("integer")
BOOL = Attr("bool")
DATE = Attr("date")
DATETIME = Attr("datetime")
CONFIDENCE = ENTITIES["key_result"]["confidence"]
TASK_STATUS = ENTITIES["task"]["status"]
PROJECT_STATUS = ENTITIES["project"]["status"]
PERSON_STATUS = ENTITIES["person"]["status"]
METRIC_TYPE = ENTITIES["key_result"]["metric_type"]
TASK_PROJECT = ENTITIES["task"]["project"]  # single, required
PROJECT_OBJECTIVES = ENTITIES["project"]["objectives"]  # many
TASK_ASSIGNEE = ENTITIES["task"]["assignee"]  # person
OBJECTIVE_CYCLE = ENTITIES["objective"]["cycle"]  # may be given by name

REC_A = "recAAAAAAAAAAAAAA"
REC_B = "recBBBBBBBBBBBBB1"
REC_C = "rec0123456789abcd"


def field(field_type: str, **options: Any) -> FieldSchema:
    return FieldSchema("fldXXXXXXXXXXXXXX", "Field", field_type, options)


def ok(value: object) -> Converted:
    return Converted(value, None)


# --- empty cells and formula errors ---------------------------------------------------------

ALL_KINDS = [TEXT, LONG, EMAIL, NUMBER, PERCENT, INTEGER, BOOL, DATE, DATETIME, TASK_STATUS]
ALL_KINDS += [TASK_PROJECT, PROJECT_OBJECTIVES, CONFIDENCE]


@pytest.mark.parametrize("attr", ALL_KINDS)
@pytest.mark.parametrize("raw", [None, "", "   ", [], [None, ""]])
def test_absent_is_empty_without_a_problem(attr: Attr, raw: object):
    expected: object = None
    if attr.kind == "bool":
        expected = False  # Airtable omits an unchecked checkbox
    if attr.many:
        expected = []
    assert convert(attr, raw) == ok(expected)


@pytest.mark.parametrize("attr", ALL_KINDS)
@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ({"error": "#ERROR!"}, "formula error #ERROR!"),
        ({"specialValue": "NaN"}, "formula error NaN"),
        ({"specialValue": "Infinity"}, "formula error Infinity"),
        ([{"error": "#ERROR!"}], "formula error #ERROR!"),
        ([3, {"error": "#DIV/0!"}], "formula error #DIV/0!"),
    ],
)
def test_formula_errors_are_problems_for_every_kind(attr: Attr, raw: object, problem: str):
    assert convert(attr, raw) == Converted(None, problem)


@pytest.mark.parametrize("attr", [*ALL_KINDS, TASK_ASSIGNEE, OBJECTIVE_CYCLE, PERSON_STATUS])
@pytest.mark.parametrize(
    "raw",
    [
        object(),
        {"foo": "bar"},
        [[["deep"]]],
        [{"id": None}],
        float("nan"),
        float("inf"),
        10**30,
        b"bytes",
        "\x00",
        {"email": 3},
        [1, "a", {"name": 2}],
    ],
)
def test_convert_never_raises(attr: Attr, raw: object):
    result = convert(attr, raw)
    assert isinstance(result, Converted)
    assert result.problem is None or isinstance(result.problem, str)


# --- text -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Launch   the\tclinic \n app ", "Launch the clinic app"),
        (["Alpha", " Beta ", "Alpha"], "Alpha, Beta"),  # a lookup, duplicates dropped
        ({"id": "usrAAAAAAAAAAAAAA", "email": "ann@x.org", "name": "Ann Lee"}, "Ann Lee"),
        ({"id": "usrAAAAAAAAAAAAAA", "email": "ann@x.org"}, "ann@x.org"),
        ({"id": "attA", "url": "https://x", "filename": "plan.pdf"}, "plan.pdf"),
        (42, "42"),
        (12.5, "12.5"),
        (True, "Yes"),
    ],
)
def test_text(raw: object, expected: str):
    assert convert(TEXT, raw) == ok(expected)


def test_long_text_keeps_line_breaks():
    raw = "  First line   \r\nsecond  line\n\n\n\n\nthird\n  "
    assert convert(LONG, raw) == ok("First line\nsecond  line\n\nthird")
    assert convert(LONG, ["a", "b"]) == ok("a\nb")


# --- email ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Ann.Lee@Example.ORG ", ok("ann.lee@example.org")),
        ("mailto:bob@example.org", ok("bob@example.org")),
        ("Bob Smith <bob@example.org>", ok("bob@example.org")),
        (["bob@example.org"], ok("bob@example.org")),
        ({"id": "usrA", "email": "Cy@Example.org", "name": "Cy"}, ok("cy@example.org")),
        (
            "bob at example dot org",
            Converted(None, "not an email address: 'bob at example dot org'"),
        ),
        ("bob@localhost", Converted(None, "not an email address: 'bob@localhost'")),
        (
            ["a@example.org", "b@example.org"],
            Converted(
                None, "several values where one is expected: 'a@example.org', 'b@example.org'"
            ),
        ),
    ],
)
def test_email(raw: object, expected: Converted):
    assert convert(EMAIL, raw) == expected


# --- numbers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (42, Decimal("42")),
        (0, Decimal("0")),
        (-3, Decimal("-3")),
        (12.5, Decimal("12.5")),
        (0.1, Decimal("0.1")),  # through repr: no binary noise
        (0.1 + 0.2, Decimal("0.30000000000000004")),
        (1e13, Decimal("10000000000000")),  # no exponent notation
        ("1,250", Decimal("1250")),
        (" 42 ", Decimal("42")),
        ("12.5%", Decimal("12.5")),  # percentage points
        ("$1,200", Decimal("1200")),
        ("$1,200.50", Decimal("1200.5")),
        ("-$1,200.50", Decimal("-1200.5")),
        ("$-1,200", Decimal("-1200")),
        ("(1,200)", Decimal("-1200")),
        ("€3.000,50", Decimal("3000.5")),
        ("3.000,50 €", Decimal("3000.5")),
        ("£ 99", Decimal("99")),
        ("USD 1,000,000", Decimal("1000000")),
        ("USD1,000", Decimal("1000")),
        ("1,000 EUR", Decimal("1000")),
        ("99,999,999,999,999", Decimal("99999999999999")),  # 14 digits: the most MissionOS keeps
        ("1 250", Decimal("1250")),
        ("1\u00a0250,75", Decimal("1250.75")),
        ("1'250", Decimal("1250")),
        ("12,5", Decimal("12.5")),  # a lone decimal comma
        ("1.250", Decimal("1.25")),  # US reading: a decimal point
        ("1.000.000", Decimal("1000000")),
        ("\u22125", Decimal("-5")),  # unicode minus
        ("+7", Decimal("7")),
        (".5", Decimal("0.5")),
        ([7], Decimal("7")),  # a lookup of one value
        ([7, 7], Decimal("7")),
        (True, Decimal("1")),  # a checkbox for a yes/no metric
    ],
)
def test_numbers(raw: object, expected: Decimal):
    result = convert(NUMBER, raw)
    assert result == ok(expected)
    assert isinstance(result.value, Decimal)
    assert str(result.value) == str(expected)


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("abc", "not a number: 'abc'"),
        ("5 users", "not a number: '5 users'"),
        ("1,2,3", "not a number: '1,2,3'"),
        ("12.5.3", "not a number: '12.5.3'"),
        ("1.2k", "not a number: '1.2k'"),
        ("NaN", "not a number: 'NaN'"),
        ("Infinity", "not a number: 'Infinity'"),
        ([3, 4], "several values where one is expected: 3, 4"),
        ({"id": "usrA", "name": "Ann"}, "not a number: {'id': 'usrA', 'name': 'Ann'}"),
        (float("nan"), "not a number: nan"),
        (10**14, "too large: 100000000000000"),
        ("1e3", "not a number: '1e3'"),
    ],
)
def test_not_numbers(raw: object, problem: str):
    assert convert(NUMBER, raw) == Converted(None, problem)


def test_parse_number_reports_the_percent_sign():
    assert parse_number("12.5 %") == (Decimal("12.5"), True)
    assert parse_number("1,250") == (Decimal("1250"), False)
    assert parse_number("seven") is None


@pytest.mark.parametrize(
    ("attr", "raw", "source", "expected"),
    [
        (NUMBER, 0.42, field("percent", precision=0), Decimal("42")),  # fraction -> points
        (NUMBER, 0.425, field("percent", precision=1), Decimal("42.5")),
        (NUMBER, 1.5, field("percent", precision=0), Decimal("150")),
        (NUMBER, 0.42, field("formula", result={"type": "percent"}), Decimal("42")),
        (NUMBER, [0.42], field("multipleLookupValues", result={"type": "percent"}), Decimal("42")),
        (NUMBER, 0.42, field("number", precision=2), Decimal("0.42")),
        (NUMBER, 1200, field("currency", symbol="$"), Decimal("1200")),
        (NUMBER, "42%", field("singleLineText"), Decimal("42")),
        (PERCENT, 0.42, None, Decimal("42")),  # kind percent without its field: a fraction
        (PERCENT, 0.42, field("number"), Decimal("0.42")),
        (PERCENT, "42%", None, Decimal("42")),
        (PERCENT, "42", None, Decimal("42")),
    ],
)
def test_percentages_are_points(
    attr: Attr, raw: object, source: FieldSchema | None, expected: Decimal
):
    assert convert(attr, raw, field=source) == ok(expected)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(3, ok(3)), ("3", ok(3)), (3.0, ok(3)), ("1,000", ok(1000))],
)
def test_integers(raw: object, expected: Converted):
    result = convert(INTEGER, raw)
    assert result == expected and type(result.value) is int


def test_integers_must_be_whole():
    assert convert(INTEGER, 2.5) == Converted(None, "not a whole number: 2.5")


@pytest.mark.parametrize(
    ("raw", "source", "expected"),
    [
        (7, None, 7),
        (0, None, 0),
        (10, None, 10),
        (7.4, None, 7),
        (7.5, None, 8),  # half up
        (0.7, None, 7),  # a fraction
        (1, None, 1),  # a whole 1 is on the 0-10 scale
        (70, None, 7),  # percentage points
        (100, None, 10),
        ("70%", None, 7),
        ("8", None, 8),
        (0.7, field("percent"), 7),
        (1, field("percent"), 10),
        (0.05, field("percent"), 1),
        (4, field("rating", max=5), 8),
        (3, field("rating", max=10), 3),
        (4, field("rating"), 8),  # 5 stars unless told
        ("High", None, 8),
        ("very high", None, 9),
        ("Medium", None, 5),
        ("low", None, 3),
    ],
)
def test_confidence_scales(raw: object, source: FieldSchema | None, expected: int):
    result = convert(CONFIDENCE, raw, field=source)
    assert result == ok(Decimal(expected))


@pytest.mark.parametrize("raw", [-1, 101, 250, "-5%", "150%"])
def test_confidence_out_of_range(raw: object):
    result = convert(CONFIDENCE, raw)
    assert result.value is None
    assert result.problem is not None and "outside the 0-10 scale" in result.problem


def test_confidence_words_can_come_from_the_value_map():
    assert convert(CONFIDENCE, "Green", value_map={"green": "9"}) == ok(Decimal(9))
    assert convert(CONFIDENCE, "Purple") == Converted(None, "not a number: 'Purple'")


# --- booleans -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (True, True),
        (False, False),
        (1, True),
        (0, False),
        ("yes", True),
        (" Yes ", True),
        ("Y", True),
        ("true", True),
        ("x", True),
        ("✓", True),
        ("checked", True),
        ("no", False),
        ("No", False),
        ("FALSE", False),
        ("n", False),
        ([True], True),
    ],
)
def test_booleans(raw: object, expected: bool):
    assert convert(BOOL, raw) == ok(expected)


@pytest.mark.parametrize("raw", ["maybe", 2, "sometimes"])
def test_not_booleans(raw: object):
    assert convert(BOOL, raw) == Converted(None, f"not a yes/no value: {raw!r}")


# --- dates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-03-01", date(2024, 3, 1)),
        (" 2024-03-01 ", date(2024, 3, 1)),
        ("2024-03-01T09:00:00.000Z", date(2024, 3, 1)),
        ("2024-02-29T23:30:00.000Z", date(2024, 2, 29)),  # UTC date unless the field says
        ("3/1/2024", date(2024, 3, 1)),  # US month/day
        ("03/01/2024", date(2024, 3, 1)),
        ("3-1-2024", date(2024, 3, 1)),
        ("25/12/2024", date(2024, 12, 25)),  # day first when it cannot be a month
        ("01.03.2024", date(2024, 3, 1)),  # dots: day.month.year
        ("2024/03/01", date(2024, 3, 1)),
        ("3/1/24", date(2024, 3, 1)),
        ("1 March 2024", date(2024, 3, 1)),
        ("1st Mar 2024", date(2024, 3, 1)),
        ("March 1, 2024", date(2024, 3, 1)),
        ("Sept 30 2024", date(2024, 9, 30)),
        ("3/1/2024 9:00am", date(2024, 3, 1)),
        (["2024-03-01"], date(2024, 3, 1)),
        (["2024-03-01", "2024-03-01"], date(2024, 3, 1)),
    ],
)
def test_dates(raw: object, expected: date):
    assert convert(DATE, raw) == ok(expected)


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("next week", "not a date: 'next week'"),
        ("31/02/2024", "not a date: '31/02/2024'"),
        ("2024-13-01", "not a date: '2024-13-01'"),
        ("13/13/2024", "not a date: '13/13/2024'"),
        (20240301, "not a date: 20240301"),
        (
            ["2024-03-01", "2024-04-01"],
            "several values where one is expected: '2024-03-01', '2024-04-01'",
        ),
    ],
)
def test_not_dates(raw: object, problem: str):
    assert convert(DATE, raw) == Converted(None, problem)


def test_a_date_from_a_date_time_uses_the_fields_time_zone():
    paris = field("dateTime", timeZone="Europe/Paris")
    assert convert(DATE, "2024-02-29T23:30:00.000Z", field=paris) == ok(date(2024, 3, 1))
    client = field("dateTime", timeZone="client")
    assert convert(DATE, "2024-02-29T23:30:00.000Z", field=client) == ok(date(2024, 2, 29))
    bogus = field("dateTime", timeZone="Mars/Olympus_Mons")
    assert convert(DATE, "2024-02-29T23:30:00.000Z", field=bogus) == ok(date(2024, 2, 29))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-03-01T09:00:00.000Z", datetime(2024, 3, 1, 9, tzinfo=UTC)),
        ("2024-03-01T10:00:00+01:00", datetime(2024, 3, 1, 9, tzinfo=UTC)),
        ("2024-03-01T09:00", datetime(2024, 3, 1, 9, tzinfo=UTC)),  # no zone: UTC
        ("2024-03-01", datetime(2024, 3, 1, tzinfo=UTC)),  # a date is fine
        ("3/1/2024 9:30 PM", datetime(2024, 3, 1, 21, 30, tzinfo=UTC)),
        ("3/1/2024 12:15am", datetime(2024, 3, 1, 0, 15, tzinfo=UTC)),
    ],
)
def test_date_times(raw: object, expected: datetime):
    result = convert(DATETIME, raw)
    assert result == ok(expected)
    assert isinstance(result.value, datetime) and result.value.tzinfo is not None


def test_a_zoneless_date_time_is_read_in_the_fields_zone():
    paris = field("dateTime", timeZone="Europe/Paris")
    expected = datetime(2024, 3, 1, 8, tzinfo=UTC)
    assert convert(DATETIME, "2024-03-01T09:00", field=paris) == ok(expected)


# --- choices --------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["Done", "done ", "Completed", "DONE", "✅ Done", ["Done"]])
def test_status_synonyms_without_a_value_map(raw: object):
    assert convert(TASK_STATUS, raw) == ok("done")


def test_status_through_the_value_map():
    value_map = {
        "done": "done",
        "completed": "done",
        "frozen": "blocked",
        "in progress": "in_progress",
    }
    assert convert(TASK_STATUS, "Frozen", value_map=value_map) == ok("blocked")
    assert convert(TASK_STATUS, "  In-Progress ", value_map=value_map) == ok("in_progress")
    assert convert(TASK_STATUS, "done ", value_map=value_map) == ok("done")
    # the value map wins over the built-in synonyms
    assert convert(PROJECT_STATUS, "Blocked", value_map={"blocked": "abandoned"}) == ok("abandoned")
    # a value the map does not list falls back to the synonyms
    assert convert(TASK_STATUS, "Finished", value_map=value_map) == ok("done")


def test_an_unknown_choice_names_the_value_and_the_known_ones():
    result = convert(TASK_STATUS, "Vibing", value_map={"done": "done", "doing": "in_progress"})
    assert result == Converted(None, "unknown value 'Vibing' (known: doing, done)")
    result = convert(TASK_STATUS, "Vibing")
    assert result == Converted(
        None, "unknown value 'Vibing' (known: todo, in progress, blocked, done)"
    )


def test_choice_values_by_entity():
    assert convert(PROJECT_STATUS, "In progress") == ok("active")
    assert convert(TASK_STATUS, "In progress") == ok("in_progress")
    assert convert(PROJECT_STATUS, "Cancelled") == ok("abandoned")
    assert convert(PERSON_STATUS, "Former") == ok("departed")
    assert convert(METRIC_TYPE, "%") == ok("percentage")


def test_several_choices_use_the_first_and_say_so():
    result = convert(PROJECT_STATUS, ["Active", "Done"])
    assert result == Converted("active", "several values (Active, Done); used 'active'")
    assert convert(PROJECT_STATUS, ["Done", "Completed"]) == ok("done")


def test_a_value_map_target_that_is_no_choice_is_a_problem():
    result = convert(TASK_STATUS, "Done", value_map={"done": "finished"})
    assert result.value is None
    assert (
        result.problem
        == "the value map gives 'finished', not one of todo, in_progress, blocked, done"
    )


# --- links ----------------------------------------------------------------------------------


def test_single_links():
    assert convert(TASK_PROJECT, [REC_A]) == ok(REC_A)
    assert convert(TASK_PROJECT, REC_A) == ok(REC_A)
    assert convert(TASK_PROJECT, [REC_A, REC_B]) == Converted(
        REC_A, "2 linked records where one is expected; kept the first"
    )
    assert convert(TASK_PROJECT, [REC_A, REC_A]) == ok(REC_A)


def test_many_links():
    assert convert(PROJECT_OBJECTIVES, [REC_A, REC_B, REC_C, REC_A]) == ok([REC_A, REC_B, REC_C])


@pytest.mark.parametrize(
    "bad", ["recShort", "Acme Corp", "usrAAAAAAAAAAAAAA", "rec0123456789abc!", "REC0123456789ABCD"]
)
def test_link_ids_are_validated(bad: str):
    result = convert(PROJECT_OBJECTIVES, [REC_A, bad])
    assert result == Converted([REC_A], f"not a linked record: {bad!r}")
    result = convert(TASK_PROJECT, [bad])
    assert result == Converted(None, f"not a linked record: {bad!r}")


def test_a_collaborator_in_a_person_link_is_a_marker_to_match():
    raw = {"id": "usrAAAAAAAAAAAAAA", "email": " Ann@Example.org", "name": "Ann  Lee"}
    assert convert(TASK_ASSIGNEE, raw) == ok(
        PersonRef(email="ann@example.org", name="Ann Lee", user_id="usrAAAAAAAAAAAAAA")
    )
    several = [raw, {"id": "usrBBBBBBBBBBBBBB", "name": "Bo"}]
    result = convert(TASK_ASSIGNEE, several)
    assert result.value == PersonRef("ann@example.org", "Ann Lee", "usrAAAAAAAAAAAAAA")
    assert result.problem == "2 linked records where one is expected; kept the first"


def test_a_collaborator_cannot_link_anything_but_a_person():
    result = convert(TASK_PROJECT, {"id": "usrAAAAAAAAAAAAAA", "email": "a@b.org", "name": "Ann"})
    assert result == Converted(None, "not a linked record: collaborator 'Ann'")


def test_a_cycle_may_be_named():
    assert convert(OBJECTIVE_CYCLE, "  Q1   2024 ") == ok(NameRef("Q1 2024"))
    assert convert(OBJECTIVE_CYCLE, [REC_A]) == ok(REC_A)
    assert convert(OBJECTIVE_CYCLE, ["Q1 2024"]) == ok(NameRef("Q1 2024"))


def test_a_lookup_of_errors_in_a_link_is_a_problem():
    assert convert(PROJECT_OBJECTIVES, [{"error": "#ERROR!"}]) == Converted(
        None, "formula error #ERROR!"
    )


# --- change detection -----------------------------------------------------------------------


def test_content_hash_is_stable_across_ordering_and_equal_for_equal_values():
    values: dict[str, object] = {
        "title": "Launch",
        "target_value": Decimal("42.00"),
        "due_on": date(2024, 3, 1),
        "completed_at": datetime(2024, 3, 1, 9, tzinfo=UTC),
        "objectives": [REC_A, REC_B],
        "owner": PersonRef("ann@example.org", "Ann", None),
        "done": False,
        "note": None,
    }
    reordered = dict(reversed(list(values.items())))
    equal = {
        **values,
        "target_value": 42,  # the same number
        "completed_at": datetime.fromisoformat("2024-03-01T10:00:00+01:00"),  # the same moment
    }
    digest = content_hash(values)
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert content_hash(reordered) == digest
    assert content_hash(equal) == digest
    assert content_hash(dict(values)) == digest


@pytest.mark.parametrize(
    ("key", "other"),
    [
        ("title", "Launch!"),
        ("target_value", Decimal("42.01")),
        ("target_value", "42"),  # text is not a number
        ("due_on", date(2024, 3, 2)),
        ("objectives", [REC_B, REC_A]),
        ("owner", PersonRef("bob@example.org", "Ann", None)),
        ("done", True),
        ("note", ""),
    ],
)
def test_content_hash_changes_with_any_value(key: str, other: object):
    values: dict[str, object] = {
        "title": "Launch",
        "target_value": Decimal("42"),
        "due_on": date(2024, 3, 1),
        "objectives": [REC_A, REC_B],
        "owner": PersonRef("ann@example.org", "Ann", None),
        "done": False,
        "note": None,
    }
    assert content_hash({**values, key: other}) != content_hash(values)


def test_content_hash_of_converted_cells():
    first = {"value": convert(NUMBER, "1,250").value, "at": convert(DATETIME, "2024-03-01").value}
    second = {
        "at": convert(DATETIME, "2024-03-01T00:00:00.000Z").value,
        "value": convert(NUMBER, 1250).value,
    }
    assert content_hash(first) == content_hash(second)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_content_hash_text_is_pinned():
    # Stored digests and write-back bases were made from this exact text: a faster walk or
    # dump must give the same.
    values = {
        "b": [1, "x", None, True],
        "a": {"d": date(2024, 3, 1), "n": Decimal("5.50")},
        "é": 'say "hi"',
    }
    text = (
        '{"a":{"d":{"$d":"2024-03-01"},"n":{"$n":"5.5"}},'
        '"b":[{"$n":"1"},"x",null,true],"é":"say \\"hi\\""}'
    )
    assert content_hash(values) == _sha(text)
    assert content_hash({"t": ("x", 2.0)}) == _sha('{"t":["x",{"$n":"2"}]}')


@pytest.mark.parametrize(
    "value",
    [
        "",
        "Done",
        'é \u2028 "quoted" \\ back',
        None,
        True,
        False,
        0,
        7,
        -(10**20),
        date(2024, 3, 1),
        datetime(2024, 3, 1, 9, tzinfo=UTC),
        Decimal("5.000"),
        Decimal("NaN"),
        2.5,
        [REC_A, REC_B],
        {"b": 1, "a": None},
        PersonRef("ann@example.org", "Ann", None),
    ],
)
def test_value_key_is_the_content_hash_of_the_value(value: object):
    # value_key's fast paths (text, None, cached scalars) keep the keys of existing bases.
    expected = content_hash({"v": value})[:16]
    assert value_key(value) == expected
    assert value_key(value) == expected  # and again, from the cache
    assert value_key("Done") == _sha('{"v":"Done"}')[:16]
    assert value_key(True) != value_key(1)
    assert value_key(Decimal("5.00")) == value_key(5)


# --- a messy base, end to end ---------------------------------------------------------------


def _table(schema_payload: dict[str, Any], name: str) -> TableSchema:
    table = next(t for t in schema_from_api(schema_payload).tables if t.name == name)
    return table


def _field_id(table: TableSchema, name: str) -> str:
    found = table.field_named(name)
    assert found is not None, name
    return found.id


def test_messy_records_through_the_proposed_mapping():
    payload = json.loads((Path(__file__).parent / "fixtures" / "messy_base.json").read_text())
    mapping = propose_mapping(schema_from_api(payload))
    key_results = mapping.entities["key_result"]
    table = _table(payload, "Key Results")
    assert table.id == key_results.table_id
    record = {
        _field_id(table, name): value
        for name, value in {
            "KR": "  Cut  wait times ",
            "Objective": [REC_A],
            "Type": "%",
            "Baseline": 40,
            "Current": 33.5,
            "Target": 25,
            "Confidence": 0.7,  # a percent field: 70 %
            "Owner": {"id": "usrAAAAAAAAAAAAAA", "email": "Ann@Example.org", "name": "Ann"},
        }.items()
    }
    converted: dict[str, object] = {}
    problems: dict[str, str] = {}
    for attr_name, field_id in key_results.fields.items():
        result = convert(
            ENTITIES["key_result"][attr_name],
            record.get(field_id),
            value_map=key_results.value_maps.get(attr_name),
            field=table.field(field_id),
        )
        converted[attr_name] = result.value
        if result.problem:
            problems[attr_name] = result.problem
    assert problems == {}
    assert converted == {
        "title": "Cut wait times",
        "objective": REC_A,
        "metric_type": "percentage",
        "start_value": Decimal(40),
        "current_value": Decimal("33.5"),
        "target_value": Decimal(25),
        "unit": None,
        "confidence": Decimal(7),
        "owner": PersonRef("ann@example.org", "Ann", "usrAAAAAAAAAAAAAA"),
    }

    health = _table(payload, "Initiatives").field_named("Health score")
    assert health is not None and health.type == "formula"
    assert convert(NUMBER, {"error": "#ERROR!"}, field=health) == Converted(
        None, "formula error #ERROR!"
    )
    task_status = mapping.entities["task"].value_maps["status"]
    assert convert(TASK_STATUS, "Cancelled", value_map=task_status) == Converted(
        None, "unknown value 'Cancelled' (known: completed, doing, done, stuck, to do)"
    )


def test_control_characters_from_airtable_are_dropped_from_text_and_emails():
    """missionos.text's rule on the sync's side: Postgres text cannot hold NUL, and the forms
    refuse every control character; a cell that carries them is kept without them."""
    assert convert(TEXT, "Ti\x00tle\x0b done") == Converted("Title done")
    assert convert(LONG, "one\x00\nt\x1fwo") == Converted("one\ntwo")
    assert convert(EMAIL, "dana\x00@example.org") == Converted("dana@example.org")


# -- a pulled record's raw bytes (its digest, and whether it may hold a NUL) -------------------

_cells = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


def _holds_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    return False


@given(fields=st.dictionaries(st.text(), _cells, max_size=6))
def test_a_records_raw_bytes_show_every_nul_and_ignore_key_order(fields):
    """The reconciler skips the NUL scan of records whose bytes show none: a NUL anywhere, in
    a key or deep in a list, must show (a false alarm only costs the scan)."""
    record = {"id": "rec1", "createdTime": "2024-01-02T03:04:05.000Z", "fields": fields}
    raw = record_raw(record)
    if _holds_nul(fields):
        assert NUL_IN_JSON in raw
    reordered = {**record, "fields": dict(reversed(list(fields.items())))}
    assert record_raw(reordered) == raw


def test_a_record_with_an_integer_past_64_bits_still_has_its_bytes():
    record = {"fields": {"fldBIG": 2**70, "fldNAME": "Big\x00"}}
    raw = record_raw(record)
    assert str(2**70).encode() in raw and NUL_IN_JSON in raw
    assert record_raw({"fields": {"fldNAME": "Big\x00", "fldBIG": 2**70}}) == raw
