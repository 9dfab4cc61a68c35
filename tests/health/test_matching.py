"""health.matching: which titles and people the data health page flags as duplicates, and that
finding them never compares all pairs. Pure functions: no database."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from health.matching import (
    Cluster,
    Item,
    MatchStats,
    normalize,
    people_clusters,
    same_person,
    same_title,
    title_clusters,
    title_tokens,
)

# Same thing, typed differently: each must match (and score at least the default threshold).
TITLE_DUPLICATES = [
    ("Reduce patient wait times", "Reduce patient waiting time"),  # the demo's planted pair
    ("Launch the booking portal", "Launched the booking portal"),
    ("Planned maintenance windows", "Plan maintenance windows"),
    # typos
    ("Improve customer onbaording", "Improve customer onboarding"),
    ("Reduce infrastucture spend", "Reduce infrastructure spend"),
    ("Enviornment setup", "Environment setup"),
    ("Improve sales", "Improve saels"),
    ("Recruiting", "Recruting"),
    ("Expand the team in Brazil", "Expand team in Brasil"),
    ("Optimise pricing", "Optimize pricing"),
    ("Close the books by Augsut", "Close the books by August"),
    # word order
    ("Onboarding revamp for customers", "Customer onboarding revamp"),
    # case, punctuation, whitespace
    ("Reduce churn!!", "reduce   churn"),
    ("IMPROVE NPS", "improve nps"),
    ("Improve customer onboarding.", "  improve: customer -- onboarding "),
    # accents
    ("Café opening", "Cafe opening"),
    ("Zürich office launch", "Zurich office launch"),
    # stop words
    ("Open the Lisbon office", "Open Lisbon office"),
    ("Migrate to the new CRM", "Migrate to new CRM"),
    # plurals
    ("Open Lisbon office", "Open Lisbon offices"),
    ("Reduce costs", "Reduce cost"),
    ("Define our strategies", "Define strategy"),
    ("Launch mobile app", "Launch mobile apps"),
    ("Collect customer's feedback", "Collect customers feedback"),
    # abbreviations
    ("Streamline mgmt reporting", "Streamline management reporting"),
    ("Restructure the sales dept", "Restructure sales department"),
    ("Win govt contracts", "Win government contracts"),
    ("Expand intl sales", "Expand international sales"),
    ("Scale the ops team", "Scale operations team"),
    ("Modernize HR systems", "Modernize human resources systems"),
    ("Double the R&D budget", "Double research and development budget"),
    ("Sales & marketing alignment", "Sales and marketing alignment"),
    ("Partner w/ universities", "Partner with universities"),
    ("Hire a sr. designer", "Hire senior designer"),
    ("Improve CX", "Improve customer experience"),
    ("Reduce YoY churn", "Reduce year-over-year churn"),
    ("Improve the U.S. onboarding", "Improve US onboarding"),
    ("Close the books in Jan", "Close the books in January"),
    # numbers, periods and versions written differently
    ("Hire 3 engineers", "Hire three engineers"),
    ("Cut churn 5%", "Cut churn 5 percent"),
    ("Cut churn 5% in Q1", "cut churn 5 % q 1"),
    ("FY26 budget", "FY 2026 budget"),
    ("Launch Atlas v2", "Launch Atlas version 2"),
    ("Grow revenue 2.5x", "grow revenue 2.5X"),
    ("Save $1,000 per month", "Save 1000 per month"),
    # words joined or split
    ("Improve e-commerce checkout", "Improve ecommerce checkout"),
    ("Set up the Lisbon office", "Setup Lisbon office"),
]

# Look-alikes that name different things: none may match.
TITLE_LOOKALIKES = [
    # a place or proper noun
    ("Open the Lisbon office", "Open the Madrid office"),
    ("Expand to Slovakia", "Expand to Slovenia"),
    ("Open Austria office", "Open Australia office"),
    ("Launch in the US", "Launch in the UK"),
    ("Migrate to AWS", "Migrate to GCP"),
    # a number
    ("Cut churn 5%", "Cut churn 10%"),
    ("Hire 3 engineers", "Hire 30 engineers"),
    ("Grow revenue 2.5x", "Grow revenue 25x"),
    ("Hire 3-5 engineers", "Hire 35 engineers"),
    ("Cut costs 5%", "Cut costs $5"),
    # a quarter, half, year or month
    ("Cut churn 5% in Q1", "Cut churn 5% in Q2"),
    ("Hit revenue target FY2026", "Hit revenue target FY2027"),
    ("Ship billing in H1", "Ship billing in H2"),
    ("Close the books in January", "Close the books in February"),
    ("Ship in June", "Ship in July"),
    ("Ship the Q1 roadmap", "Ship the Q1 2026 roadmap"),
    # a product or version
    ("Launch Atlas v2", "Launch Atlas v3"),
    ("Launch Atlas 2.0", "Launch Atlas 3.0"),
    ("Launch Atlas", "Launch Orion"),
    # a meaning-changing prefix or an opposite
    ("Improve onboarding", "Improve offboarding"),
    ("Onboarding", "Offboarding"),
    ("Increase retention", "Decrease retention"),
    ("Grow inbound leads", "Grow outbound leads"),
    ("Hire internal candidates", "Hire external candidates"),
    ("Minimize downtime", "Maximize downtime"),
    ("Upgrade the plan", "Downgrade the plan"),
    ("Enable SSO", "Disable SSO"),
    ("Import pipeline", "Export pipeline"),
    ("Pre-launch checklist", "Post-launch checklist"),
    ("Fix the log in flow", "Fix the log out flow"),
    ("Onboard partners with sales", "Onboard partners without sales"),
    ("Train all managers", "Train no managers"),
    # one different word
    ("Launch mobile app", "Launch web app"),
    ("Improve customer onboarding", "Improve partner onboarding"),
    ("Hire a CFO", "Hire a CTO"),
    # real words one letter apart
    ("Hire engineers", "Fire engineers"),
    ("Improve hiring", "Improve firing"),
    ("Reduce cost per lead", "Reduce cost per load"),
    ("Improve data quality", "Improve date quality"),
    ("Improve conversion", "Improve conversation"),
    ("Renew the contract", "Renew the contact"),
    ("Retain customers", "Regain customers"),
    # a word more on one side
    ("Launch app", "Launch mobile app"),
    ("Reduce churn", "Reduce churn rate"),
    # nothing to compare
    ("", ""),
    ("The", "the"),
    ("!!", "!!"),
]


@pytest.mark.parametrize(("a", "b"), TITLE_DUPLICATES)
def test_titles_that_name_the_same_thing_match(a: str, b: str):
    score = same_title(a, b)
    assert score is not None, (title_tokens(a), title_tokens(b))
    assert 0.85 <= score <= 1.0
    assert same_title(b, a) == score


@pytest.mark.parametrize(("a", "b"), TITLE_LOOKALIKES)
def test_lookalike_titles_do_not_match(a: str, b: str):
    assert same_title(a, b) is None, (title_tokens(a), title_tokens(b))
    assert same_title(b, a) is None


def test_the_tables_cover_enough_pairs():
    assert len(TITLE_DUPLICATES) >= 30
    assert len(TITLE_LOOKALIKES) >= 30


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("  Café   Opening!! ", "cafe opening"),
        ("Straße", "strasse"),
        ("ÉQUIPE—Lisbon/Madrid", "equipe lisbon madrid"),
        ("reduce_churn", "reduce churn"),
        ("", ""),
        ("!!", ""),
    ],
)
def test_normalize_keeps_what_two_spellings_share(text: str, normalized: str):
    assert normalize(text) == normalized


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("Open the Lisbon offices", ["lisbon", "office", "open"]),
        ("Modernize HR systems", ["human", "modernize", "resource", "system"]),
        ("Cut churn 5% in Q1", ["5", "churn", "cut", "percent", "q1"]),
        ("Hire three engineers w/o agencies", ["3", "agency", "engineer", "hire", "without"]),
        ("FY 26 budget, version 2", ["budget", "fy2026", "v2"]),
        ("Save $1,000 or 2.5%", ["1000", "2.5", "percent", "save"]),
        ("Launch Atlas", ["atlas", "launch"]),  # a name that ends like a plural stays
        ("Launch it in the US", ["it", "launch", "us"]),  # IT and US are not stop words
        ("The", []),
    ],
)
def test_title_tokens_are_the_content_words(text: str, tokens: list[str]):
    assert title_tokens(text) == tokens


def test_equal_content_words_score_one_and_a_typo_less():
    assert same_title("Open the Lisbon office", "open lisbon office!") == 1.0
    typo = same_title("Improve customer onbaording", "Improve customer onboarding")
    assert typo is not None and 0.9 < typo < 1.0


def test_a_typo_in_most_words_is_not_a_typo():
    assert same_title("Improve customer onbaording", "Improve custmer onboarding") is None


# Clusters


def items(*texts: str) -> list[Item]:
    return [Item(id=i, text=text) for i, text in enumerate(texts, start=1)]


def test_three_copies_form_one_cluster():
    clusters = title_clusters(
        items("Reduce churn", "Open Madrid office", "reduce churn!!", "Reduce the churn")
    )
    assert clusters == [Cluster(ids=(1, 3, 4), score=1.0)]


def test_a_chain_joins_titles_that_do_not_match_directly():
    a, b, c = (
        "Improve customer onboarding",
        "Improve customer onbaording",
        "Imprve customer onbaording",
    )
    assert same_title(a, b) and same_title(b, c)
    assert same_title(a, c) is None  # two typos of three words
    [cluster] = title_clusters(items(a, b, c))
    assert cluster.ids == (1, 2, 3)
    assert cluster.score == min(same_title(a, b), same_title(b, c))


def test_clusters_are_sorted_by_score_then_ids():
    clusters = title_clusters(
        items(
            "Improve customer onbaording",  # 1
            "Open Lisbon office",  # 2
            "Improve customer onboarding",  # 3
            "open the Lisbon office",  # 4
            "Cut churn 5%",  # 5
            "Cut churn 5 percent",  # 6
        )
    )
    assert [c.ids for c in clusters] == [(2, 4), (5, 6), (1, 3)]
    assert [c.score for c in clusters][:2] == [1.0, 1.0]
    assert clusters[2].score < 1.0


def test_the_threshold_keeps_weaker_pairs_apart():
    texts = items("Improve customer onbaording", "Improve customer onboarding", "improve customer")
    assert title_clusters(texts, threshold=0.99) == []
    assert [c.ids for c in title_clusters(texts)] == [(1, 2)]


def test_empty_titles_never_cluster():
    assert title_clusters(items("", "", "  ", "the", "the")) == []


# People


PEOPLE_SAME = [
    (Item(1, "John Smith"), Item(2, "Smith, John")),
    (Item(1, "John Smith"), Item(2, "john  smith")),
    (Item(1, "Jhon Smith"), Item(2, "John Smith")),  # letters swapped
    (Item(1, "John Smtih"), Item(2, "John Smith")),
    (Item(1, "John Smyth"), Item(2, "John Smith")),  # one letter in a 5-letter name
    (Item(1, "José Álvarez"), Item(2, "Jose Alvarez")),
    (Item(1, "Mary-Jane Watson"), Item(2, "Mary Jane Watson")),
    (Item(1, "Dr. Ana Silva"), Item(2, "Ana Silva")),
    (Item(1, "Conor O'Brien"), Item(2, "Conor OBrien")),
    (Item(1, "J. Smith", "John@Example.com"), Item(2, "John Smith", " john@example.com")),
    (Item(1, "Maria", "maria@example.com"), Item(2, "Maria", "MARIA@example.com")),
    (Item(1, "John Smith", "john@example.com"), Item(2, "John Smith")),
]

PEOPLE_DIFFERENT = [
    (Item(1, "Maria Lopez"), Item(2, "Maria Garcia")),  # a first name only
    (Item(1, "Maria L."), Item(2, "Maria Lopez")),  # an initial is not a name
    (Item(1, "Maria"), Item(2, "Maria")),  # one word: only an email can tell
    (Item(1, "Jon Smith"), Item(2, "John Smith")),  # short names: another name, not a typo
    (Item(1, "Ann Lee"), Item(2, "Anne Lee")),
    (Item(1, "Mark Lee"), Item(2, "Mary Lee")),
    (Item(1, "Daniel Kim"), Item(2, "Daniela Kim")),  # a vowel ending
    (Item(1, "Maria Costa"), Item(2, "Marie Costa")),
    (Item(1, "Katherine Lee"), Item(2, "Catherine Lee")),  # the first letter
    (Item(1, "John Smith Jr"), Item(2, "John Smith Sr")),
    (Item(1, "John Smith"), Item(2, "John Smith Williams")),  # a token more
    (Item(1, "Maria Lopes"), Item(2, "Mario Lopez")),  # two typos
    (Item(1, "Jhon Smith", "john@a.com"), Item(2, "John Smith", "john@b.com")),
    (Item(1, "", "ann@example.com"), Item(2, "Ann Lee", "ann@example.com")),  # empty text
]


@pytest.mark.parametrize(("a", "b"), PEOPLE_SAME)
def test_the_same_person_matches(a: Item, b: Item):
    score = same_person(a, b)
    assert score is not None
    assert 0.0 < score <= 1.0
    assert same_person(b, a) == score


@pytest.mark.parametrize(("a", "b"), PEOPLE_DIFFERENT)
def test_two_people_do_not_match(a: Item, b: Item):
    assert same_person(a, b) is None
    assert same_person(b, a) is None


def test_person_scores_say_what_matched():
    assert same_person(Item(1, "A B", "x@y.com"), Item(2, "C D", "X@Y.COM")) == 1.0
    different_emails = same_person(
        Item(1, "John Smith", "j@a.com"), Item(2, "Smith John", "j@b.com")
    )
    assert different_emails == 0.9
    assert same_person(Item(1, "John Smith"), Item(2, "John Smith", "j@a.com")) == 0.95
    typo = same_person(Item(1, "Jhon Smith"), Item(2, "John Smith"))
    assert typo is not None and typo < 0.95


def test_people_clusters_join_by_email_and_by_name():
    people = [
        Item(1, "John Smith", "john@example.com"),
        Item(2, "J. Smith", "JOHN@example.com"),
        Item(3, "Jhon Smith"),
        Item(4, "Maria Lopez"),
        Item(5, "Maria Garcia"),
        Item(6, "Maria Garcia", "maria@example.com"),
        Item(7, "Maria", "maria.lopez@example.com"),
        Item(8, ""),
    ]
    clusters = people_clusters(people)
    assert [c.ids for c in clusters] == [(5, 6), (1, 2, 3)]
    assert clusters[0].score == 0.95
    assert clusters[1].score == same_person(people[0], people[2])


# Blocking


def generated_titles(n: int, seed: int = 7) -> list[Item]:
    """OKR-like titles from a small vocabulary (so words repeat a lot), 5% retyped."""
    rng = random.Random(seed)
    verbs = ["Improve", "Reduce", "Launch", "Open", "Hire", "Grow", "Migrate", "Automate"]
    things = [
        "customer onboarding",
        "billing system",
        "partner program",
        "sales pipeline",
        "support backlog",
        "data warehouse",
        "mobile app",
        "release process",
    ]
    places = ["Lisbon", "Madrid", "Berlin", "Boston", "Denver", "Tokyo", "Seoul", "Oslo"]
    texts: list[str] = []
    while len(texts) < n:
        if texts and rng.random() < 0.05:
            words = rng.choice(texts).split()
            i = rng.randrange(len(words))
            if len(words[i]) >= 6:
                w, k = words[i], rng.randrange(1, len(words[i]) - 2)
                words[i] = w[:k] + w[k + 1] + w[k] + w[k + 2 :]
            texts.append(" ".join(words).lower())
        else:
            texts.append(
                f"{rng.choice(verbs)} {rng.choice(things)} in {rng.choice(places)} "
                f"{rng.choice(['', 'Q1', 'Q2', 'H1', 'FY2026'])} {rng.randint(1, 40)}%"
            )
    return items(*texts)


def test_blocking_compares_far_fewer_than_all_pairs():
    titles = generated_titles(20_000)
    stats = MatchStats()
    clusters = title_clusters(titles, stats=stats)
    all_pairs = len(titles) * (len(titles) - 1) // 2
    assert stats.items == 20_000
    assert 0 < stats.comparisons < all_pairs / 1000
    assert stats.matches > 0
    assert len(clusters) > 100


def brute_force(
    records: Sequence[Item], match: Callable[[Item, Item], float | None], threshold: float
) -> set[tuple[int, ...]]:
    """Clusters from every pair: what blocking must reproduce."""
    parent = {r.id: r.id for r in records}

    def find(x: int) -> int:
        while parent[x] != x:
            x = parent[x]
        return x

    for i, a in enumerate(records):
        for b in records[i + 1 :]:
            score = match(a, b)
            if score is not None and score >= threshold:
                parent[find(b.id)] = find(a.id)
    groups: dict[int, list[int]] = {}
    for r in records:
        groups.setdefault(find(r.id), []).append(r.id)
    return {tuple(sorted(g)) for g in groups.values() if len(g) > 1}


def test_blocking_finds_every_title_cluster_all_pairs_would():
    titles = generated_titles(200, seed=11)
    rng = random.Random(3)
    words = ["onboarding", "onbaording", "churn", "chrun", "growth", "gorwth", "apps", "app"]
    titles += [Item(1000 + i, " ".join(rng.sample(words, rng.randint(1, 2)))) for i in range(80)]
    tables = [text for pair in TITLE_DUPLICATES + TITLE_LOOKALIKES for text in pair]
    titles += [Item(2000 + i, text) for i, text in enumerate(tables)]
    stats = MatchStats()
    blocked = {c.ids for c in title_clusters(titles, stats=stats)}
    assert stats.skipped_blocks == 0
    assert blocked == brute_force(titles, lambda a, b: same_title(a.text, b.text), 0.85)
    assert len(blocked) > 10


def test_blocking_finds_every_people_cluster_all_pairs_would():
    rng = random.Random(5)
    first = ["John", "Jhon", "Maria", "Mraia", "Ana", "Anna", "Daniel", "Daniela"]
    last = ["Smith", "Smtih", "Lopez", "Garcia", "Silva", "Kim"]
    people = [
        Item(
            i,
            f"{rng.choice(first)} {rng.choice(last)}" if rng.random() < 0.9 else rng.choice(first),
            rng.choice(["", "", f"p{rng.randint(1, 30)}@example.com"]),
        )
        for i in range(400)
    ]
    stats = MatchStats()
    blocked = {c.ids for c in people_clusters(people, stats=stats)}
    assert stats.skipped_blocks == 0
    assert blocked == brute_force(people, same_person, 0.0)
    assert stats.comparisons < 400 * 399 // 2


def test_blocks_over_the_cap_are_skipped_and_counted():
    places = ["Lisbon", "Lagos", "Lima", "Leeds", "London"]
    titles = items(
        *[f"Improve onboarding {place}" for place in places], "Improve onbaording Lisbon"
    )
    stats = MatchStats()
    clusters = title_clusters(titles, stats=stats, block_cap=2)
    assert stats.skipped_blocks > 0  # all six share "improve"
    assert [c.ids for c in clusters] == [(1, 6)]  # the rarer "lisbon" still pairs the typo


# Properties

WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzéüñ", min_size=1, max_size=9)
SEPARATORS = st.sampled_from([" ", "  ", "\t", " - ", ", ", "; ", "! ", "? ", ": ", " (", ") "])
CASES = st.sampled_from([str.lower, str.upper, str.title, str.swapcase])


@st.composite
def retyped_case_and_punctuation(draw: st.DrawFn, words: list[str]) -> str:
    """The same words with other case, spacing and punctuation."""
    cased = [draw(CASES)(word) for word in words]
    text = draw(st.sampled_from(["", "  ", "(", '"']))
    for i, word in enumerate(cased):
        text += word + (draw(SEPARATORS) if i < len(cased) - 1 else "")
    return text + draw(st.sampled_from(["", "!!", ".", " ", ")", "?"]))


@st.composite
def typo(draw: st.DrawFn, words: list[str]) -> list[str]:
    """The words with one of them mistyped: letters swapped, dropped or changed."""
    i = draw(st.integers(0, len(words) - 1))
    word = words[i]
    k = draw(st.integers(0, max(0, len(word) - 2)))
    kind = draw(st.sampled_from(["swap", "drop", "change"]))
    if kind == "swap" and len(word) >= 2:
        word = word[:k] + word[k + 1] + word[k] + word[k + 2 :]
    elif kind == "drop" and len(word) >= 2:
        word = word[:k] + word[k + 1 :]
    else:
        word = word[:k] + draw(st.sampled_from("aeioust")) + word[k + 1 :]
    return [*words[:i], word, *words[i + 1 :]]


@given(st.text())
def test_a_title_matches_itself(text: str):
    if title_tokens(text):
        assert same_title(text, text) == pytest.approx(1.0)
    else:
        assert same_title(text, text) is None


@given(st.data(), st.lists(WORD, min_size=1, max_size=5))
def test_same_title_is_symmetric(data: st.DataObject, words: list[str]):
    a = " ".join(words)
    b = " ".join(data.draw(typo(words)))
    shuffled = " ".join(data.draw(st.permutations(words)))
    other = data.draw(st.text(max_size=30))
    for x, y in [(a, b), (a, shuffled), (b, shuffled), (a, other)]:
        assert same_title(x, y) == same_title(y, x)


@given(st.data(), st.lists(WORD, min_size=1, max_size=5))
def test_case_whitespace_and_punctuation_keep_a_match(data: st.DataObject, words: list[str]):
    a = " ".join(words)
    retyped = data.draw(retyped_case_and_punctuation(words))
    if title_tokens(a):
        assert same_title(a, retyped) == 1.0
    mistyped = data.draw(typo(words))
    score = same_title(a, " ".join(mistyped))
    if score is not None:
        assert same_title(retyped, data.draw(retyped_case_and_punctuation(mistyped))) == score


@given(st.data(), st.lists(WORD, min_size=2, max_size=3))
def test_same_person_is_symmetric(data: st.DataObject, names: list[str]):
    a = Item(1, " ".join(names), data.draw(st.sampled_from(["", "a@x.com"])))
    b = Item(
        2, " ".join(data.draw(typo(names))), data.draw(st.sampled_from(["", "A@x.com", "b@x"]))
    )
    assert same_person(a, b) == same_person(b, a)
