"""A fake Supabase Auth (GoTrue) server over real HTTP, for tests, the demo and local runs.

    fake = FakeSupabaseAuth(anon_key="anon-key")           # ES256 tokens with a kid
    fake.create_user("ada@example.org", "s3cret-pass")     # confirmed unless confirmed=False
    with fake:                                             # or fake.start() / fake.stop()
        client = supabase.create_client(fake.url, "anon-key", ClientOptions(...))
        client.auth.sign_in_with_password({"email": ..., "password": ...})

The real supabase-py client works against it unmodified. Routes, under ``/auth/v1``
(every one but the JWKS and the mailed links' ``GET /verify`` needs the ``apikey`` header, as
Supabase's gateway does: 401 without it):

- ``POST /token?grant_type=password|pkce|refresh_token``: a session, or 400
  ``invalid_credentials`` / ``email_not_confirmed`` / ``refresh_token_not_found`` /
  ``refresh_token_already_used``; PKCE: 400 ``validation_failed``, 404 ``flow_state_not_found``,
  422 ``flow_state_expired``, 403 ``bad_code_verifier``
- ``POST /signup``: an unconfirmed user and a "signup" mail (a session at once when
  ``autoconfirm``); 422 ``weak_password`` (under 6 characters), 400 ``validation_failed``; an
  address already taken answers a user-shaped body and sends nothing, as GoTrue does
- ``POST /otp``: a "magiclink" mail (link and 6-digit code); a new address gets a user and a
  "signup" mail, or 422 ``otp_disabled`` with ``create_user`` false
- ``POST /verify``: ``{type, email, token}`` or ``{type, token_hash}`` -> a session; 403
  ``otp_expired`` for a wrong, used or expired code
- ``GET /verify?token=&type=&redirect_to=``: what a mailed link opens: 303 to ``redirect_to``
  with ``?code=`` (PKCE) or ``#access_token=…`` (implicit), or with ``error``/``error_code``/
  ``error_description`` in the query
- ``GET /user``, ``PUT /user`` (password, data, email): 401 ``no_authorization``, 403
  ``bad_jwt``, 403 ``session_not_found``, 422 ``same_password`` / ``weak_password``
- ``POST /recover``: a "recovery" mail when the address is known; 200 ``{}`` either way
- ``POST /logout?scope=global|local|others``: 204
- ``GET /.well-known/jwks.json``: the published public keys (empty in HS256 mode)

Errors are GoTrue's: ``{"code": "<error code>", "message": …}`` for clients that send
``X-Supabase-Api-Version: 2024-01-01`` (supabase-py does), else ``{"code": <status>,
"error_code": …, "msg": …}``; every answer carries ``X-Supabase-Api-Version``.

Control API (no apikey), for tests and people: ``GET /_control/mailbox`` (``?to=``), ``GET
/_control/users``, ``POST /_control/users`` ``{"email", "password", "confirmed"}``, ``POST
/_control/rotate`` ``{"keep_old": true}``, ``POST /_control/spoil`` ``{"kind": "expired"}``
(one of tokens.BAD_TOKEN_KINDS), ``POST /_control/mode`` ``{"mode": "hs256", "jwt_secret"}``,
``POST /_control/expire-mail``. The same as Python methods on `FakeSupabaseAuth`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import socketserver
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple

import jwt

from .tokens import Signer

API_VERSION = "2024-01-01"
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Which mailed code a verify type accepts (an "email" code is any sign-in code).
VERIFY_TYPES = {
    "magiclink": {"magiclink", "signup"},
    "email": {"magiclink", "signup"},
    "signup": {"signup"},
    "recovery": {"recovery"},
    "invite": {"invite"},
}


def _valid_email(body: dict[str, Any]) -> str:
    """The request's email, as GoTrue reads it, or its 400 for one that is not an address."""
    email = str(body.get("email") or "").strip().lower()
    if not EMAIL_RE.match(email):
        raise ApiError(400, "validation_failed", "Unable to validate email address: invalid format")
    return email


def iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z")


def pkce_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, **extra: Any):
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


@dataclass
class FakeUser:
    id: str
    email: str
    password: str | None
    email_confirmed_at: float | None = None
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)
    last_sign_in_at: float | None = None
    confirmation_sent_at: float | None = None
    recovery_sent_at: float | None = None
    user_metadata: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        identity_time = iso(self.created_at)
        return {
            "id": self.id,
            "aud": "authenticated",
            "role": "authenticated",
            "email": self.email,
            "email_confirmed_at": iso(self.email_confirmed_at),
            "phone": "",
            "confirmation_sent_at": iso(self.confirmation_sent_at),
            "recovery_sent_at": iso(self.recovery_sent_at),
            "confirmed_at": iso(self.email_confirmed_at),
            "last_sign_in_at": iso(self.last_sign_in_at),
            "app_metadata": {"provider": "email", "providers": ["email"]},
            "user_metadata": {
                **self.user_metadata,
                "email": self.email,
                "email_verified": self.email_confirmed_at is not None,
                "phone_verified": False,
                "sub": self.id,
            },
            "identities": [
                {
                    "identity_id": str(uuid.uuid5(uuid.NAMESPACE_URL, self.id)),
                    "id": self.id,
                    "user_id": self.id,
                    "identity_data": {"email": self.email, "sub": self.id},
                    "provider": "email",
                    "last_sign_in_at": identity_time,
                    "created_at": identity_time,
                    "updated_at": identity_time,
                    "email": self.email,
                }
            ],
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "is_anonymous": False,
        }


@dataclass
class Mail:
    """A message the fake "sent": a confirmation, sign-in or recovery link and its code."""

    to: str
    kind: str  # "signup", "magiclink", "recovery"
    code: str  # the 6-digit one-time code ({{ .Token }})
    token_hash: str  # {{ .TokenHash }}
    link: str  # {{ .ConfirmationURL }}
    redirect_to: str | None
    sent_at: float = field(default_factory=time.time)

    def as_json(self) -> dict[str, Any]:
        return {
            "to": self.to,
            "kind": self.kind,
            "code": self.code,
            "token_hash": self.token_hash,
            "link": self.link,
            "redirect_to": self.redirect_to,
            "sent_at": iso(self.sent_at),
        }


@dataclass
class _Otp:
    user_id: str
    kind: str
    code: str
    token_hash: str
    created: float
    flow_id: str | None = None
    used: bool = False


@dataclass
class _Flow:
    """A PKCE flow state: the challenge sent with the request, the code handed back."""

    id: str
    user_id: str
    challenge: str
    method: str
    kind: str
    created: float
    auth_code: str | None = None
    used: bool = False


class LoggedRequest(NamedTuple):
    method: str
    path: str
    status: int


@dataclass
class _Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


