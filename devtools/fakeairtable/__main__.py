"""Serve JSON bases (see model.py for the fixture format) on a fake Airtable until stopped.

    uv run python -m devtools.fakeairtable --port 8765 --base demo.json --token patDEMO

Each token gets access to every base loaded, with every scope (reads, writes, schema,
webhooks) unless --scopes says otherwise; --no-rate-limit lifts the 5 requests/s limit.
Point a client at it: ``pyairtable.Api("patDEMO", endpoint_url="http://127.0.0.1:8765")``.
Writes and webhooks work as on Airtable (webhook expiry on the wall clock); edit records as a
person would through the control API (``curl localhost:8765/_control/bases``; routes and
examples in server.py).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from .model import ALL_SCOPES, PERMISSION_LEVELS
from .server import FakeAirtable


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.fakeairtable",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--base", action="append", required=True, metavar="FILE.json")
    parser.add_argument("--token", action="append", required=True, metavar="TOKEN")
    parser.add_argument("--no-rate-limit", action="store_true", help="no 5 requests/s limit")
    parser.add_argument("--lockout-seconds", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--scopes",
        help="comma-separated token scopes (default: all of " + ", ".join(sorted(ALL_SCOPES)) + ")",
    )
    parser.add_argument(
        "--permission-level",
        choices=PERMISSION_LEVELS,
        help="each base's permission level (default: the fixture's, else create)",
    )
    args = parser.parse_args(argv)

    fake = FakeAirtable(
        rate_limit=None if args.no_rate_limit else 5.0,
        lockout_seconds=args.lockout_seconds,
        seed=args.seed,
    )
    if args.scopes is not None:
        for token in args.token:
            fake.set_token_scopes(token, [s.strip() for s in args.scopes.split(",") if s.strip()])
    for path in args.base:
        base = fake.load_base(path, tokens=args.token)
        if args.permission_level:
            base.permission_level = args.permission_level
        counts = ", ".join(f"{t.name} ({len(t)})" for t in base.tables)
        print(f"{base.id} {base.name!r}: {counts}", flush=True)
    url = fake.start(port=args.port, host=args.host)
    print(f"fake Airtable at {url} (Ctrl-C stops)", flush=True)
    print(f"control API: curl {url}/_control/bases", flush=True)

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
