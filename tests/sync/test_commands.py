"""The sync's management commands, end to end against the fake Airtable: airtable_connect,
airtable_mapping and airtable_sync."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from sync import services
from sync.crypto import decrypt_token
from sync.models import Connection, RunKind, RunStatus, SyncRun
from tests.sync.airtable_base import BASE_ID, T_PROJECTS, T_TASKS, TOKEN

pytestmark = pytest.mark.django_db

TOKEN_ENV = "MISSIONOS_TEST_AIRTABLE_TOKEN"
OTHER_BASE = "appSECONDBASE0001"


@pytest.fixture(autouse=True)
def fast_requests(settings):
    # The commands use run_execute's defaults: pace requests far faster than Airtable's 5/s.
    settings.AIRTABLE_REQUESTS_PER_SECOND = 1_000_000.0


@pytest.fixture
def token_env(monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, TOKEN)


class TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def run(name: str, *args: str, stderr: io.StringIO | None = None, **options) -> tuple[str, str]:
    out, err = io.StringIO(), stderr or io.StringIO()
    call_command(name, *args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def connect(*extra: str) -> tuple[str, str]:
    return run(
        "airtable_connect", "--org", "acme", "--base", BASE_ID, "--token-env", TOKEN_ENV, *extra
    )


# -- airtable_connect ------------------------------------------------------------------------


def test_connect_prints_the_proposed_mapping_and_never_the_token(fake, org, token_env):
    out, err = connect("--name", "Northwind plans")
    assert f"Connected Northwind plans ({BASE_ID}) to Acme Health, token …{TOKEN[-4:]}." in out
    assert "person ← table Team (tblPEOPLE0000001): name ← Name (fldPNAME00000001)" in out
    assert "task ← table Action Items (tblTASKS00000001)" in out
    assert TOKEN not in out + err and TOKEN[:-4] not in out + err
    connection = Connection.objects.for_org(org).get(base_id=BASE_ID)
    minute = connection.pk % 60
    assert f"Scheduled: incremental every 60 minutes, full daily at 02:{minute:02d} UTC." in out
    assert connection.name == "Northwind plans" and connection.mapping["entities"]["task"]


def test_connect_names_the_connection_after_the_base_by_default(fake, org, token_env):
    connect()
    assert Connection.objects.for_org(org).get().name == BASE_ID


@pytest.mark.parametrize("value", [None, "", "   "])
def test_connect_refuses_a_missing_or_empty_token_variable(fake, org, monkeypatch, value):
    if value is None:
        monkeypatch.delenv(TOKEN_ENV, raising=False)
    else:
        monkeypatch.setenv(TOKEN_ENV, value)
    with pytest.raises(CommandError, match=f"{TOKEN_ENV} is (not set|empty)"):
        connect()
    assert not Connection.objects.unscoped().exists()


def test_connect_refuses_a_token_given_in_place_of_the_variable_without_echoing_it(fake, org):
    with pytest.raises(CommandError, match="NAME of an environment variable") as error:
        run("airtable_connect", "--org", "acme", "--base", BASE_ID, "--token-env", TOKEN)
    assert TOKEN not in str(error.value)


def test_connect_to_an_unknown_organization_fails(fake, token_env):
    with pytest.raises(CommandError, match="No organization with the slug 'nowhere'"):
        run("airtable_connect", "--org", "nowhere", "--base", BASE_ID, "--token-env", TOKEN_ENV)


def test_connect_reports_what_airtable_and_validation_refuse(fake, org, token_env):
    with pytest.raises(CommandError, match="base_id: An Airtable base id looks like"):
        run("airtable_connect", "--org", "acme", "--base", "nope", "--token-env", TOKEN_ENV)
    with pytest.raises(CommandError, match="could not find") as error:
        run("airtable_connect", "--org", "acme", "--base", OTHER_BASE, "--token-env", TOKEN_ENV)
    assert TOKEN not in str(error.value)
    assert not Connection.objects.unscoped().exists()


def test_connecting_a_base_again_replaces_the_token_and_rereads_the_schema(
    fake, connection, monkeypatch
):
    new_token = "patRotated.9876543210fedcbaNEW1"
    fake.bases[BASE_ID].tokens.add(new_token)
    fake.revoke(TOKEN, BASE_ID)
    fake.bases[BASE_ID].table(T_TASKS).remove_field("fldTDUE000000001")
    monkeypatch.setenv(TOKEN_ENV, new_token)
    out, err = connect()
    assert "already has Northwind plans" in out and "token replaced (…NEW1)" in out
    assert "task.due_on is mapped to field 'Due' (fldTDUE000000001), which is no longer" in out
    assert new_token not in out + err
    connection.refresh_from_db()
    assert connection.token_last4 == "NEW1" and Connection.objects.unscoped().count() == 1
    assert "fldTDUE000000001" not in json.dumps(connection.schema)


# -- airtable_mapping ------------------------------------------------------------------------


def test_export_import_round_trip_is_byte_stable(connection, tmp_path):
    path = tmp_path / "mapping.json"
    out, _ = run("airtable_mapping", "--org", "acme", "--export", str(path))
    assert f"Wrote the mapping of Northwind plans ({BASE_ID}), 6 tables mapped, to {path}." in out
    text = path.read_text()
    assert json.loads(text) == connection.mapping
    assert text == json.dumps(connection.mapping, indent=2, sort_keys=True) + "\n"
    stdout, _ = run("airtable_mapping", "--org", "acme", "--export", "-")
    assert stdout == text

    out, _ = run("airtable_mapping", "--org", "acme", "--base", BASE_ID, "--import", str(path))
    assert "Imported the mapping" in out and "person ← table Team" in out
    again, _ = run("airtable_mapping", "--org", "acme", "--export", "-")
    assert again == text


def test_import_from_stdin_saves_an_edited_mapping(connection):
    data = json.loads(run("airtable_mapping", "--org", "acme", "--export", "-")[0])
    del data["entities"]["task"]["fields"]["due_on"]
    run("airtable_mapping", "--org", "acme", "--import", "-", stdin=io.StringIO(json.dumps(data)))
    connection.refresh_from_db()
    assert "due_on" not in connection.mapping["entities"]["task"]["fields"]


def test_import_of_a_broken_mapping_lists_every_problem_and_saves_nothing(connection, tmp_path):
    before = connection.mapping
    data = json.loads(json.dumps(before))
    del data["entities"]["task"]["fields"]["title"]  # required
    data["entities"]["project"]["fields"]["status"] = "fldGONEGONEGONE1"  # not in the table
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(data))
    with pytest.raises(CommandError) as error:
        run("airtable_mapping", "--org", "acme", "--import", str(path))
    lines = str(error.value).splitlines()
    assert "was not imported (2 problems)" in lines[0]
    assert any(
        line.startswith("  - project.status is mapped to field 'Status' (fldGONEGONEGONE1)")
        and T_PROJECTS in line
        for line in lines[1:]
    )
    assert any(line.startswith("  - task.title is required but not mapped") for line in lines)
    connection.refresh_from_db()
    assert connection.mapping == before


def test_import_of_a_malformed_file_lists_each_error_on_its_own_line(connection, tmp_path):
    path = tmp_path / "malformed.json"
    path.write_text(json.dumps({"version": 2, "entities": {"widget": {}}}))
    with pytest.raises(CommandError) as error:
        run("airtable_mapping", "--org", "acme", "--import", str(path))
    lines = str(error.value).splitlines()[1:]
    assert lines == [
        '  - "version" is 2; only 1 is understood',
        "  - unknown entity 'widget' (known: person, cycle, pathway, objective, key_result, "
        "check_in, project, task)",
    ]
    path.write_text("{not json")
    with pytest.raises(CommandError, match=r"is not valid JSON: .* line 1, column 2"):
        run("airtable_mapping", "--org", "acme", "--import", str(path))
    with pytest.raises(CommandError, match="Cannot read"):
        run("airtable_mapping", "--org", "acme", "--import", str(tmp_path / "absent.json"))


def test_mapping_needs_the_base_only_when_the_org_has_several(connection, fake, org):
    other = fake.add_base(OTHER_BASE, "Second", tokens={TOKEN})
    other.add_table(
        "tblSTAFF00000001",
        "People",
        [{"id": "fldSNAME00000001", "name": "Name", "type": "singleLineText"}],
    )
    services.connection_create(organization=org, name="Second", base_id=OTHER_BASE, token=TOKEN)
    with pytest.raises(CommandError, match=f"2 connections; choose one with --base: {BASE_ID}"):
        run("airtable_mapping", "--org", "acme", "--export", "-")
    out, _ = run("airtable_mapping", "--org", "acme", "--base", OTHER_BASE, "--export", "-")
    assert json.loads(out)["entities"]["person"]["table_id"] == "tblSTAFF00000001"
    with pytest.raises(CommandError, match="no connection to base 'appNOPE'"):
        run("airtable_mapping", "--org", "acme", "--base", "appNOPE", "--export", "-")


def test_mapping_of_an_org_without_connections_says_how_to_connect(org):
    with pytest.raises(CommandError, match=r"no Airtable connection yet.*airtable_connect"):
        run("airtable_mapping", "--org", "acme", "--export", "-")


# -- airtable_sync ---------------------------------------------------------------------------


def test_sync_prints_the_counts_and_a_line_per_table(connection):
    out, err = run("airtable_sync", "--org", "acme")
    run_row = SyncRun.objects.unscoped().get()
    assert run_row.status == RunStatus.SUCCEEDED and run_row.kind == RunKind.FULL
    assert f"Full sync of Northwind plans ({BASE_ID}) succeeded. (No earlier successful" in out
    assert "incremental run" in err
    assert "  pulled     47\n" in out and "  created    47\n" in out
    assert "  unchanged  0\n" in out and "  issues     0\n" in out
    assert f"  requests   {run_row.requests}\n" in out and "  duration   " in out
    assert "Issues" not in out
    table_lines = [line for line in err.splitlines() if " done · " in line]
    assert len(table_lines) == 6 and "\r" not in err
    assert table_lines[0].startswith("[####") and "1/6 tables · Team done · 3 records" in err
    assert table_lines[-1].startswith("[" + "#" * 24 + "]") and "6/6 tables" in table_lines[-1]

    out, _ = run("airtable_sync", "--org", "acme", "--base", BASE_ID)
    assert "Incremental sync of Northwind plans" in out and "  pulled     0\n" in out


def test_sync_on_a_terminal_redraws_one_line(connection):
    _, err = run("airtable_sync", "--org", "acme", "--full", stderr=TTY())
    progress = err.split("\n", 1)[1]  # after the "Syncing …" line
    assert progress.count("\r") >= 7 and progress.endswith("\n") and progress.count("\n") == 1
    final = progress.rsplit("\r", 1)[1]
    assert final.startswith("[" + "#" * 24 + "] 6/6 tables · 47 records")


def test_sync_lists_the_first_issues_and_counts_the_rest(connection, fake, monkeypatch):
    from sync.management.commands import airtable_sync

    monkeypatch.setattr(airtable_sync, "ISSUES_SHOWN", 2)
    tasks = fake.bases[BASE_ID].table(T_TASKS)
    tasks.update(fake.ids["tasks"][0], {"fldTDUE000000001": "next week"})
    tasks.update(fake.ids["tasks"][1], {"fldTSTATUS000001": "Frobnicated"})
    tasks.update(fake.ids["tasks"][2], {"fldTDUE000000001": "someday"})
    out, _ = run("airtable_sync", "--org", "acme", "--full")
    assert "  issues     3\n" in out and "Issues (3):" in out
    assert f"  Action Items {fake.ids['tasks'][0]} Due: " in out
    assert "  … and 1 more: see the run's page." in out


def test_a_failed_run_exits_with_its_message(connection, fake):
    fake.revoke(TOKEN, BASE_ID)
    with pytest.raises(CommandError) as error:
        run("airtable_sync", "--org", "acme")
    failed = SyncRun.objects.unscoped().get()
    assert failed.status == RunStatus.FAILED and failed.error
    assert str(error.value) == failed.error
    assert "no access" in failed.error or "refused the token" in failed.error


def test_a_second_sync_while_one_is_queued_is_refused(connection):
    services.run_request(connection=connection, kind=RunKind.FULL)
    with pytest.raises(CommandError, match="already queued"):
        run("airtable_sync", "--org", "acme")
    assert SyncRun.objects.unscoped().count() == 1


def test_sync_of_an_unknown_org_fails(db):
    with pytest.raises(CommandError, match="No organization"):
        run("airtable_sync", "--org", "nowhere")


def test_reconnecting_with_a_refused_token_keeps_the_working_one(fake, connection, monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, "patMISTYPED.00000000")
    with pytest.raises(CommandError, match="refused the token"):
        connect()
    connection.refresh_from_db()
    assert decrypt_token(connection.token_encrypted) == TOKEN
