"""Indexes for what the pages filter and sort on at 100x the demo's data (issue 15)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("okrs", "0008_search"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="checkin",
            index=models.Index(
                models.F("key_result"),
                models.OrderBy(models.F("checked_in_at"), descending=True),
                condition=models.Q(("archived_at__isnull", True)),
                name="checkin_live_by_kr",
            ),
        ),
        migrations.AddIndex(
            model_name="checkin",
            index=models.Index(
                models.F("organization"),
                models.OrderBy(models.F("checked_in_at"), descending=True),
                models.OrderBy(models.F("id"), descending=True),
                condition=models.Q(("archived_at__isnull", True)),
                name="checkin_live_newest",
            ),
        ),
        migrations.AddIndex(
            model_name="project",
            index=models.Index(
                condition=models.Q(("archived_at__isnull", True)),
                fields=["organization", "name", "id"],
                name="project_live_by_name",
            ),
        ),
        migrations.AddIndex(
            model_name="task",
            index=models.Index(
                condition=models.Q(
                    ("archived_at__isnull", True), models.Q(("status", "done"), _negated=True)
                ),
                fields=["organization", "due_on", "id"],
                name="task_open_by_due",
            ),
        ),
    ]
