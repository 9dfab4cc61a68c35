"""Issue 15's table, measured in one run: sync against the pull floor, search, pages at 100x.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres uv run python bench/scale_table.py
    uv run python bench/scale_table.py --readme      # only regenerate README.md from the JSON

Runs, one after the other (so no run shares the 2 cores with another), each in its own fresh
Postgres database created and dropped here on DATABASE_URL's server:

  bench/sync.py    a generated 100,000-record base (BENCH_SIZES), no paced run
  bench/search.py  20,000 projects and the kinds around them (BENCH_PROJECTS)
  bench/scale.py   the demo's size and 100x, each page interleaved

then reads their JSON (bench/results/*-postgresql.json), saves the five figures with their goals
to bench/results/scale-table-postgresql.json, prints the table, and rewrites README.md's tables
between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->` from the same JSON: what the README shows
is what the last run measured. Timings, not assertions.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
README = ROOT / "README.md"
SYNC_RECORDS = os.environ.get("BENCH_SIZES", "100000")


@dataclass(frozen=True)
class Row:
    what: str
    value: float
    unit: str  # "x" (a ratio) or "ms"
    goal: float

    @property
    def met(self) -> bool:
        return self.value <= self.goal

    def shown(self, number: float) -> str:
        if self.unit == "ms":
            return f"{number:,.1f} ms"
        return f"{number:.3f}×" if number < 0.1 else f"{number:.2f}×"


def run_benchmarks(server_url: str) -> dict[str, float]:
    """Each benchmark in a fresh database of its own; returns how long each took (s)."""
    import psycopg

    took = {}
    for script, extra in (
        ("sync", {"BENCH_SIZES": SYNC_RECORDS, "BENCH_PACED_RECORDS": "0"}),
        ("search", {}),
        ("scale", {}),
    ):
        database = f"bench_table_{script}"
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
            admin.execute(f"CREATE DATABASE {database}")
        parts = urlsplit(server_url)
        url = urlunsplit(parts._replace(path=f"/{database}"))
        env = {**os.environ, **extra, "DATABASE_URL": url}
        env.pop("REDIS_URL", None)  # each benchmark says what it needs; none shares a Redis db
        print(f"== bench/{script}.py on {database}", flush=True)
        started = time.monotonic()
        subprocess.run([sys.executable, f"bench/{script}.py"], cwd=ROOT, env=env, check=True)
        took[script] = round(time.monotonic() - started, 1)
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
    return took


def load(name: str) -> dict:
    return json.loads((RESULTS / f"{name}-postgresql.json").read_text())


def table_rows(sync: dict, search: dict, scale: dict) -> list[Row]:
    size = str(max(int(size) for size in sync["results"]))
    base = sync["results"][size]
    floor, full = base["floor"]["seconds"], base["full"]["seconds"]
    dashboard = scale["pages"]["dashboard"]
    projects = max(search["sizes"], key=int)
    return [
        Row(f"first full sync / bare pull, {int(size):,} records", full / floor, "x", 3.0),
        Row("unchanged full re-run / pull", base["unchanged"]["seconds"] / floor, "x", 1.5),
        Row("incremental, 1% changed / full", base["incremental"]["seconds"] / full, "x", 0.03),
        Row(
            f"search p95, {int(projects):,} projects, typo'd and pasted queries",
            search["sizes"][projects]["search (okrs.selectors.search)"]["p95_ms"],
            "ms",
            15.0,
        ),
        Row("dashboard computed p95, 100× org / the demo's", dashboard["p95_ratio"], "x", 2.0),
    ]


def summary_markdown(rows: list[Row]) -> str:
    lines = ["| | measured | goal | |", "|---|---|---|---|"]
    for row in rows:
        verdict = "met" if row.met else "**missed**"
        lines.append(
            f"| {row.what} | {row.shown(row.value)} | ≤ {row.shown(row.goal)} | {verdict} |"
        )
    return "\n".join(lines)


def pages_markdown(scale: dict) -> str:
    small, large = (str(size) for size in sorted(int(size) for size in scale["rows"]))
    lines = [
        f"| page | {int(small):,} projects (median / p95) | {int(large):,} projects "
        "| p95 ratio | queries |",
        "|---|---|---|---|---|",
    ]
    for page, figures in scale["pages"].items():
        ratio = f"{figures['p95_ratio']:.2f}×"
        lines.append(
            f"| {page} | {figures[small]['median_ms']:,.0f} / {figures[small]['p95_ms']:,.0f} "
            f"| {figures[large]['median_ms']:,.0f} / {figures[large]['p95_ms']:,.0f} "
            f"| {ratio if figures['goal_met'] else f'**{ratio}**'} | {figures[large]['queries']} |"
        )
    return "\n".join(lines)


def sync_markdown(sync: dict) -> str:
    sizes = sorted(sync["results"], key=int)
    lines = [
        "| | " + " | ".join(f"{int(size):,} records" for size in sizes) + " |",
        "|---|" + "---|" * len(sizes),
    ]
    steps = (
        ("pull floor (bare pyairtable)", "floor"),
        ("full sync from empty", "full"),
        ("full sync, unchanged base", "unchanged"),
        ("incremental, 1% changed", "incremental"),
    )
    for label, step in steps:
        cells = [f"{sync['results'][size][step]['seconds']:,.2f} s" for size in sizes]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    for label, step in (("peak RSS, full sync", "full"),):
        cells = [f"{sync['results'][size][step]['peak_rss_mb']:,.0f} MB" for size in sizes]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def search_markdown(search: dict) -> str:
    sizes = sorted(search["sizes"], key=int)
    lines = [
        "| p95 (median) | " + " | ".join(f"{int(size):,} projects" for size in sizes) + " |",
        "|---|" + "---|" * len(sizes),
    ]
    for label in (
        "search (okrs.selectors.search)",
        "search, this process's CPU only",
        "project list search (first page)",
        "search page (test client)",
    ):
        cells = [
            f"{search['sizes'][size][label]['p95_ms']:,.1f} ms "
            f"({search['sizes'][size][label]['median_ms']:,.1f})"
            for size in sizes
        ]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def rewrite_readme(tables: dict[str, str]) -> list[str]:
    """Replaces each marked table in README.md; returns the names it found no markers for."""
    text = README.read_text()
    missing = []
    for name, markdown in tables.items():
        pattern = re.compile(
            rf"(<!-- bench:{name} -->\n)(?:.*?\n)?(<!-- /bench:{name} -->)", flags=re.DOTALL
        )
        if not pattern.search(text):
            missing.append(name)
            continue
        text = pattern.sub(
            lambda match, table=markdown: match.group(1) + table + "\n" + match.group(2), text
        )
    README.write_text(text)
    return missing


def main() -> None:
    took = {}
    if "--readme" not in sys.argv:
        server = os.environ.get("DATABASE_URL", "")
        if not server.startswith("postgres"):
            sys.exit("bench/scale_table.py needs DATABASE_URL pointing at a Postgres server")
        took = run_benchmarks(server)
    sync, search, scale = load("sync"), load("search"), load("scale")
    rows = table_rows(sync, search, scale)
    summary = summary_markdown(rows)
    print(summary)
    if took:
        report = {
            "database": "postgresql",
            "cpus": os.cpu_count(),
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "seconds_per_benchmark": took,
            "rows": [
                {
                    "what": r.what,
                    "value": round(r.value, 4),
                    "unit": r.unit,
                    "goal": r.goal,
                    "met": r.met,
                }
                for r in rows
            ],
        }
        (RESULTS / "scale-table-postgresql.json").write_text(json.dumps(report, indent=2) + "\n")
    missing = rewrite_readme(
        {
            "scale-table": summary,
            "pages-100x": pages_markdown(scale),
            "sync": sync_markdown(sync),
            "search": search_markdown(search),
        }
    )
    if missing:
        print(f"README.md has no markers for: {', '.join(missing)}")


if __name__ == "__main__":
    main()
