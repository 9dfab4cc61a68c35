"""The dashboard served as production serves it: latency, throughput and live event streams.

    DATABASE_URL=postgres://…/empty_db REDIS_URL=redis://127.0.0.1:6379/N \\
        uv run python bench/dashboard.py

Needs an EMPTY throwaway database (or one this script filled before: its two organizations are
reused) and a Redis. Builds two organizations with tests/builders.py: the reference size (44
projects, as bench/pages.py) and 100× (4,400 projects, 22,000 tasks), each key result with
BENCH_CHECKIN_WEEKS (18) weekly check-ins (about 50,600 at 100×). Then starts uvicorn as a
subprocess the way production does (DEBUG=0, a SECRET_KEY, ALLOWED_HOSTS, the database pool,
whitenoise's manifest storage over collected static files, one worker, no reload, log level
warning) on 127.0.0.1, with REDIS_URL set, and talks to it over loopback only; every request
says `X-Forwarded-Proto: https`, as the TLS-terminating proxy does. Each organization has its own
logged-in browser: a session made through the configured session engine (the member's
organization already chosen, so no request writes) and the CSRF cookie a browser holds once
it has loaded a page. Production settings plus one change: STATIC_ROOT points at a temporary folder
(a settings module made there imports missionos.settings), so the work tree is not written.

1. Latency: BENCH_REQUESTS (100) sequential GETs of each dashboard after 10 to warm up, on one
   keep-alive connection: median and p95. Target: p95 at 100× <= 3 × p95 at 1×.
2. Throughput: `wrk` (`apt-get install wrk`; without it, or with BENCH_LOAD_TOOL=asyncio, a
   closed-loop asyncio load generator in its own process) with BENCH_LOAD_CONNECTIONS (16)
   connections, BENCH_LOAD_SECONDS (10) per run, alternating the trivial view and the reference
   dashboard for BENCH_LOAD_ROUNDS (2) rounds against the same server. The trivial view is the
   URL named "health" when there is one, else the login page (an anonymous GET: a small template,
   no database). Target: dashboard >= 40% of the trivial view's requests/s, zero errors (non-200
   answers, connection errors, time-outs).
3. Streams: first 10 streams (`/o/<slug>/events/`), to see what each holds in the server
   (Postgres and Redis connections, file descriptors, threads). Then BENCH_STREAMS (200) held
   open by an asyncio client in its own process, each checked (200, then the `retry:` line), in
   4 blocks that alternate with none open: the reference dashboard's latency with them against
   without (BENCH_REQUESTS each in all). Target: median and p95 within 1.5× of none. In each
   block one event is published (missionos.events.publish): the time until every stream has it.
   When streams hold a Postgres connection each, their number is capped to leave max_connections
   20 connections of room (Postgres may be shared): never more than that are opened.
4. Streams one process holds: BENCH_STREAM_STEPS (200,500,1000,2000,4000) open at once (and the
   Postgres cap, when it binds); at each step the server's RSS, threads, file descriptors,
   Postgres and Redis connections, idle CPU, event fan-out and the dashboard's latency
   (BENCH_RAMP_REQUESTS, 30). Stops at the first step where a stream fails or the dashboard errs,
   or before one that the file-descriptor limit or Redis' maxclients (less 500 for others: each
   stream holds a Redis connection, and Redis may be shared) cannot take; the default ladder
   ends at 4,000 for the same reason.

Prints a table and saves everything with each target's pass or miss to
bench/results/dashboard-<database>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import http.client
import importlib
import json
import math
import os
import resource
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = (44, 4_400)
CHECKIN_WEEKS = int(os.environ.get("BENCH_CHECKIN_WEEKS", "18"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "100"))
WARMUP = 10
LOAD_CONNECTIONS = int(os.environ.get("BENCH_LOAD_CONNECTIONS", "16"))
LOAD_SECONDS = int(os.environ.get("BENCH_LOAD_SECONDS", "10"))
LOAD_ROUNDS = int(os.environ.get("BENCH_LOAD_ROUNDS", "2"))
STREAMS = int(os.environ.get("BENCH_STREAMS", "200"))
STREAM_STEPS = tuple(
    int(s) for s in os.environ.get("BENCH_STREAM_STEPS", "200,500,1000,2000,4000").split(",") if s
)
RAMP_REQUESTS = int(os.environ.get("BENCH_RAMP_REQUESTS", "30"))
WORKERS = 1  # one process: its stream capacity is the figure asked for, and 2 cores are shared
FANOUT_TIMEOUT = 30.0
HTTP_TIMEOUT = 30.0
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(len(ordered) * 0.95) - 1)]


def summary(samples: list[float], errors: int = 0) -> dict:
    return {
        "requests": len(samples),
        "median_ms": round(statistics.median(samples), 1) if samples else None,
        "p95_ms": round(p95(samples), 1) if samples else None,
        "max_ms": round(max(samples), 1) if samples else None,
        "errors": errors,
    }


def raise_fd_limit() -> tuple[int, int]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


# --- raw HTTP/1.1 over asyncio (the stream holder and the fallback load generator) --------------


def request_bytes(port: int, path: str, cookie: str | None) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "X-Forwarded-Proto: https"]
    if cookie:
        lines.append(f"Cookie: {cookie}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def read_head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("closed before the status line")
    status = int(status_line.split()[1])
    headers = {}
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            return status, headers
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()


async def read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> int:
    if "content-length" in headers:
        return len(await reader.readexactly(int(headers["content-length"])))
    if headers.get("transfer-encoding", "").lower() == "chunked":
        size = 0
        while True:
            chunk = int((await reader.readline()).split(b";")[0], 16)
            if chunk == 0:
                while (await reader.readline()) not in (b"\r\n", b""):
                    pass
                return size
            size += len(await reader.readexactly(chunk + 2)) - 2
    return 0


async def load_main(port: int, path: str, cookie: str | None, connections: int, seconds: float):
    """Closed loop: each connection sends its next request when the last answer is read."""
    request = request_bytes(port, path, cookie)
    deadline = time.monotonic() + seconds
    latencies: list[float] = []
    counts = {"non200": 0, "errors": 0}

    async def worker() -> None:
        reader = writer = None
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(request)
                status, headers = await asyncio.wait_for(read_head(reader), HTTP_TIMEOUT)
                await read_body(reader, headers)
            except (TimeoutError, OSError, ConnectionError, ValueError):
                counts["errors"] += 1
                if writer is not None:
                    writer.close()
                reader = writer = None
                continue
            latencies.append((time.perf_counter() - started) * 1000)
            if status != 200:
                counts["non200"] += 1
            if headers.get("connection", "").lower() == "close":
                writer.close()
                reader = writer = None
        if writer is not None:
            writer.close()

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(connections)))
    elapsed = time.monotonic() - started
    print(
        json.dumps(
            {
                "requests": len(latencies),
                "seconds": elapsed,
                "non200": counts["non200"],
                "socket_errors": counts["errors"],
                "median_ms": statistics.median(latencies) if latencies else None,
                "p95_ms": p95(latencies) if latencies else None,
            }
        ),
        flush=True,
    )


class Stream:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer
        self.open = True
        self.event_at: float | None = None
        self.task: asyncio.Task | None = None

    async def listen(self) -> None:
        try:
            while line := await self.reader.readline():
                if line.startswith(b"event:") and self.event_at is None:
                    self.event_at = time.monotonic()
        except (OSError, ConnectionError):
            pass
        self.open = False


async def streams_main(port: int, path: str, cookie: str, lifetime: float) -> None:
    """Holds event streams open on the orders of JSON lines on stdin, answers on stdout."""
    request = request_bytes(port, path, cookie)
    streams: list[Stream] = []
    gate = asyncio.Semaphore(50)  # connections being opened at once

    async def open_one(timeout: float) -> None:
        async with gate:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", port), timeout
            )
            try:
                writer.write(request)
                status, _ = await asyncio.wait_for(read_head(reader), timeout)
                if status != 200:
                    raise ConnectionError(f"status {status}")
                while True:  # the stream's first frame
                    line = await asyncio.wait_for(reader.readline(), timeout)
                    if not line:
                        raise ConnectionError("closed before the retry line")
                    if line.startswith(b"retry:"):
                        break
            except BaseException:
                writer.close()
                raise
        stream = Stream(reader, writer)
        stream.task = asyncio.create_task(stream.listen())
        streams.append(stream)

    deadline = time.monotonic() + lifetime
    while time.monotonic() < deadline:
        line = await asyncio.to_thread(sys.stdin.readline)
        if not line:
            break
        order = json.loads(line)
        answer: dict = {}
        if order["cmd"] == "open":
            started = time.monotonic()
            wanted = order["total"] - sum(s.open for s in streams)
            outcomes = await asyncio.gather(
                *(open_one(order.get("timeout", 30.0)) for _ in range(max(0, wanted))),
                return_exceptions=True,
            )
            failures: dict[str, int] = {}
            for outcome in outcomes:
                if isinstance(outcome, BaseException):
                    kind = f"{type(outcome).__name__}: {outcome}"[:120]
                    failures[kind] = failures.get(kind, 0) + 1
            answer = {
                "open": sum(s.open for s in streams),
                "failed": sum(failures.values()),
                "failures": failures,
                "seconds": round(time.monotonic() - started, 2),
            }
        elif order["cmd"] == "status":
            answer = {"open": sum(s.open for s in streams)}
        elif order["cmd"] == "arm":
            for stream in streams:
                stream.event_at = None
            answer = {"armed": len(streams)}
        elif order["cmd"] == "collect":
            until = time.monotonic() + order.get("timeout", FANOUT_TIMEOUT)
            live = [s for s in streams if s.open]
            while time.monotonic() < until and any(s.event_at is None for s in live if s.open):
                await asyncio.sleep(0.005)
            times = sorted(s.event_at for s in live if s.event_at is not None)
            answer = {
                "received": len(times),
                "of": len(live),
                "first": times[0] if times else None,
                "median": statistics.median(times) if times else None,
                "last": times[-1] if times else None,
            }
        elif order["cmd"] in ("drop", "close"):
            for stream in streams:
                stream.writer.close()
            await asyncio.sleep(0.5)
            answer = {"closed": len(streams)}
            streams.clear()
        print(json.dumps(answer), flush=True)
        if order["cmd"] == "close":
            break
    for stream in streams:
        stream.writer.close()


def run_async(main) -> None:
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    asyncio.run(main)


# --- the orchestrator ----------------------------------------------------------------------------


def configure(workdir: Path) -> dict[str, str]:
    """Production settings for this process and the server's, STATIC_ROOT in `workdir`."""
    (workdir / "bench_dashboard_settings.py").write_text(
        '"""bench/dashboard.py: production settings, static files collected aside."""\n'
        "from missionos.settings import *  # noqa: F403\n\n"
        f"STATIC_ROOT = {str(workdir / 'static')!r}\n"
    )
    env = {
        "DJANGO_SETTINGS_MODULE": "bench_dashboard_settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "PYTHONPATH": os.pathsep.join([str(workdir), str(ROOT)]),
    }
    os.environ.update(env)
    sys.path[:0] = [str(workdir), str(ROOT)]
    return env


