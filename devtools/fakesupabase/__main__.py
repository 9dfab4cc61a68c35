"""Serve a fake Supabase Auth until stopped.

    uv run python -m devtools.fakesupabase --port 54321 --user ada@example.org:s3cret-pass

Then run MissionOS with SUPABASE_URL=http://127.0.0.1:54321 SUPABASE_ANON_KEY=fake-anon-key.
Sent links and codes: ``curl -s localhost:54321/_control/mailbox`` (more in server.py).
"""

from __future__ import annotations

import argparse
import signal
import threading

from .server import FakeSupabaseAuth
from .tokens import MODES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.fakesupabase",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--port", type=int, default=54321, help="0 picks a free port")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--anon-key", default="fake-anon-key")
    parser.add_argument("--mode", choices=MODES, default="es256")
    parser.add_argument("--jwt-secret", default="", help="the HS256 secret (hs256 mode)")
    parser.add_argument("--site-url", default="http://127.0.0.1:8000")
    parser.add_argument(
        "--user", action="append", default=[], metavar="EMAIL:PASSWORD", help="a confirmed user"
    )
    args = parser.parse_args(argv)

    fake = FakeSupabaseAuth(
        anon_key=args.anon_key, mode=args.mode, jwt_secret=args.jwt_secret, site_url=args.site_url
    )
    for spec in args.user:
        email, _, password = spec.partition(":")
        fake.create_user(email, password or None)
    url = fake.start(port=args.port, host=args.host)
    print(f"fake Supabase Auth at {url} (anon key {args.anon_key!r}; Ctrl-C stops)", flush=True)
    print(f"mailbox: curl {url}/_control/mailbox", flush=True)

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
