"""The search's trigram indexes (okrs.selectors.search), on Postgres only.

pg_trgm is created here when the role may (the owner of the database may; Supabase has it
already, in its `extensions` schema). When it may not, the migration stops and says what to run.
SQLite (the local mode) needs nothing: it ranks a bounded set in Python.
"""

from django.db import migrations

# (index, table, column): every column the search reads a name from.
SEARCHED = [
    ("okrs_objective_title_trgm", "okrs_objective", "title"),
    ("okrs_keyresult_title_trgm", "okrs_keyresult", "title"),
    ("okrs_project_name_trgm", "okrs_project", "name"),
    ("okrs_task_title_trgm", "okrs_task", "title"),
    ("orgs_person_name_trgm", "orgs_person", "name"),
    ("okrs_checkin_note_trgm", "okrs_checkin", "note"),
]

NEEDS_EXTENSION = (
    "The search needs the Postgres extension pg_trgm, and this database role may not create it. "
    "Ask the database's owner (or a superuser) to run:  CREATE EXTENSION IF NOT EXISTS pg_trgm;  "
    "then run the migrations again. (Supabase has it: enable it under Database > Extensions.)"
)


def _has_trigrams(cursor) -> bool:
    cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
    return cursor.fetchone() is not None


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        if not _has_trigrams(cursor):
            cursor.execute("SAVEPOINT pg_trgm_create")
            try:
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            except Exception as error:
                cursor.execute("ROLLBACK TO SAVEPOINT pg_trgm_create")
                raise RuntimeError(f"{NEEDS_EXTENSION} (Postgres said: {error})") from error
            cursor.execute("RELEASE SAVEPOINT pg_trgm_create")
        # The operator class by its schema-less name: found on the search path wherever the
        # extension lives (public here, `extensions` on Supabase).
        for index, table, column in SEARCHED:
            cursor.execute(
                f'CREATE INDEX IF NOT EXISTS "{index}" ON "{table}" USING gin ("{column}" gin_trgm_ops)'
            )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for index, _table, _column in SEARCHED:
            cursor.execute(f'DROP INDEX IF EXISTS "{index}"')


class Migration(migrations.Migration):
    dependencies = [
        ("okrs", "0007_track"),
        ("orgs", "0012_activity_actor_label"),
    ]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