def build(user, size: int) -> dict:
    """The organization of `size` projects, built once (reused when the database has it)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from okrs.models import CheckIn, KeyResult, Project, Task
    from orgs.models import Membership, Organization, Role
    from tests.builders import build_organization

    slug = f"bench-{size}"
    organization = Organization.objects.filter(slug=slug).first()
    if organization is None:
        started = time.perf_counter()
        with transaction.atomic():
            organization = Organization.objects.create(name=f"Bench {size}", slug=slug)
            build_organization(organization, size)
            # The builder gives each key result four weekly check-ins: add the rest.
            now = timezone.now()
            key_results = KeyResult.objects.unscoped(include_archived=True).filter(
                organization=organization
            )
            CheckIn.objects.bulk_create(
                (
                    CheckIn(
                        organization=organization,
                        key_result_id=key_result_id,
                        value=week * 5,
                        confidence=5,
                        checked_in_at=now - datetime.timedelta(weeks=week),
                    )
                    for key_result_id in key_results.values_list("pk", flat=True)
                    for week in range(4, CHECKIN_WEEKS)
                ),
                batch_size=5_000,
            )
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # planner statistics, as autovacuum would
                cursor.execute("ANALYZE")
        print(f"{size} projects built in {time.perf_counter() - started:.1f}s", flush=True)
    Membership.objects.unscoped().get_or_create(
        user=user, organization=organization, defaults={"role": Role.OWNER}
    )
    return {
        "organization": organization,
        "projects": Project.objects.unscoped(include_archived=True)
        .filter(organization=organization)
        .count(),
        "tasks": Task.objects.unscoped(include_archived=True)
        .filter(organization=organization)
        .count(),
        "check_ins": CheckIn.objects.unscoped(include_archived=True)
        .filter(organization=organization)
        .count(),
    }


def session_for(user, organization) -> str:
    """The Cookie header of a browser logged in with `organization` already the one used last
    (no request writes): its session, and the CSRF cookie any page it loaded has set."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
    from django.utils.crypto import get_random_string

    from orgs.middleware import SESSION_ORG_KEY

    store = importlib.import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = user._meta.pk.value_to_string(user)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store[SESSION_ORG_KEY] = organization.pk
    store.create()
    csrf_secret = get_random_string(CSRF_SECRET_LENGTH, allowed_chars=CSRF_ALLOWED_CHARS)
    return (
        f"{settings.SESSION_COOKIE_NAME}={store.session_key}; "
        f"{settings.CSRF_COOKIE_NAME}={csrf_secret}"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """uvicorn in a subprocess, as production starts it."""

    def __init__(self, port: int, log_path: Path):
        self.port = port
        self.log_path = log_path
        self.command = [
            sys.executable,
            "-m",
            "uvicorn",
            "missionos.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(WORKERS),
            "--log-level",
            "warning",
        ]
        self.process: subprocess.Popen | None = None

    def start(self, probe_path: str) -> None:
        log = self.log_path.open("w")
        self.process = subprocess.Popen(
            self.command,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=raise_fd_limit,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.process.poll() is None:
            with contextlib.suppress(OSError, http.client.HTTPException):
                if Browser(self.port).get(probe_path)[0] == 200:
                    return
            time.sleep(0.2)
        self.stop()
        sys.exit(f"uvicorn did not answer {probe_path} with a 200:\n{self.log_tail()}")

    def stats(self) -> dict:
        pid = self.process.pid
        status = Path(f"/proc/{pid}/status").read_text().splitlines()
        fields = dict(line.split(":", 1) for line in status if ":" in line)
        return {
            "rss_mb": round(int(fields["VmRSS"].split()[0]) / 1024, 1),
            "threads": int(fields["Threads"]),
            "fds": len(os.listdir(f"/proc/{pid}/fd")),
            "cpu_s": self.cpu_seconds(),
        }

    def cpu_seconds(self) -> float:
        stat = Path(f"/proc/{self.process.pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2 :].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def log_tail(self) -> str:
        return self.log_path.read_text()[-2000:]

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Browser:
    """Sequential GETs on one keep-alive connection, reconnecting when the server closed it."""

    def __init__(self, port: int, cookie: str | None = None):
        self.port = port
        self.headers = dict(PROXY_HEADERS)
        if cookie:
            self.headers["Cookie"] = cookie
        self.connection: http.client.HTTPConnection | None = None

    def get(self, path: str) -> tuple[int | None, float]:
        for attempt in range(2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(
                    "127.0.0.1", self.port, timeout=HTTP_TIMEOUT
                )
            started = time.perf_counter()
            try:
                self.connection.request("GET", path, headers=self.headers)
                response = self.connection.getresponse()
                response.read()
                return response.status, (time.perf_counter() - started) * 1000
            except (OSError, http.client.HTTPException):
                self.connection.close()
                self.connection = None
                if attempt:
                    return None, (time.perf_counter() - started) * 1000
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


def forget_dashboards() -> None:
    """Drop every cached dashboard (okrs.selectors.cached_dashboard): the next GET computes."""
    import redis

    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    keys = list(client.scan_iter(match="*missionos:dashboard*", count=1000))
    if keys:
        client.delete(*keys)


def sample(
    port: int, cookie: str, path: str, requests: int, warmup: int = WARMUP, cold: bool = True
):
    """Sequential GETs on one keep-alive connection: the times of the 200s, and the rest.
    Cold: each request computes the dashboard (the cache is emptied before it), as after
    every plan change; warm: served from the computation cached by the first."""
    browser = Browser(port, cookie)
    for _ in range(warmup):
        browser.get(path)
    samples, errors = [], 0
    for _ in range(requests):
        if cold:
            forget_dashboards()
        status, ms = browser.get(path)
        if status == 200:
            samples.append(ms)
        else:
            errors += 1
    browser.close()
    return samples, errors


def latency(port: int, cookie: str, path: str, requests: int = REQUESTS, cold: bool = True) -> dict:
    return summary(*sample(port, cookie, path, requests, cold=cold))


WRK_SCRIPT = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) non200 = 0 end
function response(status, headers, body)
  if status ~= 200 then non200 = non200 + 1 end
end
function done(summary, latency, requests)
  local n = 0
  for _, thread in ipairs(threads) do n = n + thread:get("non200") end
  local e = summary.errors
  io.write(string.format("BENCH %d %d %d %d %d %d %d %d %d\\n", summary.requests,
    summary.duration, n, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(95)))
end
"""


def use_wrk() -> bool:
    return bool(shutil.which("wrk")) and os.environ.get("BENCH_LOAD_TOOL", "wrk") == "wrk"


def load(port: int, path: str, cookie: str | None, workdir: Path) -> dict:
    """One closed-loop load run: requests/s and errors."""
    if use_wrk():
        script = workdir / "count.lua"
        script.write_text(WRK_SCRIPT)
        command = ["wrk", "-t1", f"-c{LOAD_CONNECTIONS}", f"-d{LOAD_SECONDS}s", "--timeout", "10s"]
        command += ["-s", str(script), "-H", "X-Forwarded-Proto: https"]
        if cookie:
            command += ["-H", f"Cookie: {cookie}"]
        output = subprocess.run(
            [*command, f"http://127.0.0.1:{port}{path}"],
            capture_output=True,
            text=True,
            check=True,
            timeout=LOAD_SECONDS + 60,
        ).stdout
        line = next(x for x in output.splitlines() if x.startswith("BENCH "))
        requests, micros, non200, *socket_errors, p50, p95_us = map(int, line.split()[1:])
        figures = {
            "requests": requests,
            "seconds": micros / 1e6,
            "non200": non200,
            "socket_errors": sum(socket_errors),
            "median_ms": p50 / 1000,
            "p95_ms": p95_us / 1000,
        }
    else:
        arguments = [str(port), path, cookie or "", str(LOAD_CONNECTIONS), str(LOAD_SECONDS)]
        output = subprocess.run(
            [sys.executable, __file__, "_load", *arguments],
            capture_output=True,
            text=True,
            check=True,
            timeout=LOAD_SECONDS + 60,
        ).stdout
        figures = json.loads(output.strip().splitlines()[-1])
    return figures


def combine(runs: list[dict]) -> dict:
    requests = sum(r["requests"] for r in runs)
    seconds = sum(r["seconds"] for r in runs)
    return {
        "rps": round(requests / seconds, 1),
        "requests": requests,
        "seconds": round(seconds, 1),
        "errors": sum(r["non200"] + r["socket_errors"] for r in runs),
        "median_ms": round(statistics.median(r["median_ms"] for r in runs), 1),
        "p95_ms": round(max(r["p95_ms"] for r in runs), 1),
        "runs_rps": [round(r["requests"] / r["seconds"], 1) for r in runs],
    }


class StreamHolder:
    """The stream-holding client process, driven by JSON lines."""

    def __init__(self, port: int, path: str, cookie: str):
        self.process = subprocess.Popen(
            [sys.executable, __file__, "_streams", str(port), path, cookie],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            preexec_fn=raise_fd_limit,
        )

    def call(self, **order) -> dict:
        self.process.stdin.write(json.dumps(order) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the stream holder exited")
        return json.loads(line)

    def close(self) -> None:
        with contextlib.suppress(OSError, RuntimeError, ValueError):
            self.call(cmd="close")
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def fanout(holder: StreamHolder, organization_id: int) -> dict:
    """Publish one event; how long until every open stream had it."""
    from missionos import events

    holder.call(cmd="arm")
    published = time.monotonic()  # CLOCK_MONOTONIC: one clock for every process on Linux
    events.publish(organization_id, events.PLAN)
    got = holder.call(cmd="collect", timeout=FANOUT_TIMEOUT)
    return {
        "received": got["received"],
        "of": got["of"],
        "first_ms": round((got["first"] - published) * 1000, 1) if got["first"] else None,
        "median_ms": round((got["median"] - published) * 1000, 1) if got["median"] else None,
        "all_ms": round((got["last"] - published) * 1000, 1) if got["last"] else None,
    }


def service_connections(redis_url: str) -> dict:
    """Postgres connections to this database (less ours; all, and those busy in a query or
    transaction: the server's pool keeps some idle) and to the whole server (for the room
    left: it may be shared), and the clients of this Redis database (less ours)."""
    import redis
    from django.db import connection

    postgres = postgres_busy = postgres_all = 0
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FILTER (WHERE datname = current_database()"
                " AND pid <> pg_backend_pid()),"
                " count(*) FILTER (WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND state <> 'idle'), count(*)"
                " FROM pg_stat_activity WHERE backend_type = 'client backend'"
            )
            postgres, postgres_busy, postgres_all = cursor.fetchone()
    client = redis.Redis.from_url(redis_url)
    db = str(client.connection_pool.connection_kwargs.get("db", 0))
    clients = client.client_list()
    client.close()
    return {
        "postgres": postgres,
        "postgres_busy": postgres_busy,
        "postgres_server": postgres_all,
        "redis": sum(1 for c in clients if c.get("db") == db) - 1,
    }


def settle(server: Server, redis_url: str, idle_threads: int, timeout: float = 60.0) -> None:
    """Wait for requests a load run left in flight (wrk stops sending, the server goes on)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (
            server.stats()["threads"] <= idle_threads
            and service_connections(redis_url)["postgres_busy"] == 0
        ):
            break
        time.sleep(0.25)
    time.sleep(0.5)


def idle_cpu(server: Server, seconds: float = 5.0) -> float:
    before = server.cpu_seconds()
    time.sleep(seconds)
    return round((server.cpu_seconds() - before) / seconds * 100, 1)


def main() -> None:
    if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
        sys.exit("set DATABASE_URL (an empty throwaway database) and REDIS_URL")
    redis_url = os.environ["REDIS_URL"]
    workdir = Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
    configure(workdir)
    fd_limit = raise_fd_limit()

    import django

    django.setup()

    import redis
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.urls import NoReverseMatch, reverse

    from orgs.models import Organization

    call_command("migrate", verbosity=0)
    if Organization.objects.exclude(slug__in=[f"bench-{s}" for s in SIZES]).exists():
        sys.exit(
            "bench/dashboard.py needs an empty database: point DATABASE_URL at a throwaway one."
        )
    call_command("collectstatic", interactive=False, verbosity=0)
    engine = connection.vendor
    user, _ = get_user_model().objects.get_or_create(username="bench-dashboard")
    built = {size: build(user, size) for size in SIZES}
    small = built[SIZES[0]]["organization"]
    cookies = {size: session_for(user, built[size]["organization"]) for size in SIZES}
    dashboard = {
        size: reverse("org_home", args=[built[size]["organization"].slug]) for size in SIZES
    }
    events_path = reverse("org_events", args=[small.slug])
    try:
        trivial = reverse("health")
    except NoReverseMatch:
        trivial = reverse("login")  # anonymous GET: a form page, no database

    redis_client = redis.Redis.from_url(redis_url)
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_connections" if engine == "postgresql" else "SELECT 0")
        pg_max = int(cursor.fetchone()[0])
    machine = {
        "cores": os.cpu_count(),
        "load_before": os.getloadavg(),
        "fd_limit": list(fd_limit),
        "redis_maxclients": int(redis_client.config_get("maxclients")["maxclients"]),
        "postgres_max_connections": pg_max,
    }
    print(f"machine: {machine}", flush=True)

    server = Server(free_port(), workdir / "uvicorn.log")
    server.start(trivial)
    port = server.port
    # Idle, as after any request: the database pool's own threads are running by then.
    Browser(port, cookies[SIZES[0]]).get(dashboard[SIZES[0]])
    time.sleep(1)
    idle_threads = server.stats()["threads"]
    results: dict = {
        "database": engine,
        "machine": machine,
        "server": {
            "command": " ".join(server.command[1:]),
            "workers": WORKERS,
            "django_concurrency": settings.DJANGO_CONCURRENCY,
            "db_pool_max_size": settings.DATABASES["default"]
            .get("OPTIONS", {})
            .get("pool", {})
            .get("max_size"),
        },
        "sizes": {
            str(s): {k: v for k, v in built[s].items() if k != "organization"} for s in SIZES
        },
        "trivial_path": trivial,
    }
    holder = None
    try:
        # 1. Latency at 1× and 100×.
        results["latency"] = {str(s): latency(port, cookies[s], dashboard[s]) for s in SIZES}
        results["latency_cached"] = {
            str(s): latency(port, cookies[s], dashboard[s], cold=False) for s in SIZES
        }
        print(f"latency: {results['latency']}", flush=True)

        # 2. Throughput: the trivial view and the reference dashboard, alternating.
        # Also the login page (a small template, no database) for scale.
        runs: dict[str, list] = {"trivial": [], "login_page": [], "dashboard": []}
        for _ in range(LOAD_ROUNDS):
            runs["trivial"].append(load(port, trivial, None, workdir))
            settle(server, redis_url, idle_threads)
            runs["login_page"].append(load(port, reverse("login"), None, workdir))
            settle(server, redis_url, idle_threads)
            runs["dashboard"].append(load(port, dashboard[SIZES[0]], cookies[SIZES[0]], workdir))
            settle(server, redis_url, idle_threads)
        results["throughput"] = {
            "tool": "wrk" if use_wrk() else "asyncio (bench/dashboard.py _load)",
            "connections": LOAD_CONNECTIONS,
            "seconds_per_run": LOAD_SECONDS,
            "rounds": LOAD_ROUNDS,
            **{name: combine(r) for name, r in runs.items()},
        }
        print(f"throughput: {results['throughput']}", flush=True)

        # 3. Streams: what does each hold, then the dashboard with STREAMS open against none,
        # in alternating blocks (the machine's other load drifts; blocks spread it evenly).
        reference = (port, cookies[SIZES[0]], dashboard[SIZES[0]])
        baseline = {**server.stats(), **service_connections(redis_url)}
        holder = StreamHolder(port, events_path, cookies[SIZES[0]])
        probe = holder.call(cmd="open", total=min(10, STREAMS))
        probed = {**server.stats(), **service_connections(redis_url)}

        def per_stream_of(held: dict, count: int) -> dict:
            each = {
                key: round((held[key] - baseline[key]) / max(1, count), 2)
                for key in ("postgres", "redis", "fds", "threads")
            }
            each["rss_kb"] = round((held["rss_mb"] - baseline["rss_mb"]) * 1024 / max(1, count))
            return each

        per_stream = per_stream_of(probed, probe["open"])
        # Room left on the shared Postgres, less 20 for everyone else: never exhaust it.
        pg_room = pg_max - 3 - probed["postgres_server"] - 20  # 3: superuser_reserved
        stream_cap = 10**9
        if engine == "postgresql" and per_stream["postgres"] >= 0.5:
            stream_cap = probe["open"] + int(pg_room / per_stream["postgres"])
            print(
                f"each open stream holds {per_stream['postgres']} Postgres connection(s):"
                f" at most {stream_cap} streams (max_connections {pg_max},"
                f" {probed['postgres_server']} in use on the server)",
                flush=True,
            )
        holder.call(cmd="drop")
        wanted = min(STREAMS, stream_cap)
        blocks = 4
        per_block = math.ceil(REQUESTS / blocks)
        none, held, opened_runs, open_after, fanouts, stats = [], [], [], [], [], {}
        errors = {"none": 0, "open": 0}
        for block in range(blocks):
            samples, failed = sample(*reference, per_block, warmup=3)
            none += samples
            errors["none"] += failed
            opened_runs.append(holder.call(cmd="open", total=wanted))
            samples, failed = sample(*reference, per_block, warmup=3)
            held += samples
            errors["open"] += failed
            open_after.append(holder.call(cmd="status")["open"])
            fanouts.append(fanout(holder, small.pk))
            if block == 0:
                stats = {**server.stats(), **service_connections(redis_url)}
                stats["idle_cpu_percent"] = idle_cpu(server)
                per_stream = per_stream_of(stats, opened_runs[0]["open"])
            holder.call(cmd="drop")
        holder.close()
        holder = None
        results["streams"] = {
            "wanted": STREAMS,
            "opened": min(r["open"] for r in opened_runs),
            "failed": sum(r["failed"] for r in opened_runs),
            "failures": opened_runs[-1]["failures"],
            "open_after_latency_run": min(open_after),
            "blocks": blocks,
            "per_stream": per_stream,
            "latency_none": summary(none, errors["none"]),
            "latency_open": summary(held, errors["open"]),
            "fanout": max(fanouts, key=lambda f: f["all_ms"] or math.inf),
            "fanout_runs": fanouts,
            "baseline": baseline,
            "with_streams": stats,
        }
        print(f"streams: {results['streams']}", flush=True)

        # 4. How many streams one process holds: ramp up until something gives.
        fds_per_stream = max(1.0, per_stream["fds"])
        ladder = [s for s in STREAM_STEPS if s < stream_cap]
        if stream_cap < 10**9 and (not ladder or ladder[-1] < STREAM_STEPS[-1]):
            ladder.append(stream_cap)
        steps, stopped = [], "every step held"
        holder = StreamHolder(port, events_path, cookies[SIZES[0]])
        for step in ladder:
            room = {
                "the file-descriptor limit": int((fd_limit[0] - 100) / fds_per_stream),
                "Redis maxclients (less 500 for others)": machine["redis_maxclients"] - 500,
            }
            tight = [why for why, most in room.items() if step > most]
            if tight:
                stopped = f"stopped before {step}: {', '.join(tight)}"
                break
            opened = holder.call(cmd="open", total=step, timeout=60.0)
            check = latency(*reference, RAMP_REQUESTS)
            row = {
                "streams": step,
                "open": opened["open"],
                "failed": opened["failed"],
                "failures": opened["failures"],
                "open_seconds": opened["seconds"],
                "dashboard": check,
                "idle_cpu_percent": idle_cpu(server),
                "fanout": fanout(holder, small.pk),
                **server.stats(),
                **service_connections(redis_url),
            }
            steps.append(row)
            print(
                f"{step} streams: open {row['open']}, failed {row['failed']},"
                f" dashboard {check['median_ms']}/{check['p95_ms']} ms ({check['errors']} errors),"
                f" RSS {row['rss_mb']} MB, threads {row['threads']}, fds {row['fds']},"
                f" pg {row['postgres']}, redis {row['redis']},"
                f" idle CPU {row['idle_cpu_percent']}%, fan-out {row['fanout']['all_ms']} ms",
                flush=True,
            )
            if opened["failed"] or opened["open"] < step or check["errors"]:
                stopped = f"failures at {step} streams"
                break
        else:
            if stream_cap < 10**9:
                stopped = "capped: each stream holds a Postgres connection (see per_stream)"
        holder.close()
        holder = None
        good = [
            r
            for r in steps
            if not r["failed"] and r["open"] >= r["streams"] and not r["dashboard"]["errors"]
        ]
        results["capacity"] = {
            "steps": steps,
            "max_held": max((r["streams"] for r in good), default=0),
            "stopped": stopped,
        }
    finally:
        if holder is not None:
            holder.close()
        server.stop()
        machine["load_after"] = os.getloadavg()
        tail = server.log_tail()
        if tail.strip():
            print(f"\nuvicorn's log (tail):\n{tail}")
            results["server"]["log_tail"] = tail

    results["targets"] = targets(results)
    report(results)
    out = ROOT / "bench" / "results" / f"dashboard-{engine}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nsaved {out.relative_to(ROOT)}")
    shutil.rmtree(workdir, ignore_errors=True)


def targets(results: dict) -> dict:
    one, hundred = (results["latency"][str(s)] for s in SIZES)
    throughput = results["throughput"]
    streams = results["streams"]
    none, open_ = streams["latency_none"], streams["latency_open"]
    ratio = throughput["dashboard"]["rps"] / throughput["trivial"]["rps"]
    errors = throughput["dashboard"]["errors"] + throughput["trivial"]["errors"]
    slowdown = max(open_["median_ms"] / none["median_ms"], open_["p95_ms"] / none["p95_ms"])
    return {
        "p95 at 100× <= 3 × p95 at 1×": {
            "value": round(hundred["p95_ms"] / one["p95_ms"], 2),
            "pass": hundred["p95_ms"] <= 3 * one["p95_ms"]
            and not one["errors"] + hundred["errors"],
        },
        "dashboard >= 40% of the trivial view's requests/s": {
            "value": round(ratio, 3),
            "pass": ratio >= 0.40,
        },
        "for scale: dashboard / login page requests/s": {
            "value": round(throughput["dashboard"]["rps"] / throughput["login_page"]["rps"], 3),
            "pass": None,
        },
        "zero errors under load": {"value": errors, "pass": errors == 0},
        f"{STREAMS} streams all open": {
            "value": f"{streams['opened']} open, {streams['failed']} failed",
            "pass": streams["opened"] >= STREAMS and streams["open_after_latency_run"] >= STREAMS,
        },
        f"latency with {STREAMS} streams <= 1.5× none (median and p95)": {
            "value": round(slowdown, 2),
            "pass": slowdown <= 1.5 and not open_["errors"] and streams["opened"] >= STREAMS,
        },
        "event reaches every stream": {
            "value": f"{streams['fanout']['received']}/{streams['fanout']['of']}",
            "pass": streams["fanout"]["received"] == streams["fanout"]["of"] >= STREAMS,
        },
    }


def report(results: dict) -> None:
    one, hundred = (str(s) for s in SIZES)
    lat = results["latency"]
    tp = results["throughput"]
    st = results["streams"]
    print(f"\nDashboard served by uvicorn ({results['database']}), loopback, DEBUG=0:")
    for size in (one, hundred):
        s = results["sizes"][size]
        print(
            f"  {size} projects ({s['tasks']} tasks, {s['check_ins']} check-ins):"
            f" {lat[size]['median_ms']} / {lat[size]['p95_ms']} ms median / p95"
            f" ({lat[size]['requests']} requests, {lat[size]['errors']} errors); cached:"
            f" {results['latency_cached'][size]['median_ms']}"
            f" / {results['latency_cached'][size]['p95_ms']} ms"
        )
    print(
        f"  {tp['tool']}, {tp['connections']} connections,"
        f" {tp['rounds']} × {tp['seconds_per_run']} s:"
        f" trivial ({results['trivial_path']}) {tp['trivial']['rps']} req/s,"
        f" dashboard {tp['dashboard']['rps']} req/s, errors"
        f" {tp['trivial']['errors']} / {tp['dashboard']['errors']}"
    )
    print(
        f"  {STREAMS} streams: {st['opened']} open; dashboard"
        f" {st['latency_open']['median_ms']} / {st['latency_open']['p95_ms']} ms against"
        f" {st['latency_none']['median_ms']} / {st['latency_none']['p95_ms']} ms with none;"
        f" one event reached all {st['fanout']['received']} in {st['fanout']['all_ms']} ms"
    )
    cap = results["capacity"]
    print(f"  streams held by one process: {cap['max_held']} ({cap['stopped']})")
    print(
        f"  {'streams':>8} {'RSS MB':>8} {'threads':>8} {'fds':>6} {'pg':>4} {'dash p50/p95':>14}"
        f" {'fan-out':>9} {'idle CPU':>9}"
    )
    for r in cap["steps"]:
        d = r["dashboard"]
        print(
            f"  {r['open']:>8} {r['rss_mb']:>8} {r['threads']:>8} {r['fds']:>6} {r['postgres']:>4}"
            f" {str(d['median_ms']) + '/' + str(d['p95_ms']):>14}"
            f" {str(r['fanout']['all_ms']) + ' ms':>9} {str(r['idle_cpu_percent']) + '%':>9}"
        )
    print("\nTargets:")
    for name, target in results["targets"].items():
        mark = "info" if target["pass"] is None else "pass" if target["pass"] else "MISS"
        print(f"  {mark}  {name}: {target['value']}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_load":
        port, path, cookie, connections, seconds = sys.argv[2:7]
        run_async(load_main(int(port), path, cookie or None, int(connections), float(seconds)))
    elif len(sys.argv) > 1 and sys.argv[1] == "_streams":
        raise_fd_limit()
        port, path, cookie = sys.argv[2:5]
        run_async(streams_main(int(port), path, cookie, lifetime=3600))
    else:
        argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
        main()
