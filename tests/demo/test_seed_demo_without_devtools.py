"""The production image leaves devtools/ out (.dockerignore), and with it the fake Airtable that
loads Northwind Health: there `seed_demo` says what it needs and saves nothing.

devtools is made unimportable the way a missing package is: None in sys.modules makes
`import devtools` raise ModuleNotFoundError (nothing of the demo is mocked).
"""

from __future__ import annotations

import sys
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from orgs.models import Membership, Organization, Person
from tests.rows import every_row

NEEDS_DEVTOOLS = (
    "seed_demo loads Northwind Health through the fake Airtable in devtools/, which this "
    "installation leaves out (the production image does). Run it from a source checkout: "
    "make run."
)


@pytest.fixture
def without_devtools(monkeypatch):
    monkeypatch.setitem(sys.modules, "devtools", None)
    monkeypatch.setitem(sys.modules, "devtools.fakeairtable", None)


def nothing_saved() -> bool:
    return not any(
        every_row(model).exists() for model in (Organization, Membership, Person, get_user_model())
    )


def test_seed_demo_without_devtools_says_what_it_needs_and_saves_nothing(db, without_devtools):
    assert nothing_saved()  # a fresh database: Northwind Health has to be loaded

    with pytest.raises(CommandError) as raised:
        call_command("seed_demo", stdout=StringIO())

    assert str(raised.value) == f"{NEEDS_DEVTOOLS} Nothing was saved."
    # The cause is the import itself failing, not some other fault along the way.
    assert isinstance(raised.value.__cause__.__cause__, ModuleNotFoundError)
    assert nothing_saved()


def test_write_snapshot_without_devtools_says_what_it_needs(db, without_devtools, tmp_path):
    path = tmp_path / "northwind.json"
    with pytest.raises(CommandError, match=r"^seed_demo loads Northwind Health .* make run\.$"):
        call_command("seed_demo", "--write-snapshot", str(path), stdout=StringIO())
    assert not path.exists()
