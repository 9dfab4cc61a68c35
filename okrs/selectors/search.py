"""Search: the databases find the candidates, okrs.search ranks them (one contract on both).

- Postgres (migration 0010_search_knn): a query's words are first matched against the
  organization's vocabulary (`okrs_search_word`: the nearest words by trigram distance, KNN on
  a GiST index, and the words it begins; okrs.search.word_score keeps those that match), then
  each kind's rows holding those words are read from a GIN index on their words
  (`okrs_search_words(name)`), a few bounded tiers in one UNION ALL: the rows holding every
  query word (shortest names first), the rows holding each word, the rows linked to an owner,
  pathway, project or objective found by name. No row's similarity is computed in SQL and no
  threshold setting is needed, so the cost follows the tiers' LIMITs, not the table's size.
- SQLite (the local mode) and anything else: the organization's newest
  `BOUNDED_CANDIDATES` rows of a kind, every one ranked in Python (rapidfuzz).

Every query is scoped to the organization (`for_org` for the ORM's, `organization_id =` in the
plain SQL of the vocabulary and the tiers); archived rows and rows of archived parents are left
out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from django.db import connection
from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL

from missionos.prepared import prepared_cursor
from missionos.text import fold
from okrs import search
from okrs.models import (
    CheckIn,
    KeyResult,
    Objective,
    Pathway,
    Project,
    ProjectStatus,
    Task,
    TaskStatus,
)
from orgs.models import Organization, Person
from orgs.tenancy import live_q

NEAREST_WORDS = 24  # vocabulary words nearest a query word by trigrams: what a typo may mean
PREFIXED_WORDS = 24  # vocabulary words a query word begins ("onb" -> "onboarding")
BOUNDED_CANDIDATES = 50_000
RESULTS_PER_KIND = 8
LINKED_IDS = 60  # of a kind's ranked rows, how many link the later kinds' candidates


@dataclass(frozen=True)
class Tiers:
    """How many rows each tier of a kind's candidate query reads (Postgres)."""

    every_word: int  # rows holding every query word, shortest names first
    each_word: int  # rows holding one query word, per word (when there are several)
    linked: int  # rows linked to a found owner/pathway/project..., per link


SEARCH_TIERS = Tiers(every_word=24, each_word=4, linked=6)  # the search page's groups
# The first tier sorts at most this many rows holding every word: a word in thousands of rows
# costs what one in a few hundred does.
SORTED_AT_MOST = 400
LIST_TIERS = Tiers(every_word=150, each_word=25, linked=40)  # a list's best matches


def uses_word_index() -> bool:
    return connection.vendor == "postgresql"


def vocabulary_matches(
    organization_sql: tuple[str, Sequence], prepared: search.Query
) -> list[list[str]]:
    """For each query word, the organization's words it matches (okrs.search.word_score), as
    the database writes them (lower case, accents kept): one query. `organization_sql` is SQL
    giving the organization's id, with its parameters."""
    org_sql, org_params = organization_sql
    parts, params = [], []
    for i, word in enumerate(prepared.words):
        if not word.isdigit():  # numbers are matched as they are or as a prefix, never near
            parts.append(
                f"(SELECT {i} AS i, word FROM okrs_search_word WHERE organization_id = ({org_sql})"
                " AND word !~ '^[0-9]+$' ORDER BY okrs_search_fold(word) <-> %s"
                f" LIMIT {NEAREST_WORDS})"
            )
            params += [*org_params, word]
        parts.append(
            f"(SELECT {i} AS i, word FROM okrs_search_word WHERE organization_id = ({org_sql})"
            f" AND okrs_search_fold(word) LIKE %s LIMIT {PREFIXED_WORDS})"
        )
        params += [*org_params, f"{word}%"]  # words are letters and digits: nothing to escape
    with prepared_cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        found = cursor.fetchall()
    matches: list[set[str]] = [set() for _ in prepared.words]
    for i, word in found:
        if search.word_score(prepared.words[i], fold(word)) >= search.MATCH_THRESHOLD:
            matches[i].add(word)
    return [sorted(words) for words in matches]


def _table_sql(model, organization_sql: tuple[str, Sequence]) -> tuple[str, list]:
    """FROM and WHERE of the organization's live rows of `model`'s table, with parameters."""
    org_sql, org_params = organization_sql
    live = " AND archived_at IS NULL" if hasattr(model, "archived_at") else ""
    sql = f"FROM {model._meta.db_table} WHERE organization_id = ({org_sql}){live}"
    return sql, list(org_params)


