"""The sync pages through Django's test client, against the fake Airtable."""

from __future__ import annotations

import pytest
from django.urls import reverse

from orgs.models import Role
from sync import services
from sync.airtable.client import RetryPolicy
from sync.airtable.ratelimit import NoRateLimiter
from sync.crypto import decrypt_token
from sync.models import Connection, RunKind, RunStatus, SyncRun
from tests.sync.airtable_base import BASE_ID, T_TASKS, TOKEN

pytestmark = pytest.mark.django_db


def url(name, org, **kwargs):
    return reverse(name, kwargs={"org_slug": org.slug, **kwargs})


def test_admin_connects_a_base_from_the_page(owner_client, org, fake):
    response = owner_client.post(
        url("sync_connections", org), {"name": "Plans", "base_id": BASE_ID, "token": TOKEN}
    )
    connection = Connection.objects.for_org(org).get()
    assert response.url == url("sync_mapping", org, connection_id=connection.pk)
    for page in (
        url("sync_connections", org),
        url("sync_connection", org, connection_id=connection.pk),
        url("sync_mapping", org, connection_id=connection.pk),
    ):
        html = owner_client.get(page).content.decode()
        assert TOKEN not in html, page
    detail = owner_client.get(url("sync_connection", org, connection_id=connection.pk))
    assert f"token …{TOKEN[-4:]}" in detail.content.decode()


def test_a_wrong_token_is_explained_and_nothing_is_saved(owner_client, org, fake):
    response = owner_client.post(
        url("sync_connections", org), {"name": "Plans", "base_id": BASE_ID, "token": "patWRONG.x1"}
    )
    assert response.status_code == 400
    assert "refused the token" in response.content.decode()
    assert not Connection.objects.for_org(org).exists()


def test_a_malformed_base_id_is_refused_beside_the_field(owner_client, org, fake):
    response = owner_client.post(
        url("sync_connections", org), {"name": "Plans", "base_id": "my base", "token": TOKEN}
    )
    assert response.status_code == 400
    assert "An Airtable base id looks like app" in response.content.decode()


def test_sync_now_queues_one_run_and_refuses_a_second(owner_client, org, connection):
    first = owner_client.post(url("sync_now", org, connection_id=connection.pk), follow=True)
    assert "Incremental sync queued." in first.content.decode()
    run = SyncRun.objects.unscoped().get(connection=connection)
    assert run.status == RunStatus.QUEUED
    page = first.content.decode()
    assert f'hx-get="{url("sync_run_progress", org, run_id=run.pk)}"' in page  # live progress
    second = owner_client.post(
        url("sync_now", org, connection_id=connection.pk), {"kind": "full"}, follow=True
    )
    assert "already queued" in second.content.decode()
    assert SyncRun.objects.unscoped().filter(connection=connection).count() == 1


def test_progress_polls_while_running_and_stops_when_done(owner_client, org, connection):
    run = services.run_request(connection=connection, kind=RunKind.FULL)
    progress = url("sync_run_progress", org, run_id=run.pk)
    polling = owner_client.get(progress, HTTP_HX_REQUEST="true")
    assert polling.status_code == 200 and 'hx-trigger="every 1s"' in polling.content.decode()
    services.run_execute(run_id=run.pk, policy=RetryPolicy(backoff=0.01), limiter=NoRateLimiter())
    done = owner_client.get(progress, HTTP_HX_REQUEST="true")
    assert done.status_code == 286  # htmx: stop polling
    assert done["HX-Refresh"] == "true"
    assert "47 records pulled" in done.content.decode()


def test_progress_opened_as_a_page_is_the_runs_page(owner_client, org, connection):
    """Its URL opened directly (not by htmx) once showed a bare, unstyled fragment."""
    run = services.run_request(connection=connection, kind=RunKind.FULL)
    response = owner_client.get(url("sync_run_progress", org, run_id=run.pk))
    assert response.status_code == 302
    assert response["Location"] == url("sync_run", org, run_id=run.pk)


def test_schedule_form(owner_client, org, connection):
    response = owner_client.post(
        url("sync_schedule", org, connection_id=connection.pk),
        {"incremental_every_minutes": "15", "full_at_hour": ""},
    )
    assert response.status_code == 302
    assert services.connection_schedule_state(connection=connection) == {
        "incremental_every_minutes": 15,
        "full_at_hour": None,
    }
    bad = owner_client.post(
        url("sync_schedule", org, connection_id=connection.pk), {"incremental_every_minutes": "7"}
    )
    assert bad.status_code == 400 and "Select a valid choice" in bad.content.decode()


