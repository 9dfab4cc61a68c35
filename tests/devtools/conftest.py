"""Fixtures for the fake Airtable's tests: a served fake with the base of write_base.py."""

from __future__ import annotations

import pytest

from devtools.fakeairtable import FakeAirtable
from tests.devtools.write_base import build


@pytest.fixture
def make_fake():
    """make_fake(**FakeAirtable kwargs) -> (fake, table), served until the test ends."""
    started = []

    def make(**kwargs):
        kwargs.setdefault("rate_limit", None)
        fake = FakeAirtable(**kwargs)
        table = build(fake)
        fake.start()
        started.append(fake)
        return fake, table

    yield make
    for fake in started:
        fake.stop()


@pytest.fixture
def fake_table(make_fake):
    return make_fake()