def _holds_sql(column: str, words: list[str]) -> tuple[str, list]:
    # The GIN index's expression exactly, so the planner reads the index.
    return f"okrs_search_words({column}) && %s::text[]", [words]


def word_candidates(
    rows: QuerySet | None,
    name_field: str,
    columns: Sequence[str],
    matches: list[list[str]],
    links: dict[str, list[int] | tuple[str, list]],
    tiers: Tiers,
    tier_source: tuple[str, list] | None = None,
    compiled_rows: tuple[str, list] | None = None,
) -> list[dict]:
    """`rows` (values of `columns`) holding the matched words in `name_field`, or linked
    (`links`: a link to ids, or to SQL giving them) to what was found by name, bounded by
    `tiers`: one query. Each tier reads `rows`' ids (its filters and scope, compiled once)
    from the words index, up to its LIMIT, in plain SQL (the ORM would take longer to build a
    dozen subqueries than Postgres takes to run them); then the columns are read for those ids
    only. Only the first tier sorts (shortest names first: what covers the query best; among
    its first `SORTED_AT_MOST` rows); the others take the first rows they meet, so a word in
    thousands of rows costs no more than a rare one. `tier_source` (default: `rows` compiled):
    SQL selecting the id, the name and the links' columns the tiers read, when fewer joins will
    do (each tier plans its own). `compiled_rows`: `rows.values(*columns)` compiled once (the
    search page: the same SQL for every query of an organization)."""
    link_names = list(links)
    if tier_source is None:
        base = rows.order_by().values("pk", name_field, *link_names)
        tier_source = base.query.sql_with_params()
    base_sql, base_params = tier_source
    aliases = ", ".join(["id", "name", *(f"link{i}" for i in range(len(link_names)))])
    source = f"FROM ({base_sql}) AS base({aliases})"
    holds = [_holds_sql("name", words) for words in matches if words]
    tiers_sql: list[tuple[str, list]] = []

    def tier(conditions: list[tuple[str, list]], limit: int, ordered: bool = False) -> None:
        where = " AND ".join(sql for sql, _ in conditions)
        params = [*base_params, *(p for _, params in conditions for p in params)]
        if ordered:  # the shortest of the first SORTED_AT_MOST met: bounded, whatever the size
            sql = (
                f"(SELECT id FROM (SELECT id, name {source} WHERE {where}"
                f" LIMIT {SORTED_AT_MOST}) met ORDER BY length(name), name LIMIT {limit})"
            )
        else:
            sql = f"(SELECT id {source} WHERE {where} LIMIT {limit})"
        tiers_sql.append((sql, params))

    if holds:
        tier(holds, tiers.every_word, ordered=True)
    if len(holds) > 1:
        for hold in holds:
            tier([hold], tiers.each_word)
    flat = sorted({word for words in matches for word in words})
    for i, ids in enumerate(links.values()):
        if not ids:
            continue  # nothing found to link to
        if isinstance(ids, tuple):
            linked = (f"link{i} IN ({ids[0]})", list(ids[1]))
        else:
            linked = (f"link{i} = ANY(%s)", [list(ids)])
        if flat:  # what is linked and holds a word first ("people culture onboarding")
            tier([linked, _holds_sql("name", flat)], tiers.linked)
        tier([linked], tiers.linked)
    if not tiers_sql:
        return []
    ids_sql = " UNION ALL ".join(sql for sql, _ in tiers_sql)
    ids_params = [p for _, params in tiers_sql for p in params]
    # `= ANY(ARRAY(...))`: the ids are read once first, then each row by its primary key (with
    # `IN (...)` the planner may hash-join the whole table against a few dozen ids).
    if compiled_rows is not None:  # `rows` compiled before: the same plan, no ORM on the way
        rows_sql, rows_params = compiled_rows
        aliases = ", ".join(f"c{i}" for i in range(len(columns)))
        sql = f"SELECT * FROM ({rows_sql}) AS found({aliases}) WHERE c0 = ANY(ARRAY({ids_sql}))"
        with prepared_cursor() as cursor:
            cursor.execute(sql, [*rows_params, *ids_params])
            return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    model = rows.model
    pk = f'"{model._meta.db_table}"."{model._meta.pk.column}"'
    among = RawSQL(f"{pk} = ANY(ARRAY({ids_sql}))", ids_params, output_field=BooleanField())
    return list(rows.filter(among).order_by().values(*columns))


