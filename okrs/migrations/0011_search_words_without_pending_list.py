"""The search's word indexes (0010) take each row as it is written, without GIN's pending list.

Why: with `fastupdate` (Postgres' default) new rows wait in a pending list that every search
scans linearly until a VACUUM (or 4 MB of them) merges it: after a sync had written 20,000
projects, the project search's index scan took 13 ms of a 15 ms query, against 1–3 ms merged.
Searches right after a sync are the ones people make; a write costs a little more instead.
"""

from django.db import migrations

WORD_INDEXES = [
    "okrs_objective_title_words",
    "okrs_keyresult_title_words",
    "okrs_project_name_words",
    "okrs_task_title_words",
    "orgs_person_name_words",
    "okrs_checkin_note_words",
    "okrs_pathway_name_words",
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for index in WORD_INDEXES:
            cursor.execute(f"ALTER INDEX {index} SET (fastupdate = off)")
            cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [index])


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for index in WORD_INDEXES:
            cursor.execute(f"ALTER INDEX {index} RESET (fastupdate)")


class Migration(migrations.Migration):
    dependencies = [("okrs", "0010_search_knn")]

    operations = [migrations.RunPython(forward, backward)]
