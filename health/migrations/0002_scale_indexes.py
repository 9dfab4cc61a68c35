"""Indexes for what the pages filter and sort on at 100x the demo's data (issue 15)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("health", "0001_initial"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="finding",
            index=models.Index(
                models.F("organization"),
                models.F("kind"),
                models.OrderBy(models.F("score"), descending=True),
                models.F("id"),
                condition=models.Q(("resolved_at__isnull", True)),
                name="finding_open_by_kind",
            ),
        ),
    ]
