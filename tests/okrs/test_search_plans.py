"""The plans Postgres chooses for the search's queries on an organization of some size (with
planner statistics): a query word is corrected against the vocabulary by its GiST trigram
index (KNN), and a kind's candidates are read by word from its GIN index, then by primary key,
never by computing a similarity for every row (okrs/migrations/0010_search_knn.py)."""

from __future__ import annotations

import re

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from okrs.models import Project
from okrs.selectors.search import search_organization
from tests.builders import build_organization
from tests.factories import OrganizationFactory, ProjectFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="Postgres plans"),
]

PROJECTS = 2_000  # "Project <i> <word>": "project" is in every name, "1234" in one


def made_up_word(i: int) -> str:
    """A distinct pronounceable word for each number (1234 -> "cedofigo"): an organization's
    vocabulary runs to thousands of words, and on a dozen a sequential scan would rightly win."""
    return "".join("bcdfghjkmn"[int(d)] + "aeiouaeiou"[int(d)] for d in str(i))


@pytest.fixture(scope="module")
def organization(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        build_organization(OrganizationFactory(slug="other"), 50)
        organization = OrganizationFactory(slug="big")
        build_organization(organization, PROJECTS)
        projects = list(Project.objects.for_org(organization))
        for project in projects:
            number = int(project.name.rsplit(" ", 1)[-1])
            project.name = f"{project.name} {made_up_word(number)}"
        Project.objects.for_org(organization).bulk_update(projects, ["name"])
        with connection.cursor() as cursor:  # statistics, as autovacuum would gather them
            cursor.execute("ANALYZE")
        yield organization
        transaction.set_rollback(True)


def plans_of_search(organization, query: str) -> dict[str, str]:
    """The EXPLAIN of each query the search ran, by the first table it names."""
    with CaptureQueriesContext(connection) as captured:
        results = search_organization(organization=organization, query=query)
    assert results.groups, "the search found nothing: the plans would not say much"
    plans = {}
    with connection.cursor() as cursor:
        for ran in captured.captured_queries:
            table = re.search(r'FROM "?([a-z_]+)', ran["sql"]).group(1)
            cursor.execute("EXPLAIN " + ran["sql"].replace("%", "%%"))
            plans[table] = "\n".join(row[0] for row in cursor.fetchall())
    return plans


def test_a_typo_is_corrected_from_the_vocabularys_trigram_index(organization):
    plans = plans_of_search(organization, "projct 1234")
    assert "okrs_search_word_nearest" in plans["okrs_search_word"], plans["okrs_search_word"]


def test_a_kinds_candidates_are_read_by_word_from_its_index_then_by_id(organization):
    plan = plans_of_search(organization, "projct 1234")["okrs_project"]
    assert "Bitmap Index Scan on okrs_project_name_words" in plan, plan
    assert re.search(r"Index Scan (using|on) okrs_project_pkey", plan), plan  # plain or bitmap
    assert "word_similarity" not in plan and "<%" not in plan, plan


def test_the_words_the_search_reads_are_learnt_on_insert_and_rename(organization):
    """The vocabulary is kept by triggers: a new name's words, and a renamed one's, are found
    with a typo straight away."""

    def found(query: str) -> list[str]:
        results = search_organization(organization=organization, query=query)
        return [h.name for g in results.groups if g.kind.name == "projects" for h in g.hits]

    assert found("zebrafsh") == [] and found("quoka") == []
    project = Project.objects.for_org(organization).order_by("pk").first()
    Project.objects.for_org(organization).filter(pk=project.pk).update(name="Zebrafish tank")
    ProjectFactory(organization=organization, name="Quokka enclosure")
    assert found("zebrafsh") == ["Zebrafish tank"]
    assert found("quoka") == ["Quokka enclosure"]


def test_rows_just_written_are_in_the_word_index_not_a_pending_list(organization):
    """okrs 0011: the word indexes take rows as they are written. With GIN's default pending
    list the 2,000 projects just built would wait unmerged until a VACUUM, and every search
    would scan them one by one (13 ms of a 15 ms query at 20,000)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, c.reloptions FROM pg_class c JOIN pg_am am ON am.oid = c.relam "
            "WHERE am.amname = 'gin' AND c.relname LIKE '%%\\_words'"
        )
        options = dict(cursor.fetchall())
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pgstattuple")
        cursor.execute("SELECT (pgstatginindex('okrs_project_name_words')).pending_tuples")
        pending = cursor.fetchone()[0]
    assert len(options) == 7, options
    assert all(opts and "fastupdate=off" in opts for opts in options.values()), options
    assert pending == 0
