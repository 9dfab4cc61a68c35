"""SyncIssue: one row per problem while it lasts (sync.reconcile.issues), not one per run.

Existing rows get their connection and key from their run and reason; of the copies every run
made of one problem, the latest run's is kept.
"""

import hashlib

import django.db.models.deletion
from django.db import migrations, models


def one_row_per_problem(apps, schema_editor):
    SyncIssue = apps.get_model("sync", "SyncIssue")
    kept: set[tuple] = set()
    doomed: list[int] = []
    rows = SyncIssue.objects.select_related("run").order_by("-run_id", "-pk")
    for issue in rows.iterator(chunk_size=2000):
        issue.connection_id = issue.run.connection_id
        issue.problem_key = hashlib.sha1(
            issue.reason.encode(), usedforsecurity=False
        ).hexdigest()[:16]
        key = (
            issue.connection_id,
            issue.table_id,
            issue.record_id,
            issue.kind,
            issue.field_id,
            issue.problem_key,
        )
        if key in kept:
            doomed.append(issue.pk)
            continue
        kept.add(key)
        SyncIssue.objects.filter(pk=issue.pk).update(
            connection_id=issue.connection_id,
            problem_key=issue.problem_key,
            last_seen_run_id=issue.run_id,
        )
    for start in range(0, len(doomed), 1000):
        SyncIssue.objects.filter(pk__in=doomed[start : start + 1000]).delete()


class Migration(migrations.Migration):
    dependencies = [("sync", "0004_run_field_fill")]

    operations = [
        migrations.AddField(
            model_name="syncissue",
            name="connection",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="issues",
                to="sync.connection",
            ),
        ),
        migrations.AddField(
            model_name="syncissue",
            name="last_seen_run",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="sync.syncrun",
            ),
        ),
        migrations.AddField(
            model_name="syncissue",
            name="problem_key",
            field=models.CharField(default="", max_length=16),
            preserve_default=False,
        ),
        migrations.RunPython(one_row_per_problem, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="syncissue",
            name="connection",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="issues",
                to="sync.connection",
            ),
        ),
        migrations.AddConstraint(
            model_name="syncissue",
            constraint=models.UniqueConstraint(
                fields=("connection", "table_id", "record_id", "kind", "field_id", "problem_key"),
                name="one_sync_issue_per_problem",
            ),
        ),
    ]