def _linked_by_name(
    queryset: QuerySet, fields: tuple[str, ...], matches, organization_sql: tuple[str, Sequence]
) -> dict[str, tuple[str, list]]:
    """For a list's context fields one join away ("owner__name"): the link ("owner") and SQL
    giving the organization's related rows whose name holds a matched word."""
    flat = sorted({word for words in matches for word in words})
    links: dict[str, tuple[str, list]] = {}
    for context in fields[1:] if flat else ():
        path, _, name = context.rpartition("__")
        if not path or "__" in path:
            continue  # two joins away (objective__pathway__name): ranked, not looked up
        related = queryset.model._meta.get_field(path).related_model
        table_sql, table_params = _table_sql(related, organization_sql)
        hold_sql, hold_params = _holds_sql(related._meta.get_field(name).column, flat)
        links[path] = (f"SELECT id {table_sql} AND {hold_sql}", [*table_params, *hold_params])
    return links


def ranked_ids(queryset: QuerySet, query: str, fields: tuple[str, ...]) -> list[int]:
    """Ids of `queryset`'s rows matching `query`, best first: `fields` are the name, then its
    context ("title", "owner__name"). On Postgres its best `LIST_TIERS` candidates (a list's
    search shows its best matches, not every row sharing a word); elsewhere every match."""
    prepared = search.Query(query)
    if not prepared:
        return []
    if not uses_word_index():
        return search.rank(prepared, queryset.values_list("pk", *fields))
    organization = queryset.order_by().values("organization_id")[:1].query.sql_with_params()
    matches = vocabulary_matches(organization, prepared)
    links = _linked_by_name(queryset, fields, matches, organization)
    rows = word_candidates(queryset, fields[0], ("pk", *fields), matches, links, LIST_TIERS)
    unique = {row["pk"]: row for row in rows}
    return search.rank(prepared, ((pk, *(row[f] for f in fields)) for pk, row in unique.items()))


@dataclass(frozen=True)
class Kind:
    """One kind of record the search finds, and how it reads it."""

    name: str  # the group's id in the page ("projects")
    label: str
    rows: Callable[[Organization], QuerySet]
    name_field: str
    context_fields: tuple[str, ...]
    # Context links narrowed on Postgres by the ids found for an earlier kind (field -> kind).
    linked: dict[str, str] = field(default_factory=dict)
    # What the page shows besides the name and context (the status, the link's ids).
    extra_fields: tuple[str, ...] = ()


KINDS = (
    Kind(
        "people",
        "People",
        lambda org: Person.objects.for_org(org),
        "name",
        ("email",),
    ),
    Kind(
        "objectives",
        "Objectives",
        lambda org: Objective.objects.for_org(org).filter(live_q("pathway")),
        "title",
        ("pathway__name", "owner__name", "cycle__name"),
        linked={"owner": "people", "pathway": "pathways"},
    ),
    Kind(
        "projects",
        "Projects",
        lambda org: Project.objects.for_org(org).filter(live_q("pathway")),
        "name",
        ("pathway__name", "owner__name"),
        linked={"owner": "people", "pathway": "pathways"},
        extra_fields=("status",),
    ),
    Kind(
        "key_results",
        "Key results",
        lambda org: KeyResult.objects.for_org(org).filter(
            live_q("objective"), live_q("objective__pathway"), objective__isnull=False
        ),
        "title",
        ("objective__title", "owner__name"),
        linked={"owner": "people", "objective": "objectives"},
        extra_fields=("objective_id",),
    ),
    Kind(
        "tasks",
        "Tasks",
        lambda org: Task.objects.for_org(org).filter(live_q("project")),
        "title",
        ("project__name", "assignee__name"),
        linked={"assignee": "people", "project": "projects"},
        extra_fields=("status", "project_id"),
    ),
    Kind(
        "check_ins",
        "Check-in notes",
        lambda org: (
            CheckIn.objects.for_org(org)
            .filter(live_q("key_result"), live_q("key_result__objective"))
            .filter(key_result__objective__isnull=False)
            .exclude(note="")
        ),
        "note",
        ("key_result__title",),
        linked={"key_result": "key_results"},
        extra_fields=("key_result__objective_id", "key_result_id", "checked_in_at"),
    ),
)
KINDS_BY_NAME = {kind.name: kind for kind in KINDS}
# The page's order of the groups (people are read first: their ids narrow the others).
SHOWN_ORDER = ("objectives", "key_results", "projects", "tasks", "people", "check_ins")


