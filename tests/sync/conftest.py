"""The fake Airtable with a small realistic base, and a connection to it, for sync tests."""

from __future__ import annotations

import time

import pytest

from devtools.fakeairtable import FakeAirtable
from sync import services
from tests.sync.airtable_base import BASE_ID, TOKEN, build_base


@pytest.fixture
def fake(settings):
    with FakeAirtable(rate_limit=None, seed=11) as server:
        settings.AIRTABLE_API_URL = server.url
        # The base was built an hour ago: outside the incremental runs' 5-minute overlap.
        server.clock = lambda: time.time() - 3600
        server.ids = build_base(server)
        server.clock = time.time
        yield server


@pytest.fixture
def connection(fake, org):
    return services.connection_create(
        organization=org, name=" Northwind   plans ", base_id=BASE_ID, token=TOKEN
    )
