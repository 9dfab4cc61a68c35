"""The demo's organization specs are data files (demo/data/*.toml): a malformed one is refused
with an error that names the file and the field, before anything is planned or saved."""

from __future__ import annotations

import pytest

from demo.specs import COMMON, DATA_DIR, NORTHWIND, SpecError, load_common, load_spec

# (what to change in northwind.toml, the field the error names, what it says)
BREAKAGES = [
    pytest.param(
        ('metric = "percentage", start = 61', 'metric = "percent", start = 61'),
        "pathways[0].current[0].key_results[1].metric",
        "Input should be 'number', 'percentage', 'currency', 'yes_no' or 'milestone' "
        "(in Patient access / Reduce patient wait times / Referrals triaged within 48 hours)",
        id="unknown metric",
    ),
    pytest.param(
        ('title = "Reduce patient wait times"', 'titel = "Reduce patient wait times"'),
        "pathways[0].current[0].titel",
        "Extra inputs are not permitted",
        id="misspelt key",
    ),
    pytest.param(
        ("task_total = 230\n", ""),
        "task_total",
        "Field required",
        id="missing field",
    ),
    pytest.param(
        ("start = 42, target = 28", 'start = "42", target = 28'),
        "pathways[0].current[0].key_results[0].start",
        "should be a number",
        id="number as text",
    ),
    pytest.param(
        (
            '{ title = "Same-day booking live in outpatient clinics", metric = "yes_no" }',
            '{ title = "Same-day booking live in outpatient clinics", metric = "yes_no", '
            "target = 2 }",
        ),
        "pathways[0].current[0].key_results[2]",
        "a yes_no key result goes from start 0 to target 1",
        id="yes/no beyond 1",
    ),
    pytest.param(
        ('owner = "Amara Okafor"', 'owner = "Amara Okafur"'),
        "pathways[0].current[0].owner",
        "'Amara Okafur' is not one of `people`",
        id="owner not among people",
    ),
    pytest.param(
        ('"Kevin Park", "Oscar Nilsson"]', '"Kevin Parks", "Oscar Nilsson"]'),
        "departed[2]",
        "'Kevin Parks' is not one of `people`",
        id="departed not among people",
    ),
    pytest.param(
        ('parent = "Reduce patient wait times"', 'parent = "Reduce patient waits"'),
        "pathways[0].current[2].parent",
        "'Reduce patient waits' is not an objective without a parent in `current`",
        id="unknown parent",
    ),
    pytest.param(
        ("active = 22", "active = 21"),
        "project_statuses",
        "deals 43 statuses to 44 projects",
        id="statuses do not add up",
    ),
    pytest.param(
        ('victor = "viewer"', 'victor = "viewer"\nvictoria = "viewer"'),
        "members.victoria",
        "'victoria' is not a user in common.toml",
        id="member not a demo user",
    ),
    pytest.param(
        ('"Self check-in kiosks",', '"Self check-in kiosks",\n    "Central referral hub",'),
        "pathways[0].projects[11]",
        "project 'Central referral hub' appears twice",
        id="duplicate project",
    ),
    pytest.param(
        ("seed = 20261", "seed = 20261\nseed = 1"),
        "",  # TOML's own error says where: line and column
        "not TOML: Cannot overwrite a value (at line 11, column 9)",
        id="not TOML",
    ),
]


@pytest.mark.parametrize(("change", "where", "message"), BREAKAGES)
def test_a_malformed_spec_names_the_file_and_the_field(tmp_path, change, where, message):
    old, new = change
    text = (DATA_DIR / "northwind.toml").read_text(encoding="utf-8")
    assert text.count(old) == 1, "the breakage must apply to the bundled file exactly once"
    path = tmp_path / "northwind.toml"
    path.write_text(text.replace(old, new), encoding="utf-8")

    with pytest.raises(SpecError) as raised:
        load_spec(path, common=COMMON)

    error = raised.value
    assert error.path == path
    assert str(error).startswith(f"{path} is not a valid demo spec:\n")
    expected = f"{where}: {message}" if where else message
    assert any(problem.startswith(expected) for problem in error.problems), error.problems


def test_the_unchanged_copy_loads_as_the_bundled_spec(tmp_path):
    """The breakages above are the only thing wrong with their files."""
    path = tmp_path / "northwind.toml"
    path.write_text((DATA_DIR / "northwind.toml").read_text(encoding="utf-8"), encoding="utf-8")
    assert load_spec(path, common=COMMON) == NORTHWIND


def test_every_problem_is_listed_at_once(tmp_path):
    text = (DATA_DIR / "northwind.toml").read_text(encoding="utf-8")
    path = tmp_path / "northwind.toml"
    path.write_text(
        text.replace('owner = "Amara Okafor"', 'owner = "Nobody"').replace(
            "active = 22", "active = 2"
        ),
        encoding="utf-8",
    )
    with pytest.raises(SpecError) as raised:
        load_spec(path, common=COMMON)
    assert [problem.split(":")[0] for problem in raised.value.problems] == [
        "pathways[0].current[0].owner",
        "project_statuses",
        "stale_projects",
    ]


def test_a_malformed_common_file_names_the_file_and_the_field(tmp_path):
    text = (DATA_DIR / "common.toml").read_text(encoding="utf-8")
    old = 'username = "olivia"'
    assert text.count(old) == 1
    path = tmp_path / "common.toml"
    path.write_text(text.replace(old, 'username = "demo"'), encoding="utf-8")
    with pytest.raises(SpecError) as raised:
        load_common(path)
    assert raised.value.problems == ["users[1]: username 'demo' appears twice"]
