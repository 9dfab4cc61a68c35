"""A fake Supabase Auth (GoTrue) server for tests, the demo and local runs (standard library
HTTP, PyJWT for the tokens; no Django, no product code).

The real supabase-py client talks to it unmodified: ``create_client(fake.url, fake.anon_key)``.
See ``server.py`` for the routes, the error shapes and the control API, ``tokens.py`` for the
signing keys, rotation and the bad tokens it issues on request.
``python -m devtools.fakesupabase --help`` serves one.
"""

from .server import FakeSupabaseAuth, FakeUser, LoggedRequest, Mail
from .tokens import BAD_TOKEN_KINDS, MODES, Signer

__all__ = [
    "BAD_TOKEN_KINDS",
    "MODES",
    "FakeSupabaseAuth",
    "FakeUser",
    "LoggedRequest",
    "Mail",
    "Signer",
]
