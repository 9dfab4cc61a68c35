"""`make run`'s server, started as `make run` starts it (`manage.py run_demo`) on a fresh SQLite
file with no other service: "Sync now" on the demo organization is answered by a real worker on
the filesystem broker and syncs the demo base served next to it."""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path

from tests.sync.test_worker import wait_for

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_sync_now_on_the_demo_runs_on_the_zero_setup_worker(tmp_path):
    database = tmp_path / "db.sqlite3"
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")},
        "DATABASE_URL": f"sqlite:///{database}",
        "CELERY_FILESYSTEM_DIR": str(tmp_path / "queue"),
    }
    for command in (["migrate", "--noinput"], ["seed_demo"]):
        done = subprocess.run(
            [sys.executable, "manage.py", *command], cwd=ROOT, env=env, capture_output=True,
            text=True, timeout=180,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    web, airtable = free_port(), free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "run_demo", "--port", str(web),
         "--airtable-port", str(airtable)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=(tmp_path / "server.log").open("w"),
    )  # fmt: skip
    site = f"http://127.0.0.1:{web}"
    browser = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )

    def post(path: str, fields: dict, *, form_page: str = "") -> str:
        form = browser.open(site + (form_page or path)).read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
        data = urllib.parse.urlencode({"csrfmiddlewaretoken": token, **fields}).encode()
        request = urllib.request.Request(site + path, data=data, headers={"Referer": site + path})
        return browser.open(request).read().decode()

    def answers() -> bool:
        try:
            return browser.open(site + "/healthz/").status == 200
        except OSError:
            return False

    def runs() -> list[tuple[str, str]]:
        with sqlite3.connect(database) as db:
            return db.execute("SELECT kind, status FROM sync_syncrun ORDER BY id").fetchall()

    try:
        wait_for(answers, 60, "the web server")
        # run_demo made the change feed's webhook anew before serving (the seed's fake is
        # gone), with an incremental run for the gap: the runs so far, all finished.
        before = len(runs())
        assert all(status == "succeeded" for _, status in runs()), runs()
        post("/login/", {"username": "demo", "password": "missionos-demo"})
        connection = re.search(
            r'href="(/o/northwind/sync/\d+/)"',
            browser.open(site + "/o/northwind/sync/").read().decode(),
        ).group(1)
        # The worker starts a few seconds after the web server: a run queued before it
        # answers waits (and the page says so), then runs when it starts.
        first = post(connection + "sync-now/", {}, form_page=connection)
        assert "Incremental sync queued." in first
        wait_for(
            lambda: len(runs()) == before + 1 and runs()[-1][1] == "succeeded",
            90,
            "the first demo sync",
        )
        # Now a worker is there, and says so by answering.
        second = post(connection + "sync-now/", {}, form_page=connection)
        assert "Incremental sync queued." in second and "No worker" not in second
        wait_for(
            lambda: len(runs()) == before + 2 and runs()[-1][1] == "succeeded",
            90,
            "the second sync",
        )
    except Exception:
        print((tmp_path / "server.log").read_text()[-6000:])  # what the server said, on failure
        raise
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
