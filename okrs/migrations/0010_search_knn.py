"""The search's word index (okrs.selectors.search), on Postgres only (issue 15).

Why: trigram similarity over whole names (0008's `word <% name`) has to compute a similarity for
every row sharing trigrams with a query word, thousands of rows when plans repeat a few phrases
(1.7 s at 20,000 projects). A GiST KNN over the names (`name <->> 'word'`) reads the whole
index for a typo'd word (measured: 2,300 buffers for 60 rows at 20,000 projects). What scales
is what pg_trgm's documentation suggests for typos: correct the words against the vocabulary,
then find the rows holding the corrected words.

- `okrs_search_words(text)`: a text's words as the search reads them (lower case, split on
  anything but letters and digits), with a GIN index on it for every searched column: "the rows
  holding these words" is a posting-list lookup, no per-row similarity.
- `okrs_search_word`: every organization's vocabulary (each distinct word of its searched
  columns), kept by statement-level triggers (one INSERT a statement, whatever its rows: bulk
  and COPY loads stay cheap). Words are never removed: a stale word only finds no row. A GiST
  trigram index on its accent-folded form (`okrs_search_fold`) answers "the words nearest this
  typo" by KNN over a few thousand words instead of every row; a pattern index answers prefixes.
- 0008's GIN trigram indexes on the names go: nothing reads them any more.

No threshold setting is needed (KNN orders by distance; the ranking in okrs.search decides).
"""

from django.db import migrations

# (table, column): every column the search reads words from.
SEARCHED = [
    ("okrs_objective", "title"),
    ("okrs_keyresult", "title"),
    ("okrs_project", "name"),
    ("okrs_task", "title"),
    ("orgs_person", "name"),
    ("okrs_checkin", "note"),
    ("okrs_pathway", "name"),
]

OLD_TRIGRAM_INDEXES = [  # 0008_search's
    ("okrs_objective_title_trgm", "okrs_objective", "title"),
    ("okrs_keyresult_title_trgm", "okrs_keyresult", "title"),
    ("okrs_project_name_trgm", "okrs_project", "name"),
    ("okrs_task_title_trgm", "okrs_task", "title"),
    ("orgs_person_name_trgm", "orgs_person", "name"),
    ("okrs_checkin_note_trgm", "okrs_checkin", "note"),
]

# Common Latin accents, for the vocabulary's KNN ("angstrom" finds "ångström"); the ranking
# folds fully in Python (missionos.text.fold).
ACCENTED = "àáâãäåāăąçćčďèéêëēėęěìíîïīįñńňòóôõöōőŕřśšşťùúûüūůűųýÿźżžøł"
UNACCENTED = "aaaaaaaaacccdeeeeeeeeiiiiiinnnooooooorrssstuuuuuuuuyyzzzol"
assert len(ACCENTED) == len(UNACCENTED)

FORWARD = [
    # plpgsql, not sql: a sql function would be inlined and costed as cheap as a comparison, and
    # then a LIMIT over a rare word looks cheaper as a sequential scan splitting every name
    # (measured: 100 ms at 20,000 projects) than as the GIN index's lookup (0.2 ms).
    """
    CREATE FUNCTION okrs_search_words(text) RETURNS text[]
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 1000
    AS $$ BEGIN
        RETURN array_remove(regexp_split_to_array(lower($1), '[^[:alnum:]]+'), '');
    END $$
    """,
    f"""
    CREATE FUNCTION okrs_search_fold(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT translate($1, '{ACCENTED}', '{UNACCENTED}') $$
    """,
    # Derived data, like an index: no foreign key (a flush or an organization's deletion
    # leaves words that find nothing).
    """
    CREATE TABLE okrs_search_word (
        organization_id bigint NOT NULL,
        word text NOT NULL,
        PRIMARY KEY (organization_id, word)
    )
    """,
    """
    CREATE INDEX okrs_search_word_nearest ON okrs_search_word
    USING gist (okrs_search_fold(word) gist_trgm_ops) WHERE word !~ '^[0-9]+$'
    """,
    """
    CREATE INDEX okrs_search_word_prefix ON okrs_search_word
    (organization_id, okrs_search_fold(word) text_pattern_ops)
    """,
    # TG_ARGV[0]: the column. Sorted inserts: concurrent writers take the words' locks in one
    # order.
    """
    CREATE FUNCTION okrs_search_learn_words() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            EXECUTE format(
                'INSERT INTO okrs_search_word (organization_id, word) '
                'SELECT DISTINCT added.organization_id, w FROM added, '
                'unnest(okrs_search_words(added.%1$I)) w ORDER BY 1, 2 ON CONFLICT DO NOTHING',
                TG_ARGV[0]);
        ELSE
            EXECUTE format(
                'INSERT INTO okrs_search_word (organization_id, word) '
                'SELECT DISTINCT added.organization_id, w FROM added '
                'JOIN removed ON removed.id = added.id '
                'AND removed.%1$I IS DISTINCT FROM added.%1$I, '
                'unnest(okrs_search_words(added.%1$I)) w ORDER BY 1, 2 ON CONFLICT DO NOTHING',
                TG_ARGV[0]);
        END IF;
        RETURN NULL;
    END
    $$
    """,
]


def _forward_table(table: str, column: str) -> list[str]:
    return [
        f"""
        CREATE TRIGGER {table}_search_words_inserted AFTER INSERT ON {table}
        REFERENCING NEW TABLE AS added FOR EACH STATEMENT
        EXECUTE FUNCTION okrs_search_learn_words('{column}')
        """,
        f"""
        CREATE TRIGGER {table}_search_words_updated AFTER UPDATE ON {table}
        REFERENCING OLD TABLE AS removed NEW TABLE AS added FOR EACH STATEMENT
        EXECUTE FUNCTION okrs_search_learn_words('{column}')
        """,
        f"""
        INSERT INTO okrs_search_word (organization_id, word)
        SELECT DISTINCT organization_id, w FROM {table}, unnest(okrs_search_words({column})) w
        ON CONFLICT DO NOTHING
        """,
        f"CREATE INDEX {table}_{column}_words ON {table} USING gin (okrs_search_words({column}))",
    ]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for statement in FORWARD:
            cursor.execute(statement)
        for table, column in SEARCHED:
            for statement in _forward_table(table, column):
                cursor.execute(statement)
        for index, _table, _column in OLD_TRIGRAM_INDEXES:
            cursor.execute(f'DROP INDEX IF EXISTS "{index}"')
        cursor.execute("ANALYZE okrs_search_word")


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for index, table, column in OLD_TRIGRAM_INDEXES:
            cursor.execute(
                f'CREATE INDEX IF NOT EXISTS "{index}" ON "{table}" '
                f'USING gin ("{column}" gin_trgm_ops)'
            )
        for table, column in SEARCHED:
            cursor.execute(f"DROP TRIGGER IF EXISTS {table}_search_words_inserted ON {table}")
            cursor.execute(f"DROP TRIGGER IF EXISTS {table}_search_words_updated ON {table}")
            cursor.execute(f"DROP INDEX IF EXISTS {table}_{column}_words")
        cursor.execute("DROP FUNCTION IF EXISTS okrs_search_learn_words()")
        cursor.execute("DROP TABLE IF EXISTS okrs_search_word")
        cursor.execute("DROP FUNCTION IF EXISTS okrs_search_fold(text)")
        cursor.execute("DROP FUNCTION IF EXISTS okrs_search_words(text)")


class Migration(migrations.Migration):
    dependencies = [
        ("okrs", "0009_scale_indexes"),
    ]

    operations = [migrations.RunPython(forward, backward)]