def test_mapping_page_saves_a_changed_field(owner_client, org, connection):
    page = owner_client.get(url("sync_mapping", org, connection_id=connection.pk))
    form = page.context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    data["field__task__due_on"] = ""  # stop syncing the due date
    response = owner_client.post(url("sync_mapping", org, connection_id=connection.pk), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    connection.refresh_from_db()
    assert "due_on" not in connection.mapping["entities"]["task"]["fields"]
    assert connection.mapping["entities"]["task"]["value_maps"]["status"]["doing"] == "in_progress"


def test_mapping_page_refuses_a_mapping_missing_a_required_field(owner_client, org, connection):
    form = owner_client.get(url("sync_mapping", org, connection_id=connection.pk)).context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    data["field__task__title"] = ""
    response = owner_client.post(url("sync_mapping", org, connection_id=connection.pk), data)
    assert response.status_code == 400
    connection.refresh_from_db()
    assert "title" in connection.mapping["entities"]["task"]["fields"]


def test_run_page_lists_the_issues(owner_client, org, connection, fake):
    fake.bases[BASE_ID].table(T_TASKS).update(fake.ids["tasks"][0], {"fldTDUE000000001": "soon"})
    run = services.run_request(connection=connection, kind=RunKind.FULL)
    services.run_execute(run_id=run.pk, policy=RetryPolicy(backoff=0.01), limiter=NoRateLimiter())
    html = owner_client.get(url("sync_run", org, run_id=run.pk)).content.decode()
    assert fake.ids["tasks"][0] in html and "Due" in html
    # Each record id is a link to its row in Airtable, where the problem is fixed.
    record = fake.ids["tasks"][0]
    assert f'href="https://airtable.com/{BASE_ID}/{T_TASKS}/{record}"' in html


def test_members_cannot_open_the_sync_pages(client, org, connection, member_of):
    client.force_login(member_of(org, Role.MEMBER))
    assert client.get(url("sync_connections", org)).status_code == 403
    assert client.post(url("sync_now", org, connection_id=connection.pk)).status_code == 403


def test_status_values_are_edited_on_the_mapping_page(owner_client, org, connection):
    form = owner_client.get(url("sync_mapping", org, connection_id=connection.pk)).context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    doing = next(n for n in form.fields if "Doing" in str(form.fields[n].label))
    done = next(n for n in form.fields if "“Done”" in str(form.fields[n].label) and "task" in n)
    assert data[doing] == "in_progress"  # as proposed
    data[doing], data[done] = "blocked", ""
    response = owner_client.post(url("sync_mapping", org, connection_id=connection.pk), data)
    assert response.status_code == 302
    connection.refresh_from_db()
    statuses = connection.mapping["entities"]["task"]["value_maps"]["status"]
    assert statuses["doing"] == "blocked" and "done" not in statuses


def test_a_replacement_token_airtable_refuses_keeps_the_working_one(owner_client, org, connection):
    """Found in review: the new token was saved before anyone checked it, so a typo replaced a
    working token and the next sync failed."""
    page = url("sync_token", org, connection_id=connection.pk)
    response = owner_client.post(page, {"token": "patMISTYPED.00000000"})
    assert response.status_code == 400
    assert "Not replaced:" in response.content.decode()
    assert "refused the token" in response.content.decode()
    connection.refresh_from_db()
    assert decrypt_token(connection.token_encrypted) == TOKEN
    assert connection.token_last4 == TOKEN[-4:]


def test_a_running_sync_shows_in_its_live_card_not_as_a_stale_row(owner_client, org, connection):
    """Found by the browser tests: the runs table said "Queued / Incremental" while the live
    card above said "Full sync running" (the first incremental run becomes a full one)."""
    owner_client.post(url("sync_now", org, connection_id=connection.pk))
    run = SyncRun.objects.unscoped().get(connection=connection)
    run.status, run.kind = RunStatus.RUNNING, RunKind.FULL
    run.save()
    page = owner_client.get(url("sync_connection", org, connection_id=connection.pk))
    html = page.content.decode()
    assert "Full sync running" in html
    assert f'href="{url("sync_run", org, run_id=run.pk)}">' not in html.split('id="runs-h"')[1]


def test_the_mapping_page_reads_by_name_one_table_at_a_time(owner_client, org, connection):
    """An ops person reads tables and fields by name (ids on hover and in a details row, never
    a monospace dump), and each table's fields are a section of their own."""
    import re

    html = owner_client.get(url("sync_mapping", org, connection_id=connection.pk)).content.decode()
    assert "<pre" not in html
    summary = re.search(r'<section aria-labelledby="summary-h".*?</section>', html, re.S).group(0)
    visible = re.sub(r'<details class="ids">.*?</details>', "", summary, flags=re.S)
    visible = re.sub(r'title="[^"]*"', "", visible)
    assert "Initiatives" in visible and "Team" in visible  # tables by name
    assert not re.findall(r"\b(?:tbl|fld)[A-Za-z0-9]{6,}", visible), "ids shown as text"
    assert 'title="tblPROJECTS00001"' in summary
    assert "<code>tblPROJECTS00001</code>" in summary  # in the details row
    sections = re.findall(r'<details class="card mapping-entity" id="map-(\w+)"', html)
    assert {"person", "project", "task"} <= set(sections)
