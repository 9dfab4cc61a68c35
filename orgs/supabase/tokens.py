"""The access token Supabase hands back, verified on this server before anyone is signed in.

Signature: against the project's JWKS (ES256 or RS256, the key chosen by the token's `kid`; the
key set cached ten minutes and fetched again once when a token names a `kid` it lacks, as after
a key rotation), or the legacy shared HS256 secret when SUPABASE_JWT_SECRET is set (and only
then: HS256 is off the allow-list otherwise; `none` never is on it). Claims: `exp`, `nbf` and
`iat` not in the future, `aud` "authenticated", `iss` the project's `/auth/v1`, and `exp sub aud
iss role` all present, `role` "authenticated". A refusal is one log line with the reason, the
algorithm and the key id: never the token.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import jwt
from django.views.decorators.debug import sensitive_variables
from jwt import PyJWK, PyJWKClient

from orgs.supabase.config import SupabaseConfig
from orgs.supabase.errors import TokenRefused

logger = logging.getLogger("orgs.supabase")

ASYMMETRIC_ALGORITHMS = ("ES256", "RS256")
REQUIRED_CLAIMS = ["exp", "sub", "aud", "iss", "role"]
AUDIENCE = "authenticated"
LEEWAY_SECONDS = 10  # clock skew between Supabase and this server
JWKS_LIFESPAN_SECONDS = 600
# A kid that is still missing after a fresh fetch is not fetched for again this long, so that
# tokens with made-up kids cannot make every request fetch the key set.
MISSING_KID_SECONDS = 30

_lock = threading.Lock()
_jwks_clients: dict[str, PyJWKClient] = {}
_missing_kids: dict[tuple[str, str], float] = {}


def reset_jwks_cache() -> None:
    """Forget every fetched key set (tests; a changed SUPABASE_URL)."""
    with _lock:
        _jwks_clients.clear()
        _missing_kids.clear()


def _jwks_client(url: str) -> PyJWKClient:
    with _lock:
        client = _jwks_clients.get(url)
        if client is None:
            # cooldown 0: an unknown kid refetches at once (a rotation); _missing_kids bounds it.
            client = PyJWKClient(
                url, lifespan=JWKS_LIFESPAN_SECONDS, timeout=5, cooldown_duration=0
            )
            _jwks_clients[url] = client
        return client


def _signing_key(config: SupabaseConfig, kid: str, alg: str) -> PyJWK:
    key_id = (config.jwks_url, kid)
    with _lock:
        missing_since = _missing_kids.get(key_id)
    if missing_since is not None and time.monotonic() - missing_since < MISSING_KID_SECONDS:
        raise _refuse(
            "unknown_key", "it was signed with a key this project does not publish", alg, kid
        )
    try:
        key = _jwks_client(config.jwks_url).get_signing_key(kid)
    except jwt.PyJWKClientConnectionError as error:
        raise _refuse(
            "jwks_unreachable", "Supabase's signing keys could not be fetched", alg, kid
        ) from error
    except (jwt.PyJWKClientError, jwt.PyJWKSetError) as error:
        with _lock:
            _missing_kids[key_id] = time.monotonic()
        raise _refuse(
            "unknown_key", "it was signed with a key this project does not publish", alg, kid
        ) from error
    if key.algorithm_name != alg:
        raise _refuse("algorithm", f"its algorithm {alg} does not match its key", alg, kid)
    return key


def _refuse(code: str, reason: str, alg: object = None, kid: object = None) -> TokenRefused:
    logger.warning(
        "Supabase access token refused: %s (alg=%s, kid=%s)", code, alg or "-", kid or "-"
    )
    return TokenRefused(
        code, f"Sign-in refused: the token from Supabase could not be trusted ({reason})."
    )


@sensitive_variables("token", "key")
def verify_access_token(token: str, config: SupabaseConfig) -> dict[str, Any]:
    """-> the token's verified claims, or raise TokenRefused (logged once, without the token)."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise _refuse("malformed", "it is malformed") from error
    alg, kid = header.get("alg"), header.get("kid")
    if not isinstance(alg, str) or alg.lower() == "none":
        raise _refuse("unsigned", "it is not signed", alg, kid)
    if alg == "HS256":
        if not config.jwt_secret:
            raise _refuse("algorithm", "HS256 tokens are not accepted by this project", alg, kid)
        key: Any = config.jwt_secret
    elif alg in ASYMMETRIC_ALGORITHMS:
        if not isinstance(kid, str) or not kid:
            raise _refuse("no_kid", "it names no signing key", alg, kid)
        key = _signing_key(config, kid, alg).key
    else:
        raise _refuse("algorithm", f"the algorithm {alg} is not accepted", alg, kid)
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[alg],
            audience=AUDIENCE,
            issuer=config.issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.ExpiredSignatureError as error:
        raise _refuse("expired", "it has expired", alg, kid) from error
    except jwt.ImmatureSignatureError as error:
        raise _refuse("not_yet_valid", "it is not valid yet", alg, kid) from error
    except jwt.InvalidAudienceError as error:
        raise _refuse("audience", "it was issued for another audience", alg, kid) from error
    except jwt.InvalidIssuerError as error:
        raise _refuse("issuer", "it was issued by another project", alg, kid) from error
    except jwt.InvalidSignatureError as error:
        raise _refuse("signature", "its signature does not match", alg, kid) from error
    except jwt.MissingRequiredClaimError as error:
        raise _refuse("claims", f"it has no {error.claim} claim", alg, kid) from error
    except jwt.PyJWTError as error:
        raise _refuse("invalid", "it is invalid", alg, kid) from error
    if claims.get("role") != AUDIENCE:
        raise _refuse("role", "it is not a signed-in user's", alg, kid)
    return claims
