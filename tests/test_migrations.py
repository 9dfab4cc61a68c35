"""The models and their migrations agree: a model change without its migration fails here
(Activity.target_id was nullable in the model and NOT NULL in the database for a while)."""

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_no_model_change_lacks_a_migration(capsys):
    try:
        call_command("makemigrations", "--check", "--dry-run")
    except SystemExit:  # --check exits 1 when a migration is missing
        pytest.fail(f"models changed without a migration:\n{capsys.readouterr().out}")
    assert "No changes detected" in capsys.readouterr().out


@pytest.mark.django_db(transaction=True)
def test_synced_check_in_lines_written_before_name_airtable():
    """orgs 0012: a line the sync wrote before ("Someone checked in on … · from Airtable")
    names Airtable afterwards, its detail without the suffix; a member's line is left alone."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    before, after = [("orgs", "0011_person_email_unique")], [("orgs", "0012_activity_actor_label")]
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    org = old.get_model("orgs", "Organization").objects.create(name="Acme", slug="acme")
    Activity = old.get_model("orgs", "Activity")
    common = {"organization": org, "verb": "checked in on", "subject": "Clinics", "target": "kr"}
    synced = Activity.objects.create(detail="4 clinics · from Airtable", **common)
    typed = Activity.objects.create(detail="5 clinics", **common)
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    new = executor.loader.project_state(after).apps.get_model("orgs", "Activity")
    assert new.objects.filter(pk=synced.pk).values_list("actor_label", "detail").get() == (
        "Airtable",
        "4 clinics",
    )
    assert new.objects.filter(pk=typed.pk).values_list("actor_label", "detail").get() == (
        "",
        "5 clinics",
    )
    executor.loader.build_graph()
    MigrationExecutor(connection).migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_nightly_full_syncs_saved_at_minute_zero_move_to_their_own_minute():
    """sync 0006: a connection's full sync saved at hh:00 moves to its own minute (id mod 60),
    at the same hour; one already moved, and other periodic tasks, are left alone."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    beat = ("django_celery_beat", "0019_alter_periodictasks_options")
    before, after = [("sync", "0005_issue_rows"), beat], [("sync", "0006_full_sync_minutes")]
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    Crontab = old.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = old.get_model("django_celery_beat", "PeriodicTask")
    at_three = Crontab.objects.create(minute="0", hour="3", timezone="UTC")
    moved = Crontab.objects.create(minute="5", hour="2", timezone="UTC")
    for name, crontab in (
        ("sync:61:full", at_three),
        ("sync:62:full", at_three),
        ("sync:65:full", moved),
        ("cleanup", at_three),
    ):
        PeriodicTask.objects.create(name=name, task="t", crontab=crontab)
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    new = executor.loader.project_state(after).apps.get_model("django_celery_beat", "PeriodicTask")
    starts = {
        task.name: (task.crontab.hour, task.crontab.minute)
        for task in new.objects.select_related("crontab")
    }
    assert starts == {
        "sync:61:full": ("3", "1"),
        "sync:62:full": ("3", "2"),
        "sync:65:full": ("2", "5"),
        "cleanup": ("3", "0"),
    }
    executor.loader.build_graph()
    MigrationExecutor(connection).migrate(executor.loader.graph.leaf_nodes())
