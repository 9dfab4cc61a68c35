from __future__ import annotations

import pytest
from django.test import override_settings


@pytest.fixture(scope="session", autouse=True)
def kept_demo_base_in_a_temporary_place(tmp_path_factory):
    """seed_demo and the demo base's server keep the base in a file (demo.airtable_base.
    state_path): in tests, not beside the developer's database."""
    path = tmp_path_factory.mktemp("demo-base") / "kept.airtable.json"
    with override_settings(DEMO_BASE_STATE=str(path)):
        yield path
