"""The search's ranking contract (okrs.search) and the search page (okrs.selectors.search).

The table of messy queries runs on whichever database DATABASE_URL names: Postgres (the
vocabulary and the word indexes find the candidates: migration 0010_search_knn) and SQLite (a
bounded set) must give the same first result.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from okrs import search
from okrs.models import Project
from okrs.selectors import ProjectFilters, project_rows, search_organization
from okrs.selectors.search import LIST_TIERS, SORTED_AT_MOST
from orgs.models import Role
from tests.factories import (
    CheckInFactory,
    KeyResultFactory,
    ObjectiveFactory,
    PathwayFactory,
    PersonFactory,
    ProjectFactory,
    TaskFactory,
)

# -- the pure contract ---------------------------------------------------------------------------


def test_words_drop_case_accents_punctuation_and_stop_words():
    assert search.words("  Hi, any NEWS on the Café   new-starter onbaording thing?? ") == [
        "cafe",
        "new",
        "starter",
        "onbaording",
    ]


@pytest.mark.parametrize("garbage", ["", "   ", "?!.,;", "🚀🔥", "\x00\x00", "the and of", "_"])
def test_nothing_to_search_for(garbage):
    assert search.words(garbage) == []
    assert search.rank(garbage, [(1, "Website redesign")]) == []


def test_a_long_paste_is_bounded():
    query = "website " + "lorem ipsum dolor " * 2000
    assert len(search.words(query)) <= search.MAX_QUERY_WORDS


def test_a_name_match_ranks_above_an_owner_match():
    ranked = search.rank(
        "priya",
        [(1, "Hiring plan", "Priya Patel"), (2, "Priya's farewell", "Jo Smith")],
    )
    assert ranked == [2, 1]


def test_ties_go_to_the_name_not_the_id():
    assert search.rank("plan", [(1, "Plan zebra"), (2, "Plan alpha")]) == [2, 1]


def test_typos_within_the_length_allowance():
    assert search.score("onbaording", "New-starter onboarding") > 0
    assert search.score("stratgy", "Strategy day") > 0
    assert search.score("stratg", "Strategy day") > 0
    assert search.score("xylophone", "Strategy day") == 0
    assert search.score("cat", "Cut costs") == 0  # three letters: no typo guessed


# -- the organization's search, on the database under test -------------------------------------


@pytest.fixture
def world(org, other_org):
    people = {
        name: PersonFactory(organization=org, name=name)
        for name in ("Zoë Ångström", "Jo Smith", "Priya Patel", "Marcus O'Neill")
    }
    culture, growth, ops = (
        PathwayFactory(organization=org, name=name)
        for name in ("People & Culture", "Growth", "Operations Excellence")
    )
    projects = [
        ("New-starter onboarding", "Priya Patel", culture),
        ("Onboarding checklist refresh", "Jo Smith", ops),
        ("Website redesign", "Marcus O'Neill", growth),
        ("Hiring plan Q3", "Priya Patel", culture),
        ("Customer feedback survey", "Zoë Ångström", growth),
        ("Budget forecast 2025", "Jo Smith", ops),
        ("Café partnership pilot", "Zoë Ångström", growth),
        ("Office move", "Marcus O'Neill", ops),
        ("Priya's farewell party", "Jo Smith", culture),
    ]
    made = {
        name: ProjectFactory(organization=org, name=name, owner=people[owner], pathway=pathway)
        for name, owner, pathway in projects
    }
    ProjectFactory(
        organization=org, name="Legacy onboarding wiki", pathway=culture, archived_at=timezone.now()
    )
    objectives = {
        title: ObjectiveFactory(organization=org, title=title, pathway=pathway)
        for title, pathway in (
            ("Grow recurring revenue", growth),
            ("Make every new starter productive in their first month", culture),
            ("Reduce support response time", ops),
        )
    }
    nps = KeyResultFactory(
        organization=org,
        title="Net promoter score above 50",
        objective=objectives["Reduce support response time"],
    )
    KeyResultFactory(
        organization=org,
        title="Time to first commit under 5 days",
        objective=objectives["Make every new starter productive in their first month"],
    )
    for title, project in (
        ("Write the welcome pack", "New-starter onboarding"),
        ("Book laptops for new starters", "New-starter onboarding"),
        ("Draft the survey questions", "Customer feedback survey"),
        ("Renew the office lease", "Office move"),
    ):
        TaskFactory(organization=org, title=title, project=made[project])
    for note in ("Survey delayed by legal review", "Laptops arrived, welcome pack at the printers"):
        CheckInFactory(organization=org, key_result=nps, note=note)
    # Another organization's records, named alike: never found.
    ProjectFactory(organization=other_org, name="Website redesign secret")
    PersonFactory(organization=other_org, name="Zoe Angstrom")
    return org


def first(organization, query: str, kind: str) -> str | None:
    results = search_organization(organization=organization, query=query)
    for group in results.groups:
        if group.kind.name == kind:
            return group.hits[0].name
    return None


MESSY_QUERIES = [
    # (query, kind, expected first result)
    ("hi, any news on the new-starter onbaording thing??", "projects", "New-starter onboarding"),
    ("ONBOARDING   checklist", "projects", "Onboarding checklist refresh"),
    ("checklist onboarding", "projects", "Onboarding checklist refresh"),
    ("onboarding checklist", "projects", "Onboarding checklist refresh"),
    ("websit redesgn", "projects", "Website redesign"),
    ("redesign website", "projects", "Website redesign"),
    ("🚀 website 🚀", "projects", "Website redesign"),
    ("cafe partnership", "projects", "Café partnership pilot"),
    ("CAFÉ pilot", "projects", "Café partnership pilot"),
    ("zoe angstrom", "people", "Zoë Ångström"),
    ("marcus o'neill", "people", "Marcus O'Neill"),
    ("  hiring   plan,  q3!!! ", "projects", "Hiring plan Q3"),
    ("hirng plan", "projects", "Hiring plan Q3"),
    ("budget forcast", "projects", "Budget forecast 2025"),
    ("priya", "projects", "Priya's farewell party"),  # the name above her projects
    ("priya", "people", "Priya Patel"),
    ("people culture onboarding", "projects", "New-starter onboarding"),
    ("customer feedbak survey", "projects", "Customer feedback survey"),
    ("Office Move", "projects", "Office move"),
    ("recurring revenue growth", "objectives", "Grow recurring revenue"),
    (
        "first month new starters productive",
        "objectives",
        "Make every new starter productive in their first month",
    ),
    ("net promotor score", "key_results", "Net promoter score above 50"),
    ("time to first commit", "key_results", "Time to first commit under 5 days"),
    ("welcome pack", "tasks", "Write the welcome pack"),
    ("laptops for the new starters?", "tasks", "Book laptops for new starters"),
    ("office lease renewal", "tasks", "Renew the office lease"),
    ("survey legal", "check_ins", "Survey delayed by legal review"),
    (
        "can you tell me where the welcome pack is",
        "check_ins",
        "Laptops arrived, welcome pack at the printers",
    ),
]


@pytest.mark.parametrize(("query", "kind", "expected"), MESSY_QUERIES)
def test_messy_queries_find_the_right_record_first(world, query, kind, expected):
    assert first(world, query, kind) == expected, connection.vendor


def test_archived_records_are_not_found(world):
    results = search_organization(organization=world, query="legacy onboarding wiki")
    names = [hit.name for group in results.groups for hit in group.hits]
    assert "Legacy onboarding wiki" not in names


def test_another_organizations_records_are_never_found(world):
    results = search_organization(organization=world, query="website redesign secret")
    names = [hit.name for group in results.groups for hit in group.hits]
    assert "Website redesign secret" not in names
    assert first(world, "zoe angstrom", "people") == "Zoë Ångström"
    people = [g for g in search_organization(organization=world, query="zoe").groups]
    assert [h.name for g in people for h in g.hits if g.kind.name == "people"] == ["Zoë Ångström"]


# -- the page --------------------------------------------------------------------------------------


@pytest.fixture
def viewer_client(client, world, member_of):
    client.force_login(member_of(world, Role.VIEWER))
    return client


def test_the_page_groups_results_with_their_context(viewer_client, world):
    response = viewer_client.get(reverse("search", args=[world.slug]), {"q": "onbaording"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="search-projects"' in html and 'id="search-people"' not in html
    assert "New-starter onboarding" in html and "Priya Patel" in html
    assert "People &amp; Culture" in html
    assert "Legacy onboarding wiki" not in html


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("", "Type what you are looking for."),
        ("the of and ?!", "Nothing to search for in that."),
        ("zzqxv", "Nothing matches"),
    ],
)
def test_empty_states_say_what_to_try(viewer_client, world, query, says):
    response = viewer_client.get(reverse("search", args=[world.slug]), {"q": query})
    assert says in response.content.decode()


@pytest.mark.parametrize(
    "garbage",
    ["website " * 1250, "\x00website\x00", "🚀" * 3000, "%_\\'\"; DROP TABLE", "a" * 10_000],
)
def test_garbage_never_fails(viewer_client, world, garbage):
    response = viewer_client.get(reverse("search", args=[world.slug]), {"q": garbage})
    assert response.status_code == 200


def test_another_organization_answers_404(viewer_client, other_org):
    response = viewer_client.get(reverse("search", args=[other_org.slug]), {"q": "website"})
    assert response.status_code == 404


def test_the_header_box_is_on_every_org_page(viewer_client, world):
    html = viewer_client.get(reverse("org_home", args=[world.slug])).content.decode()
    assert f'action="{reverse("search", args=[world.slug])}"' in html


def test_the_project_list_search_uses_the_same_ranking(viewer_client, world):
    response = viewer_client.get(
        reverse("project_list", args=[world.slug]),
        {"q": "hi, any news on the new-starter onbaording thing??"},
    )
    listed = [project.name for project in response.context["page"].object_list]
    assert listed[0] == "New-starter onboarding"


def test_a_searched_list_keeps_its_filters_past_the_best_few_hundred(org):
    """The list's own filters narrow what the search reads, not only what it shows: one
    owner's project is found among more matching names than a list's search reads."""
    others, owner = PersonFactory(organization=org), PersonFactory(organization=org)
    Project.objects.bulk_create(
        Project(organization=org, name=f"Onboarding wave {i}", owner=others)
        for i in range(max(LIST_TIERS.every_word, SORTED_AT_MOST) + 50)
    )
    mine = ProjectFactory(organization=org, name="Onboarding wave for me", owner=owner)
    filters = ProjectFilters(owner_id=owner.pk, query="onbaording wave")
    assert [row.pk for row in project_rows(organization=org, filters=filters)] == [mine.pk]
