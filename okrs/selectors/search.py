"""Search: the databases find the candidates, okrs.search ranks them (one contract on both).

- Postgres: pg_trgm (migration 0008_search: the extension and GIN trigram indexes on every
  searched column). A candidate's name has a query word within `pg_trgm.word_similarity`
  `WORD_SIMILARITY` (`word <% name`, answered by the index), or it belongs to an owner,
  pathway, project or objective found the same way; the most similar `CANDIDATES_PER_KIND`
  go on to the ranking.
- SQLite (the local mode) and anything else: the organization's newest
  `BOUNDED_CANDIDATES` rows of a kind, every one ranked in Python (rapidfuzz).

Every query is scoped with `for_org` (archived rows and rows of archived parents left out).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import reduce
from operator import add, or_

from django.contrib.postgres.search import TrigramWordSimilarity
from django.db import connection
from django.db.models import Q, QuerySet

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

WORD_SIMILARITY = 0.3  # low enough for a typo in a short word ("bugdet" is 0.43 of "budget")
CANDIDATES_PER_KIND = 60  # the most trigram-similar: what the ranking reorders
BOUNDED_CANDIDATES = 50_000
RESULTS_PER_KIND = 8


def uses_trigrams() -> bool:
    return connection.vendor == "postgresql"


def set_word_similarity(sender, connection, **kwargs) -> None:
    """pg_trgm's `<%` answers from the index above a setting, not an argument (0.6 by default:
    too strict for typos), so each new Postgres connection sets it once (okrs.apps connects this
    to `connection_created`), not each search. A pooler in transaction mode would lose it: the
    search then only finds closer matches."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('pg_trgm.word_similarity_threshold', %s, false)",
            [str(WORD_SIMILARITY)],
        )


def _similar(field_name: str, words: list[str]) -> Q:
    return reduce(or_, (Q(**{f"{field_name}__trigram_word_similar": w}) for w in words))


def ranked_ids(queryset: QuerySet, query: str, fields: tuple[str, ...]) -> list[int]:
    """Ids of `queryset`'s rows matching `query`, best first: `fields` are the name, then its
    context ("title", "owner__name"). Every match, not a bounded few: the list pages filter."""
    prepared = search.Query(query)
    if not prepared:
        return []
    if uses_trigrams():
        queryset = queryset.filter(reduce(or_, (_similar(f, prepared.words) for f in fields)))
    return search.rank(prepared, queryset.values_list("pk", *fields))


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


def _candidates(kind: Kind, organization: Organization, prepared: search.Query, found: dict):
    rows = kind.rows(organization)
    if uses_trigrams():
        where = _similar(kind.name_field, prepared.words)
        for link, other in kind.linked.items():
            if found.get(other):
                where |= Q(**{f"{link}_id__in": found[other]})
        relevance = reduce(add, (TrigramWordSimilarity(w, kind.name_field) for w in prepared.words))
        rows = rows.filter(where).annotate(relevance=relevance).order_by("-relevance")
        rows = rows[:CANDIDATES_PER_KIND]
    else:
        rows = rows.order_by("-pk")[:BOUNDED_CANDIDATES]
    return rows.values("pk", kind.name_field, *kind.context_fields, *kind.extra_fields)


def _pathway_ids(organization: Organization, prepared: search.Query) -> list[int]:
    """The pathways whose name matches (a handful per organization: ranked in Python)."""
    pathways = Pathway.objects.for_org(organization).values_list("pk", "name")
    return search.rank(prepared, pathways)


def search_organization(*, organization: Organization, query: str) -> Results:
    """What matches `query` in the organization, by kind, best first: a fixed number of
    queries (one a kind, one for the pathways)."""
    prepared = search.Query(query)
    if not prepared:
        return Results(query=query, words=[], groups=[])
    found: dict[str, list[int]] = {"pathways": _pathway_ids(organization, prepared)}
    groups: dict[str, Group] = {}
    for kind in KINDS:
        rows = {row["pk"]: row for row in _candidates(kind, organization, prepared, found)}
        ranked = search.rank(
            prepared,
            (
                (pk, row[kind.name_field], *(row[f] for f in kind.context_fields))
                for pk, row in rows.items()
            ),
        )
        found[kind.name] = ranked[:CANDIDATES_PER_KIND]
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
