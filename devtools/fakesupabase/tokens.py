"""The fake's signing keys and the access tokens it issues, good and deliberately bad.

Supabase signs access tokens with an asymmetric key (ES256, a ``kid`` in the header, the public
half published at ``/auth/v1/.well-known/jwks.json``) or, on older projects, with the project's
shared HS256 secret. `Signer` does both, rotates keys (a new ``kid``; the old public key stays
published until dropped) and, for tests, spoils the next token in one of `BAD_TOKEN_KINDS`.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

# What `Signer.spoil_next(kind)` can do to the next access token issued:
BAD_TOKEN_KINDS = (
    "alg_none",  # header alg "none", no signature
    "wrong_key",  # signed with a key that is not the project's (same kid / another secret)
    "unknown_kid",  # signed with a key whose kid the JWKS never lists
    "expired",  # exp in the past
    "not_yet_valid",  # iat and nbf an hour ahead
    "wrong_audience",  # aud is not "authenticated"
    "wrong_issuer",  # iss is another project's
    "tampered",  # signed, then the payload changed (another sub, role service_role)
    "hs256_with_anon_key",  # HS256 signed with the public anon key (algorithm confusion)
    "missing_role",  # no role claim
)
MODES = ("es256", "hs256")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class SigningKey:
    kid: str
    private: ec.EllipticCurvePrivateKey
    created_at: float = field(default_factory=time.time)

    def public_jwk(self) -> dict[str, Any]:
        jwk = json.loads(ECAlgorithm.to_jwk(self.private.public_key()))
        return {**jwk, "kid": self.kid, "alg": "ES256", "use": "sig", "key_ops": ["verify"]}


def new_key() -> SigningKey:
    return SigningKey(kid=secrets.token_hex(8), private=ec.generate_private_key(ec.SECP256R1()))


class Signer:
    """Issues and checks the fake project's access tokens."""

    def __init__(self, *, issuer: str, anon_key: str, mode: str = "es256", jwt_secret: str = ""):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        self.issuer = issuer
        self.anon_key = anon_key
        self.mode = mode
        self.jwt_secret = jwt_secret or secrets.token_urlsafe(32)
        self.current = new_key()
        self.published: list[SigningKey] = [self.current]  # newest first
        self._spoil: list[str] = []
        self._lock = threading.Lock()

    # -- keys -----------------------------------------------------------------------------------

    def jwks(self) -> dict[str, Any]:
        """The public keys, as /auth/v1/.well-known/jwks.json serves them (none in HS256 mode:
        a shared secret is never published)."""
        with self._lock:
            if self.mode == "hs256":
                return {"keys": []}
            return {"keys": [key.public_jwk() for key in self.published]}

    def rotate(self, *, keep_old: bool = True) -> str:
        """Sign with a new key from now on. -> its kid. The old public key stays in the JWKS
        (tokens it signed still verify) unless `keep_old` is False."""
        with self._lock:
            self.current = new_key()
            self.published = [self.current, *(self.published if keep_old else [])]
            return self.current.kid

    def drop_old_keys(self) -> None:
        with self._lock:
            self.published = [self.current]

    def set_mode(self, mode: str, *, jwt_secret: str | None = None) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        with self._lock:
            self.mode = mode
            if jwt_secret is not None:
                self.jwt_secret = jwt_secret

    # -- spoiling -------------------------------------------------------------------------------

    def spoil_next(self, kind: str) -> None:
        """The next access token issued is bad in this way (see BAD_TOKEN_KINDS)."""
        if kind not in BAD_TOKEN_KINDS:
            raise ValueError(f"kind must be one of {BAD_TOKEN_KINDS}")
        with self._lock:
            self._spoil.append(kind)

    def _take_spoil(self) -> str | None:
        with self._lock:
            return self._spoil.pop(0) if self._spoil else None

    # -- issuing and checking -------------------------------------------------------------------

    def issue(self, claims: dict[str, Any]) -> str:
        """Sign `claims` (exp, iat, sub, … already set), spoiled if one was asked for."""
        kind = self._take_spoil()
        claims = dict(claims)
        now = int(time.time())
        if kind == "expired":
            claims.update(iat=now - 7200, exp=now - 3600)
        elif kind == "not_yet_valid":
            claims.update(iat=now + 3600, nbf=now + 3600, exp=now + 7200)
        elif kind == "wrong_audience":
            claims["aud"] = "someone-else"
        elif kind == "wrong_issuer":
            claims["iss"] = "https://another-project.supabase.co/auth/v1"
        elif kind == "missing_role":
            claims.pop("role", None)
        if kind == "alg_none":
            header = b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
            return f"{header}.{b64url(json.dumps(claims).encode())}."
        if kind == "hs256_with_anon_key":
            return jwt.encode(claims, self.anon_key, algorithm="HS256", headers=self._kid_header())
        if kind == "wrong_key":
            if self.mode == "hs256":
                return jwt.encode(claims, secrets.token_urlsafe(32), algorithm="HS256")
            return jwt.encode(
                claims, new_key().private, algorithm="ES256", headers=self._kid_header()
            )
        if kind == "unknown_kid":
            stray = new_key()
            return jwt.encode(claims, stray.private, algorithm="ES256", headers={"kid": stray.kid})
        token = self._sign(claims)
        if kind == "tampered":
            header, _, signature = token.split(".")
            forged = {**claims, "sub": "00000000-0000-4000-8000-000000000000"}
            forged["role"] = "service_role"
            return f"{header}.{b64url(json.dumps(forged).encode())}.{signature}"
        return token

    def _kid_header(self) -> dict[str, str]:
        return {"kid": self.current.kid}

    def _sign(self, claims: dict[str, Any]) -> str:
        with self._lock:
            mode, key, secret = self.mode, self.current, self.jwt_secret
        if mode == "hs256":
            return jwt.encode(claims, secret, algorithm="HS256")
        return jwt.encode(claims, key.private, algorithm="ES256", headers={"kid": key.kid})

    def check(self, token: str) -> dict[str, Any]:
        """Verify a token as GoTrue does for /user and /logout. Raises jwt.PyJWTError."""
        header = jwt.get_unverified_header(token)
        options = {"require": ["exp", "sub", "aud", "iss", "role"]}
        common = {"audience": "authenticated", "issuer": self.issuer, "options": options}
        with self._lock:
            mode, keys, secret = self.mode, list(self.published), self.jwt_secret
        if mode == "hs256" or header.get("alg") == "HS256":
            if mode != "hs256":
                raise jwt.InvalidAlgorithmError("HS256 is not accepted")
            return jwt.decode(token, secret, algorithms=["HS256"], **common)
        key = next((k for k in keys if k.kid == header.get("kid")), None)
        if key is None:
            raise jwt.InvalidKeyError("unknown kid")
        return jwt.decode(token, key.private.public_key(), algorithms=["ES256"], **common)
