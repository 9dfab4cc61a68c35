"""Moves each connection's nightly full sync from minute 0 to its own minute of the hour (its id
mod 60, sync.services.full_sync_minute), as new schedules are made: a fleet saved before that
would otherwise go on starting every base's full sync at the same moment."""

from django.db import migrations


def spread(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    tasks = PeriodicTask.objects.filter(
        name__startswith="sync:", name__endswith=":full", crontab__isnull=False
    ).select_related("crontab")
    for task in tasks:
        connection_id = task.name.split(":")[1]
        if not connection_id.isdigit() or task.crontab.minute != "0":
            continue  # not one of ours, or already at its own minute
        fields = {
            "minute": str(int(connection_id) % 60),
            "hour": task.crontab.hour,
            "day_of_week": "*",
            "day_of_month": "*",
            "month_of_year": "*",
            "timezone": task.crontab.timezone,
        }
        crontab = CrontabSchedule.objects.filter(**fields).order_by("pk").first()
        task.crontab = crontab or CrontabSchedule.objects.create(**fields)
        task.save(update_fields=["crontab"])


class Migration(migrations.Migration):
    dependencies = [
        ("sync", "0005_issue_rows"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(spread, migrations.RunPython.noop)]