STATUS_LABELS = {"projects": dict(ProjectStatus.choices), "tasks": dict(TaskStatus.choices)}


@dataclass
class Hit:
    pk: int
    name: str
    context: list[str]
    row: dict  # the values read, for the link's ids
    status: str = ""
    status_label: str = ""


@dataclass
class Group:
    kind: Kind
    hits: list[Hit]
    more: bool  # more matched than shown


@dataclass
class Results:
    query: str
    words: list[str]
    groups: list[Group]

    @property
    def count(self) -> int:
        return sum(len(group.hits) for group in self.groups)


@lru_cache(maxsize=1024)
def _compiled_kind(
    kind_name: str, organization_id: int
) -> tuple[tuple[str, list], tuple[str, list]]:
    """A kind's rows (their columns, its scope and filters) and its table's own live rows (what
    the tiers read), compiled once per organization: building and compiling the querysets
    took longer than Postgres takes to answer them."""
    kind = KINDS_BY_NAME[kind_name]
    organization = Organization(pk=organization_id)
    rows = kind.rows(organization).order_by()
    columns = ("pk", kind.name_field, *kind.context_fields, *kind.extra_fields)
    rows_sql, rows_params = rows.values(*columns).query.sql_with_params()
    model = rows.model
    table_sql, table_params = _table_sql(model, ("%s", [organization_id]))
    named = [model._meta.get_field(f).column for f in (kind.name_field, *kind.linked)]
    table = f"SELECT {', '.join([model._meta.pk.column, *named])} {table_sql}"
    return (rows_sql, list(rows_params)), (table, table_params)


def _candidates(
    kind: Kind, organization: Organization, prepared: search.Query, matches, found: dict
) -> list[dict]:
    columns = ("pk", kind.name_field, *kind.context_fields, *kind.extra_fields)
    if uses_word_index():
        compiled_rows, (table_sql, table_params) = _compiled_kind(kind.name, organization.pk)
        # The tiers read the table's own live rows (with every link's column, used or not);
        # the rows then drop those of archived parents.
        links = {link: found.get(other, []) for link, other in kind.linked.items()}
        return word_candidates(
            None,
            kind.name_field,
            columns,
            matches,
            links,
            SEARCH_TIERS,
            tier_source=(table_sql, table_params),
            compiled_rows=compiled_rows,
        )
    rows = kind.rows(organization)
    return list(rows.order_by("-pk")[:BOUNDED_CANDIDATES].values(*columns))


def _pathway_ids(organization: Organization, prepared: search.Query) -> list[int]:
    """The pathways whose name matches (a handful per organization: ranked in Python)."""
    pathways = Pathway.objects.for_org(organization).values_list("pk", "name")
    return search.rank(prepared, pathways)


def search_organization(*, organization: Organization, query: str) -> Results:
    """What matches `query` in the organization, by kind, best first: a fixed number of
    queries (one a kind, one for the pathways, on Postgres one for the vocabulary)."""
    prepared = search.Query(query)
    if not prepared:
        return Results(query=query, words=[], groups=[])
    matches = vocabulary_matches(("%s", [organization.pk]), prepared) if uses_word_index() else []
    found: dict[str, list[int]] = {"pathways": _pathway_ids(organization, prepared)}
    groups: dict[str, Group] = {}
    for kind in KINDS:
        candidates = _candidates(kind, organization, prepared, matches, found)
        rows = {row["pk"]: row for row in candidates}
        ranked = search.rank(
            prepared,
            (
                (pk, row[kind.name_field], *(row[f] for f in kind.context_fields))
                for pk, row in rows.items()
            ),
        )
        found[kind.name] = ranked[:LINKED_IDS]
        hits = [
            Hit(
                pk=pk,
                name=rows[pk][kind.name_field],
                context=[rows[pk][f] for f in kind.context_fields if rows[pk][f]],
                row=rows[pk],
                status=rows[pk].get("status", ""),
                status_label=STATUS_LABELS.get(kind.name, {}).get(rows[pk].get("status"), ""),
            )
            for pk in ranked[:RESULTS_PER_KIND]
        ]
        groups[kind.name] = Group(kind=kind, hits=hits, more=len(ranked) > RESULTS_PER_KIND)
    shown = [groups[name] for name in SHOWN_ORDER if groups[name].hits]
    return Results(query=query, words=prepared.words, groups=shown)