class FakeSupabaseAuth:
    """Supabase Auth in memory, served on 127.0.0.1 (see the module docstring)."""

    def __init__(
        self,
        *,
        anon_key: str = "fake-anon-key",
        mode: str = "es256",
        jwt_secret: str = "",
        token_ttl: int = 3600,
        otp_ttl: float = 3600.0,
        flow_ttl: float = 300.0,
        autoconfirm: bool = False,
        site_url: str = "http://127.0.0.1:8000",
    ):
        self.anon_key = anon_key
        self.token_ttl = token_ttl
        self.otp_ttl = otp_ttl
        self.flow_ttl = flow_ttl
        self.autoconfirm = autoconfirm
        self.site_url = site_url
        self.url: str | None = None
        self.signer = Signer(issuer="", anon_key=anon_key, mode=mode, jwt_secret=jwt_secret)
        self.users: dict[str, FakeUser] = {}
        self.mailbox: list[Mail] = []
        self.requests: list[LoggedRequest] = []
        self._sessions: dict[str, str] = {}  # session id -> user id
        self._refresh: dict[str, tuple[str, bool]] = {}  # token -> (session id, used)
        self._otps: list[_Otp] = []
        self._flows: dict[str, _Flow] = {}
        self._lock = threading.RLock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self, port: int = 0, host: str = "127.0.0.1") -> str:
        """Serve on a daemon thread. -> the project URL (what SUPABASE_URL is set to)."""
        if self._server is not None:
            raise RuntimeError("already started")
        self._server = _Server((host, port), _Handler, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fakesupabase:{self._server.server_address[1]}",
            daemon=True,
        )
        self._thread.start()
        self.url = f"http://{host}:{self._server.server_address[1]}"
        self.signer.issuer = self.issuer
        return self.url

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None
        self.url = None

    def __enter__(self) -> FakeSupabaseAuth:
        if self._server is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def issuer(self) -> str:
        return f"{self.url}/auth/v1"

    @property
    def jwks_url(self) -> str:
        return f"{self.url}/auth/v1/.well-known/jwks.json"

    # -- control ------------------------------------------------------------------------------

    def create_user(
        self,
        email: str,
        password: str | None = None,
        *,
        confirmed: bool = True,
        user_id: str | None = None,
        user_metadata: dict[str, Any] | None = None,
    ) -> FakeUser:
        with self._lock:
            if self.find_user(email) is not None:
                raise ValueError(f"{email} is already a user")
            user = FakeUser(
                id=user_id or str(uuid.uuid4()),
                email=email.lower(),
                password=password,
                email_confirmed_at=time.time() if confirmed else None,
                user_metadata=dict(user_metadata or {}),
            )
            self.users[user.id] = user
            return user

    def find_user(self, email: str) -> FakeUser | None:
        with self._lock:
            return next((u for u in self.users.values() if u.email == email.lower()), None)

    def mail_to(self, email: str, kind: str | None = None) -> list[Mail]:
        with self._lock:
            return [
                m
                for m in self.mailbox
                if m.to == email.lower() and (kind is None or m.kind == kind)
            ]

    def last_mail(self, email: str, kind: str | None = None) -> Mail:
        mails = self.mail_to(email, kind)
        if not mails:
            raise LookupError(f"no {kind or ''} mail to {email}".replace("  ", " "))
        return mails[-1]

    def rotate_keys(self, *, keep_old: bool = True) -> str:
        return self.signer.rotate(keep_old=keep_old)

    def drop_old_keys(self) -> None:
        self.signer.drop_old_keys()

    def set_mode(self, mode: str, *, jwt_secret: str | None = None) -> None:
        self.signer.set_mode(mode, jwt_secret=jwt_secret)

    def spoil_next_token(self, kind: str) -> None:
        """The next access token issued is bad in this way (tokens.BAD_TOKEN_KINDS)."""
        self.signer.spoil_next(kind)

    def expire_mail(self) -> None:
        """Every code and link sent so far has expired."""
        with self._lock:
            for otp in self._otps:
                otp.created -= self.otp_ttl + 1

    def request_count(self, path_suffix: str) -> int:
        with self._lock:
            return sum(1 for r in self.requests if r.path.endswith(path_suffix))

    # -- the model ----------------------------------------------------------------------------

    def _session(self, user: FakeUser, method: str) -> dict[str, Any]:
        now = int(time.time())
        session_id = str(uuid.uuid4())
        refresh = secrets.token_urlsafe(9)
        with self._lock:
            self._sessions[session_id] = user.id
            self._refresh[refresh] = (session_id, False)
            user.last_sign_in_at = now
        return self._session_json(user, session_id, refresh, method)

    def _session_json(
        self, user: FakeUser, session_id: str, refresh: str, method: str
    ) -> dict[str, Any]:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": user.id,
            "aud": "authenticated",
            "exp": now + self.token_ttl,
            "iat": now,
            "email": user.email,
            "phone": "",
            "app_metadata": {"provider": "email", "providers": ["email"]},
            "user_metadata": user.as_json()["user_metadata"],
            "role": "authenticated",
            "aal": "aal1",
            "amr": [{"method": method, "timestamp": now}],
            "session_id": session_id,
            "is_anonymous": False,
        }
        return {
            "access_token": self.signer.issue(claims),
            "token_type": "bearer",
            "expires_in": self.token_ttl,
            "expires_at": now + self.token_ttl,
            "refresh_token": refresh,
            "user": user.as_json(),
        }

    def _send(self, user: FakeUser, kind: str, redirect_to: str | None, body: dict) -> None:
        """Mail a code and link; with a PKCE challenge in `body`, start a flow state."""
        code = f"{secrets.randbelow(10**6):06d}"
        token_hash = hashlib.sha224(f"{user.email}{code}".encode()).hexdigest()
        flow_id = None
        if body.get("code_challenge"):
            method = str(body.get("code_challenge_method") or "s256").lower()
            if method not in {"s256", "plain"}:
                raise ApiError(400, "validation_failed", "Invalid code_challenge_method")
            flow_id = str(uuid.uuid4())
            self._flows[flow_id] = _Flow(
                id=flow_id,
                user_id=user.id,
                challenge=str(body["code_challenge"]),
                method=method,
                kind=kind,
                created=time.time(),
            )
        link_token = f"pkce_{token_hash}" if flow_id else token_hash
        query = {"token": link_token, "type": kind, "redirect_to": redirect_to or self.site_url}
        link = f"{self.issuer}/verify?{urllib.parse.urlencode(query)}"
        with self._lock:
            self._otps.append(_Otp(user.id, kind, code, token_hash, time.time(), flow_id))
            self.mailbox.append(Mail(user.email, kind, code, token_hash, link, redirect_to))
            if kind == "recovery":
                user.recovery_sent_at = time.time()
            else:
                user.confirmation_sent_at = time.time()

    def _take_otp(
        self, verify_type: str, *, email: str | None, code: str | None, token_hash: str | None
    ) -> _Otp:
        kinds = VERIFY_TYPES.get(verify_type)
        if kinds is None:
            raise ApiError(400, "validation_failed", "Verify requires a verification type")
        if token_hash and token_hash.startswith("pkce_"):
            token_hash = token_hash[len("pkce_") :]
        now = time.time()
        with self._lock:
            for otp in reversed(self._otps):
                user = self.users.get(otp.user_id)
                if otp.used or otp.kind not in kinds or user is None:
                    continue
                matches = (
                    token_hash == otp.token_hash
                    if token_hash
                    else (email or "").lower() == user.email and code == otp.code
                )
                if not matches:
                    continue
                if now - otp.created > self.otp_ttl:
                    break
                otp.used = True
                if user.email_confirmed_at is None:
                    user.email_confirmed_at = now
                return otp
        raise ApiError(403, "otp_expired", "Token has expired or is invalid")

    def _user_from_bearer(self, headers: Any) -> tuple[FakeUser, dict[str, Any]]:
        authorization = headers.get("Authorization") or ""
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token or token == self.anon_key:
            raise ApiError(401, "no_authorization", "This endpoint requires a valid Bearer token")
        try:
            claims = self.signer.check(token)
        except jwt.ExpiredSignatureError as error:
            raise ApiError(
                403,
                "bad_jwt",
                "invalid JWT: unable to parse or verify signature, token has invalid claims: "
                "token is expired",
            ) from error
        except jwt.PyJWTError as error:
            raise ApiError(
                403, "bad_jwt", "invalid JWT: unable to parse or verify signature, " + str(error)
            ) from error
        with self._lock:
            session_id = claims.get("session_id")
            if session_id and session_id not in self._sessions:
                raise ApiError(
                    403, "session_not_found", "Session from session_id claim in JWT does not exist"
                )
            user = self.users.get(claims["sub"])
        if user is None:
            raise ApiError(403, "user_not_found", "User from sub claim in JWT does not exist")
        return user, claims

    # -- the routes ---------------------------------------------------------------------------

    def _token(self, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        grant = query.get("grant_type")
        if grant == "password":
            user = self.find_user(str(body.get("email") or ""))
            if user is None or user.password is None or user.password != body.get("password"):
                raise ApiError(400, "invalid_credentials", "Invalid login credentials")
            if user.email_confirmed_at is None:
                raise ApiError(400, "email_not_confirmed", "Email not confirmed")
            return self._session(user, "password")
        if grant == "refresh_token":
            token = str(body.get("refresh_token") or "")
            with self._lock:
                entry = self._refresh.get(token)
                if entry is None or entry[0] not in self._sessions:
                    raise ApiError(
                        400,
                        "refresh_token_not_found",
                        "Invalid Refresh Token: Refresh Token Not Found",
                    )
                session_id, used = entry
                if used:
                    raise ApiError(
                        400, "refresh_token_already_used", "Invalid Refresh Token: Already Used"
                    )
                self._refresh[token] = (session_id, True)
                fresh = secrets.token_urlsafe(9)
                self._refresh[fresh] = (session_id, False)
                user = self.users[self._sessions[session_id]]
            return self._session_json(user, session_id, fresh, "token_refresh")
        if grant == "pkce":
            auth_code, verifier = body.get("auth_code"), body.get("code_verifier")
            if not auth_code or not verifier:
                raise ApiError(
                    400,
                    "validation_failed",
                    "invalid request: both auth code and code verifier should be non-empty",
                )
            with self._lock:
                flow = next(
                    (f for f in self._flows.values() if f.auth_code == auth_code and not f.used),
                    None,
                )
                if flow is None:
                    raise ApiError(
                        404,
                        "flow_state_not_found",
                        "invalid flow state, no valid flow state found",
                    )
                if time.time() - flow.created > self.flow_ttl:
                    raise ApiError(
                        422, "flow_state_expired", "invalid flow state, flow state has expired"
                    )
                expected = verifier if flow.method == "plain" else pkce_challenge(str(verifier))
                if not secrets.compare_digest(expected, flow.challenge):
                    raise ApiError(
                        403,
                        "bad_code_verifier",
                        "code challenge does not match previously saved code verifier",
                    )
                flow.used = True
                user = self.users[flow.user_id]
            return self._session(user, {"recovery": "recovery"}.get(flow.kind, "otp"))
        raise ApiError(400, "unsupported_grant_type", "unsupported_grant_type")

    def _signup(self, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        email = _valid_email(body)
        password = str(body.get("password") or "")
        if len(password) < 6:
            raise ApiError(
                422,
                "weak_password",
                "Password should be at least 6 characters.",
                weak_password={"reasons": ["length"]},
            )
        existing = self.find_user(email)
        if existing is not None and existing.email_confirmed_at is not None:
            # GoTrue does not tell who has an account: a user-shaped body, nothing sent.
            return {
                **FakeUser(id=str(uuid.uuid4()), email=email, password=None).as_json(),
                "identities": [],
            }
        user = existing or self.create_user(
            email, password, confirmed=self.autoconfirm, user_metadata=body.get("data") or {}
        )
        if existing is not None:
            user.password = password
        if self.autoconfirm:
            return self._session(user, "password")
        self._send(user, "signup", query.get("redirect_to"), body)
        return user.as_json()

    def _otp(self, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        email = _valid_email(body)
        user = self.find_user(email)
        if user is None:
            if body.get("create_user") is False:
                raise ApiError(422, "otp_disabled", "Signups not allowed for otp")
            user = self.create_user(email, confirmed=False, user_metadata=body.get("data") or {})
        kind = "magiclink" if user.email_confirmed_at is not None else "signup"
        self._send(user, kind, query.get("redirect_to"), body)
        return {}

    def _recover(self, query: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        email = _valid_email(body)
        user = self.find_user(email)
        if user is not None:
            self._send(user, "recovery", query.get("redirect_to"), body)
        return {}

    def _verify_post(self, body: dict[str, Any]) -> dict[str, Any]:
        otp = self._take_otp(
            str(body.get("type") or ""),
            email=body.get("email"),
            code=body.get("token"),
            token_hash=body.get("token_hash"),
        )
        method = "recovery" if otp.kind == "recovery" else "otp"
        return self._session(self.users[otp.user_id], method)

    def _verify_get(self, query: dict[str, str]) -> _Response:
        redirect_to = query.get("redirect_to") or self.site_url
        try:
            otp = self._take_otp(
                query.get("type", ""), email=None, code=None, token_hash=query.get("token")
            )
        except ApiError as error:
            params = {
                "error": "access_denied",
                "error_code": error.code,
                "error_description": "Email link is invalid or has expired",
            }
            return _Response(303, headers={"Location": _add_query(redirect_to, params)})
        with self._lock:
            flow = self._flows.get(otp.flow_id) if otp.flow_id else None
            if flow is not None:
                flow.auth_code = str(uuid.uuid4())
                return _Response(
                    303, headers={"Location": _add_query(redirect_to, {"code": flow.auth_code})}
                )
        session = self._session(self.users[otp.user_id], "otp")
        fragment = urllib.parse.urlencode(
            {
                "access_token": session["access_token"],
                "expires_at": session["expires_at"],
                "expires_in": session["expires_in"],
                "refresh_token": session["refresh_token"],
                "token_type": "bearer",
                "type": otp.kind,
            }
        )
        return _Response(303, headers={"Location": f"{redirect_to}#{fragment}"})

    def _put_user(self, headers: Any, body: dict[str, Any]) -> dict[str, Any]:
        user, _ = self._user_from_bearer(headers)
        with self._lock:
            if "password" in body:
                password = str(body["password"] or "")
                if len(password) < 6:
                    raise ApiError(
                        422,
                        "weak_password",
                        "Password should be at least 6 characters.",
                        weak_password={"reasons": ["length"]},
                    )
                if password == user.password:
                    raise ApiError(
                        422,
                        "same_password",
                        "New password should be different from the old password.",
                    )
                user.password = password
            if isinstance(body.get("data"), dict):
                user.user_metadata.update(body["data"])
            if body.get("email"):
                user.email = str(body["email"]).lower()
            user.updated_at = time.time()
        return user.as_json()

    def _logout(self, headers: Any, query: dict[str, str]) -> None:
        user, claims = self._user_from_bearer(headers)
        scope = query.get("scope", "global")
        with self._lock:
            mine = [s for s, u in self._sessions.items() if u == user.id]
            current = claims.get("session_id")
            for session_id in mine:
                if scope == "global" or (scope == "local") == (session_id == current):
                    del self._sessions[session_id]

    def _control(self, method: str, route: str, query: dict[str, str], body: dict) -> Any:
        if method == "GET" and route == "mailbox":
            mails = self.mail_to(query["to"]) if query.get("to") else list(self.mailbox)
            return {"mail": [m.as_json() for m in mails]}
        if method == "GET" and route == "users":
            return {"users": [u.as_json() for u in self.users.values()]}
        if method == "POST" and route == "users":
            try:
                user = self.create_user(
                    str(body["email"]), body.get("password"), confirmed=body.get("confirmed", True)
                )
            except (KeyError, ValueError) as error:
                raise ApiError(422, "validation_failed", str(error)) from error
            return user.as_json()
        if method == "POST" and route == "rotate":
            return {"kid": self.rotate_keys(keep_old=body.get("keep_old", True))}
        if method == "POST" and route == "spoil":
            try:
                self.spoil_next_token(str(body.get("kind")))
            except ValueError as error:
                raise ApiError(422, "validation_failed", str(error)) from error
            return {"spoiled": body.get("kind")}
        if method == "POST" and route == "mode":
            try:
                self.set_mode(str(body.get("mode")), jwt_secret=body.get("jwt_secret"))
            except ValueError as error:
                raise ApiError(422, "validation_failed", str(error)) from error
            return {"mode": self.signer.mode}
        if method == "POST" and route == "expire-mail":
            self.expire_mail()
            return {}
        raise ApiError(404, "not_found", "no such control route")

    def handle(self, method: str, target: str, headers: Any, raw: bytes) -> _Response:
        parsed = urllib.parse.urlsplit(target)
        path = parsed.path.rstrip("/")
        query = dict(urllib.parse.parse_qsl(parsed.query))
        new_format = (headers.get("X-Supabase-Api-Version") or "") >= API_VERSION
        try:
            body = json.loads(raw) if raw else {}
            if not isinstance(body, dict):
                raise ValueError
        except ValueError:
            return self._error(
                ApiError(400, "bad_json", "Could not parse request body as JSON"), new_format
            )
        try:
            if path.startswith("/_control/"):
                return _json(200, self._control(method, path[len("/_control/") :], query, body))
            if not path.startswith("/auth/v1/"):
                raise ApiError(404, "not_found", "no Route matched with those values")
            route = path[len("/auth/v1/") :]
            if method == "GET" and route == ".well-known/jwks.json":
                return _json(200, self.signer.jwks())
            if method == "GET" and route == "verify":  # a mailed link: a browser, no apikey
                return self._verify_get(query)
            self._check_apikey(headers)
            if method == "POST" and route == "token":
                return _json(200, self._token(query, body))
            if method == "POST" and route == "signup":
                return _json(200, self._signup(query, body))
            if method == "POST" and route == "otp":
                return _json(200, self._otp(query, body))
            if method == "POST" and route == "recover":
                return _json(200, self._recover(query, body))
            if method == "POST" and route == "verify":
                return _json(200, self._verify_post(body))
            if method == "GET" and route == "user":
                return _json(200, self._user_from_bearer(headers)[0].as_json())
            if method == "PUT" and route == "user":
                return _json(200, self._put_user(headers, body))
            if method == "POST" and route == "logout":
                self._logout(headers, query)
                return _Response(204)
            raise ApiError(404, "not_found", "no Route matched with those values")
        except ApiError as error:
            return self._error(error, new_format)

    def _check_apikey(self, headers: Any) -> None:
        key = headers.get("apikey")
        if not key:
            raise ApiError(401, "no_api_key", "No API key found in request")
        if key != self.anon_key:
            raise ApiError(401, "invalid_api_key", "Invalid API key")

    @staticmethod
    def _error(error: ApiError, new_format: bool) -> _Response:
        if error.code in {"no_api_key", "invalid_api_key"}:  # the gateway's, not GoTrue's
            hint = {
                "no_api_key": "No `apikey` request header or url param was found.",
                "invalid_api_key": "Double check your Supabase `anon` or `service_role` API key.",
            }[error.code]
            return _json(error.status, {"message": error.message, "hint": hint})
        if new_format:
            payload = {"code": error.code, "message": error.message, **error.extra}
        else:
            payload = {
                "code": error.status,
                "error_code": error.code,
                "msg": error.message,
                **error.extra,
            }
        return _json(error.status, payload)


def _json(status: int, payload: Any) -> _Response:
    return _Response(status, json.dumps(payload).encode(), {"Content-Type": "application/json"})


def _add_query(url: str, params: dict[str, str]) -> str:
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query) + list(params.items())
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type, fake: FakeSupabaseAuth):
        self.fake = fake
        super().__init__(address, handler)

    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)  # no getfqdn: it can stall offline
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), port

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def version_string(self) -> str:
        return "FakeSupabaseAuth/1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        fake = self.server.fake
        response = fake.handle(self.command, self.path, self.headers, raw)
        with fake._lock:
            fake.requests.append(
                LoggedRequest(self.command, urllib.parse.urlsplit(self.path).path, response.status)
            )
        try:
            self.send_response(response.status)
            self.send_header("X-Supabase-Api-Version", API_VERSION)
            self.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(response.body)
        except OSError:
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = _serve
