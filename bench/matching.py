"""Duplicate-title clustering (health.matching) at 20,000 titles: seconds and comparisons.

    uv run python bench/matching.py
    BENCH_TITLES=50000 uv run python bench/matching.py

Generates OKR-like titles from templates (verb + object, places, products and versions, numbers,
quarters, halves, fiscal years, months), seeded so every run sees the same data. About 5% are
copies retyped: a typo (two letters swapped), another case, extra punctuation and spaces, a stop
word added or dropped, an abbreviation. Times `title_clusters` (median of 5 runs, each from
cold caches), and prints and saves the seconds, the comparison count against all n(n-1)/2 pairs,
and the clusters found to bench/results/matching.json. Pure Python: no database, no Django.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from health import matching  # noqa: E402

N = int(os.environ.get("BENCH_TITLES", "20000"))
REPEATS = 5
SEED = 20260101


def choices(text: str) -> list[str]:
    """A vocabulary written as "|"-separated text."""
    return text.split("|")


VERBS = choices(
    "Improve|Reduce|Increase|Launch|Open|Hire|Grow|Ship|Build|Migrate|Cut|Expand|Automate|"
    "Streamline|Redesign|Standardize|Consolidate|Modernize|Pilot|Deliver|Roll out|Define|Rebuild|"
    "Simplify|Accelerate|Retire|Document|Audit|Secure|Localize"
)
OBJECTS = choices(
    "customer onboarding|churn|net revenue retention|billing system|pricing page|support backlog|"
    "sales pipeline|hiring process|data warehouse|mobile app|web app|partner program|"
    "release process|incident response|security posture|design system|developer experience|"
    "cloud spend|customer satisfaction|employee engagement|forecast accuracy|lead conversion|"
    "checkout flow|search relevance|reporting dashboards|API latency|test coverage|"
    "payment fraud|vendor contracts|procurement process|brand awareness|community forum|"
    "knowledge base|field marketing|renewal rate|trial conversion|enterprise deals|"
    "self-serve signup|SSO rollout|audit logging|data retention policy|quarterly planning"
)
CITIES = choices(
    "Lisbon|Madrid|Berlin|Paris|London|Dublin|Austin|Boston|Denver|Seattle|Toronto|Sydney|"
    "Singapore|Tokyo|Seoul|Mumbai|Nairobi|Lagos|Warsaw|Prague|Vienna|Zurich|Milan|Oslo"
)
PRODUCTS = choices("Atlas|Orion|Nova|Helix|Vega|Apollo|Zephyr|Comet|Pulse|Quartz")
ROLES = choices("engineers|designers|sales reps|account managers|recruiters|analysts|support staff")
MONTHS = choices("January|February|March|April|May|June|July|August|September|October|November")
TEAMS = choices("platform|growth|payments|mobile|data|security|infrastructure|support|finance")


def title(rng: random.Random) -> str:
    """One plausible objective or project title."""
    when = rng.choice(
        [
            "",
            f" in Q{rng.randint(1, 4)}",
            f" in H{rng.randint(1, 2)}",
            f" FY{rng.randint(2025, 2028)}",
            f" by {rng.choice(MONTHS)}",
        ]
    )
    where = rng.choice(["", f" in {rng.choice(CITIES)}", f" for {rng.choice(TEAMS)}"])
    template = rng.randrange(6)
    if template == 0:
        return f"{rng.choice(VERBS)} {rng.choice(OBJECTS)}{where}{when}"
    if template == 1:
        return f"Open the {rng.choice(CITIES)} {rng.choice(['office', 'hub', 'warehouse'])}{when}"
    if template == 2:
        return f"Launch {rng.choice(PRODUCTS)} v{rng.randint(1, 6)}{when}"
    if template == 3:
        verb = rng.choice(["Cut", "Reduce", "Grow", "Increase"])
        return f"{verb} {rng.choice(OBJECTS)} {rng.choice([5, 10, 15, 20, 25, 30])}%{when}"
    if template == 4:
        return f"Hire {rng.randint(2, 40)} {rng.choice(ROLES)} for {rng.choice(TEAMS)}{when}"
    return (
        f"{rng.choice(VERBS)} {rng.choice(TEAMS)} {rng.choice(OBJECTS)} "
        f"in {rng.choice(CITIES)}{when}"
    )


def retyped(text: str, rng: random.Random) -> str:
    """The same title typed again, differently."""
    words = text.split()
    change = rng.randrange(5)
    if change == 0:  # two letters swapped in a long word
        long_words = [i for i, w in enumerate(words) if len(w) >= 6 and w.isalpha()]
        if long_words:
            i = rng.choice(long_words)
            w = words[i]
            k = rng.randrange(1, len(w) - 2)
            words[i] = w[:k] + w[k + 1] + w[k] + w[k + 2 :]
    elif change == 1:
        return text.upper() if rng.random() < 0.5 else text.lower()
    elif change == 2:
        return "  " + "  ".join(words) + "!!"
    elif change == 3:
        words.insert(1, "the") if words[1:2] != ["the"] else words.pop(1)
    else:
        short = {"management": "mgmt", "operations": "ops", "and": "&", "international": "intl"}
        words = [short.get(w, w) for w in words]
    return " ".join(words)


def generate(n: int, seed: int = SEED) -> tuple[list[matching.Item], list[tuple[int, int]]]:
    """n titles, about 5% of them retyped copies of an earlier one, and the (original, copy)
    id pairs."""
    rng = random.Random(seed)
    texts: list[str] = []
    copies: list[tuple[int, int]] = []
    while len(texts) < n:
        if texts and rng.random() < 0.05:
            original = rng.randrange(len(texts))
            texts.append(retyped(texts[original], rng))
            copies.append((original + 1, len(texts)))
        else:
            texts.append(title(rng))
    items = [matching.Item(id=i, text=text) for i, text in enumerate(texts, start=1)]
    return items, copies


def main() -> None:
    items, copies = generate(N)
    runs: list[float] = []
    stats = matching.MatchStats()
    clusters: list[matching.Cluster] = []
    for _ in range(REPEATS):
        matching._typo_pair.cache_clear()
        matching._name_typo_pair.cache_clear()
        matching._word_parts.cache_clear()
        stats = matching.MatchStats()
        start = time.perf_counter()
        clusters = matching.title_clusters(items, stats=stats)
        runs.append(time.perf_counter() - start)
    cluster_of = {item: index for index, cluster in enumerate(clusters) for item in cluster.ids}
    found = sum(
        1
        for original, copy in copies
        if original in cluster_of and cluster_of[original] == cluster_of.get(copy)
    )
    all_pairs = N * (N - 1) // 2
    median = statistics.median(runs)
    print(f"{N} titles: {median:.3f}s median of {REPEATS} (min {min(runs):.3f}s)")
    print(
        f"comparisons {stats.comparisons:,} of {all_pairs:,} pairs "
        f"({stats.comparisons / all_pairs:.4%}); {stats.distinct:,} distinct titles, "
        f"{stats.blocks:,} blocks, {stats.skipped_blocks} skipped over the cap"
    )
    print(
        f"clusters {len(clusters):,} holding {sum(len(c.ids) for c in clusters):,} titles; "
        f"{stats.matches:,} matching pairs compared"
    )
    print(f"retyped copies found with their original: {found} of {len(copies)}")
    out = ROOT / "bench" / "results" / "matching.json"
    out.write_text(
        json.dumps(
            {
                "titles": N,
                "python": sys.version.split()[0],
                "cpus": os.cpu_count(),
                "seed": SEED,
                "repeats": REPEATS,
                "median_seconds": round(median, 4),
                "min_seconds": round(min(runs), 4),
                "runs_seconds": [round(r, 4) for r in runs],
                "comparisons": stats.comparisons,
                "all_pairs": all_pairs,
                "comparison_fraction": round(stats.comparisons / all_pairs, 6),
                "distinct_titles": stats.distinct,
                "blocks": stats.blocks,
                "skipped_blocks": stats.skipped_blocks,
                "matching_pairs": stats.matches,
                "clusters": len(clusters),
                "titles_in_clusters": sum(len(c.ids) for c in clusters),
                "retyped_copies": len(copies),
                "retyped_copies_found": found,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"saved {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
