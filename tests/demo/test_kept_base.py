"""The demo base outlives run_demo: what reached it (a check-in pushed by the write-back, an
edit through the control API) is served again after a restart, so the next sync neither undoes
the edit nor archives the check-in. seed_demo keeps the base it loaded the database from."""

from __future__ import annotations

import json
import logging
import time

import pytest
from pyairtable import Api

from demo import airtable_base as demo_base


@pytest.fixture
def kept(settings, tmp_path):
    settings.DEMO_BASE_STATE = str(tmp_path / "db.sqlite3.airtable.json")
    return tmp_path / "db.sqlite3.airtable.json"


def first_table(server):
    return server.fake.bases[demo_base.BASE_ID].tables[0]


def test_a_restarted_demo_base_serves_what_reached_it(kept):
    server = demo_base.serve_demo_base()
    try:
        table = first_table(server)
        record_id = next(iter(table.records))
        primary = table.primary_field_id
        table.update(record_id, {primary: "Renamed while the demo ran"})
        # A record made through the API, as the write-back makes a check-in's.
        api = Api(demo_base.TOKEN, endpoint_url=server.url)
        made = api.table(demo_base.BASE_ID, table.id).create({primary: "Made by MissionOS"})
        deadline = time.monotonic() + 10
        while not kept.exists() and time.monotonic() < deadline:
            time.sleep(0.05)  # the keeper writes within a second of a change
        assert kept.exists()
    finally:
        server.stop()

    again = demo_base.serve_demo_base()
    try:
        table = first_table(again)
        assert table.get(record_id).fields[primary] == "Renamed while the demo ran"
        assert table.get(made["id"]).fields[primary] == "Made by MissionOS"
        assert not again.save()  # nothing changed since it loaded: nothing written
    finally:
        again.stop()


def test_without_a_kept_base_today_s_is_served_and_an_unreadable_one_is_said(kept, caplog):
    today = demo_base.base_data()
    server = demo_base.serve_demo_base()
    try:
        assert len(first_table(server)) == len(today["tables"][0]["records"])
    finally:
        server.stop()
    assert not kept.exists()  # it took no change: nothing to keep

    kept.write_text("{not json")
    with caplog.at_level(logging.WARNING, logger="demo.airtable_base"):
        assert demo_base.kept_base() is None
    assert "unreadable" in caplog.text


def test_the_kept_base_lives_beside_the_sqlite_database(settings):
    sqlite = {"ENGINE": "django.db.backends.sqlite3", "NAME": "/srv/mos/db.sqlite3"}
    assert str(demo_base.state_path(sqlite)) == "/srv/mos/db.sqlite3.airtable.json"
    postgres = {"ENGINE": "django.db.backends.postgresql", "NAME": "missionos"}
    expected = settings.BASE_DIR / ".demo" / "missionos.airtable.json"
    assert demo_base.state_path(postgres) == expected


def test_the_kept_file_is_the_fixture_format(kept):
    server = demo_base.serve_demo_base()
    try:
        table = first_table(server)
        table.update(next(iter(table.records)), {table.primary_field_id: "x"})
        assert server.save()
    finally:
        server.stop()
    data = json.loads(kept.read_text())
    assert data["id"] == demo_base.BASE_ID and data["tables"]
