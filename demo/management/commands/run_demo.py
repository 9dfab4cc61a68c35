"""`manage.py run_demo`: MissionOS as `make run` serves it, with nothing but Python.

Three processes next to each other, and the demo base in this one:
- the web server (uvicorn, as production runs it);
- a Celery worker and Celery beat, on kombu's filesystem transport (`CELERY_BROKER_URL=
  filesystem://`, files under `.celery/`): no Redis, and the worker still answers pings, so
  the pages know it is there;
- the demo organization's Airtable base, served by the fake Airtable (devtools/) at
  AIRTABLE_API_URL for the web server and the worker: "Sync now" on the demo works, check-ins
  made here are written to it, and edits made to it (its control API, /_control/: a person in
  Airtable) reach open dashboards through the change feed, whose webhook is made anew on this
  fake before the worker and beat start (`airtable_base.feeds_connect`).

Ctrl-C (or SIGTERM) stops them all; so does any of them ending on its own.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demo import airtable_base


class Command(BaseCommand):
    help = (
        "Serve MissionOS for the demo with no other service: web server, Celery worker and "
        "beat on a filesystem broker, and the demo Airtable base on a fake Airtable."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000, help="the web server's port")
        parser.add_argument(
            "--airtable-port", type=int, default=8765, help="the fake Airtable's port"
        )
        parser.add_argument("--reload", action="store_true", help="restart the web on edits")

    def handle(self, *args, **options):
        try:
            fake = airtable_base.serve_demo_base(port=options["airtable_port"])
        except airtable_base.FakeAirtableMissing as missing:
            raise CommandError(str(missing)) from missing
        except OSError as error:
            raise CommandError(
                f"The fake Airtable cannot listen on port {options['airtable_port']} ({error}): "
                "pass --airtable-port."
            ) from error
        # The feed's webhook lived on an earlier fake (seed_demo's, or the last run_demo's):
        # this one makes it anew, so edits in the demo base reach open dashboards.
        for feed in airtable_base.feeds_connect(fake.url):
            note = f": {feed.message}" if feed.message else ""
            self.stdout.write(f"Change feed of {feed.connection.name}: {feed.state}{note}")
        env = {
            **os.environ,
            "CELERY_BROKER_URL": os.environ.get("CELERY_BROKER_URL", "filesystem://"),
            "AIRTABLE_API_URL": fake.url,
        }
        celery = [sys.executable, "-m", "celery", "-A", "missionos"]
        web = [
            sys.executable, "-m", "uvicorn", "missionos.asgi:application",
            "--host", "127.0.0.1", "--port", str(options["port"]),
            "--timeout-graceful-shutdown", "2",
        ]  # fmt: skip
        commands = {
            # Threads, not solo: a solo worker cannot answer a ping while it runs a task, and
            # the pages ping to know whether a queued run will start.
            "worker": [*celery, "worker", "--pool=threads", "--concurrency=2", "-l", "warning"],
            "beat": [*celery, "beat", "-S", settings.CELERY_BEAT_SCHEDULER, "-l", "warning"],
            "web": [*web, "--reload"] if options["reload"] else web,
        }
        self.stdout.write(
            f"Demo Airtable base at {fake.url}; worker and beat on {env['CELERY_BROKER_URL']}"
        )
        processes = {name: subprocess.Popen(command, env=env) for name, command in commands.items()}
        stopping = []
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stopping.append(True))
        try:
            while not stopping:
                ended = [name for name, process in processes.items() if process.poll() is not None]
                if ended:
                    raise CommandError(f"The {ended[0]} stopped; stopping the rest.")
                time.sleep(0.5)
        finally:
            for process in processes.values():
                if process.poll() is None:
                    process.terminate()
            for process in processes.values():
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
            fake.stop()
