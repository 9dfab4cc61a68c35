"""missionos.prepared: the search's statements are prepared on Postgres (planned once per
connection), logged with their values like any other query, and not prepared where the
settings turn it off (a transaction pooler)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from missionos.prepared import prepared_cursor
from okrs.selectors.search import search_organization
from tests.factories import OrganizationFactory, ProjectFactory

ROOT = Path(__file__).resolve().parent.parent
postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="Postgres")


def prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [statement for (statement,) in cursor.fetchall()]


def found_projects(organization, query: str) -> list[str]:
    results = search_organization(organization=organization, query=query)
    return [
        hit.name for group in results.groups if group.kind.name == "projects" for hit in group.hits
    ]


@pytest.fixture
def organization(db):
    organization = OrganizationFactory()
    for name in ("Customer onboarding", "Billing system", "Office move"):
        ProjectFactory(organization=organization, name=name)
    return organization


@postgres_only
def test_the_searchs_statements_are_prepared_and_logged_with_their_values(organization):
    connection.ensure_connection()
    with CaptureQueriesContext(connection) as captured:
        assert found_projects(organization, "onbaording") == ["Customer onboarding"]
        assert found_projects(organization, "biling sytem") == ["Billing system"]
    statements = prepared_statements()
    assert any("okrs_search_word" in s for s in statements), statements
    assert any('FROM "okrs_project"' in s for s in statements), statements
    assert all("$1" in s for s in statements)  # bound on the server, not quoted in
    # Only the search's: the connection's other queries are neither prepared nor counted.
    assert connection.connection.prepare_threshold is None
    assert all("okrs_search_words" in s or "okrs_search_word " in s for s in statements)
    # Logged as Django logs its own: the statement with its values in it.
    vocabulary = "(SELECT 0 AS i, word FROM okrs_search_word "
    logged = [q["sql"] for q in captured.captured_queries if q["sql"].startswith(vocabulary)]
    assert logged and all("'onbaording'" in sql or "'biling'" in sql for sql in logged), logged
    assert all(f"= ({organization.pk})" in sql for sql in logged), logged


@postgres_only
def test_nothing_is_prepared_where_the_settings_turn_it_off(organization, settings):
    settings.DB_PREPARED_STATEMENTS = False  # what DB_TRANSACTION_POOLER=1 sets
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    connection.connection._prepared.clear()
    assert found_projects(organization, "onbaording") == ["Customer onboarding"]
    with prepared_cursor() as cursor:
        cursor.execute("SELECT %s::int + 1", [41])
        assert cursor.fetchone() == (42,)
    assert prepared_statements() == []


def test_the_cursor_runs_plain_sql_with_parameters_anywhere(db):
    """SQLite (and Postgres alike): the same statement, the same answer."""
    with prepared_cursor() as cursor:
        cursor.execute("SELECT %s || %s", ["a", "b"])
        assert cursor.fetchone() == ("ab",)


def prepared_statements_setting(**env: str) -> bool:
    """DB_PREPARED_STATEMENTS as the settings make it from `env` (a fresh process: settings are
    read once)."""
    code = "import missionos.settings as s; print(s.DB_PREPARED_STATEMENTS)"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DB_")}
    environment.update(env, DJANGO_SETTINGS_MODULE="missionos.settings")
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip().splitlines()[-1] == "True"


def test_prepared_statements_are_on_for_postgres_and_off_behind_a_transaction_pooler():
    url = "postgres://someone@db.example:5432/missionos"
    assert prepared_statements_setting(DATABASE_URL=url) is True
    assert prepared_statements_setting(DATABASE_URL=url, DB_TRANSACTION_POOLER="1") is False
