"""Encryption at rest for the secrets MissionOS stores: Airtable tokens and the change feed's
webhook MAC secrets.

The keys are Fernet keys, `settings.TOKEN_ENCRYPTION_KEYS` (env var of the same name, comma-
separated): the first encrypts, every one decrypts (`MultiFernet`). A key is rotated by putting
a new one first, running `manage.py reencrypt_secrets` (sync.services.encryption), then
dropping the old one. `TOKEN_ENCRYPTION_KEY` (one key) is the older spelling and still read:
alone it encrypts; next to the list it only decrypts.

Without either, the key is derived from SECRET_KEY. Derived keys, of SECRET_KEY and of each of
SECRET_KEY_FALLBACKS, always decrypt after the configured ones: rotating SECRET_KEY through
Django's fallbacks, or moving off the derived key to explicit ones, loses no token (run
`reencrypt_secrets` before the old SECRET_KEY leaves the fallbacks). Production should set
explicit keys: `check --deploy` warns otherwise (sync.checks).

No function here lets a key or a plaintext reach an error report (`sensitive_variables`), and
no message names a key: only the setting and the key's position.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.views.decorators.debug import sensitive_variables

KEYS_SETTING = "TOKEN_ENCRYPTION_KEYS"
LEGACY_SETTING = "TOKEN_ENCRYPTION_KEY"
GENERATE_HINT = (
    "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
)


class TokenUnreadable(Exception):
    """The stored token cannot be decrypted with any configured key."""


@sensitive_variables()
def _configured_keys() -> list[tuple[str, str]]:
    """The configured keys as (where it was set, key), the encrypting one first; [] when none
    is set (the derived key encrypts)."""
    keys = getattr(settings, KEYS_SETTING, None) or []
    if isinstance(keys, str):
        keys = keys.split(",")
    keys = [key.strip() if isinstance(key, str) else key for key in keys]
    located = [(f"{KEYS_SETTING}: key {n} of {len(keys)}", key) for n, key in enumerate(keys, 1)]
    legacy = (getattr(settings, LEGACY_SETTING, "") or "").strip()
    if legacy and legacy not in keys:
        located.append((LEGACY_SETTING, legacy))
    return located


def uses_derived_key() -> bool:
    """Whether secrets are encrypted with the key derived from SECRET_KEY (none configured)."""
    return not _configured_keys()


@sensitive_variables()
def _derived_key(secret_key: str) -> bytes:
    digest = hashlib.sha256(f"missionos-token:{secret_key}".encode()).digest()
    return base64.urlsafe_b64encode(digest)


@sensitive_variables()
def _fernet() -> MultiFernet:
    """Every key that decrypts, the one that encrypts first. Raises ImproperlyConfigured for a
    key that is not a Fernet key, naming the setting and its position, never the key."""
    fernets = []
    for where, key in _configured_keys():
        try:
            fernets.append(Fernet(key))
        except (ValueError, TypeError):  # binascii.Error is a ValueError
            raise ImproperlyConfigured(
                f"{where} is not a Fernet key (32 url-safe base64-encoded bytes). "
                f"Make one with: {GENERATE_HINT}"
            ) from None
    for secret_key in [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]:
        fernets.append(Fernet(_derived_key(secret_key)))
    return MultiFernet(fernets)


def check_keys() -> None:
    """Raise ImproperlyConfigured when a configured key is malformed (the system check)."""
    _fernet()


@sensitive_variables()
def encrypt_token(token: str) -> str:
    return _fernet().encrypt(token.encode()).decode()


@sensitive_variables()
def decrypt_token(ciphertext: str) -> str:
    try:
        return _fernet().decrypt(ciphertext.encode()).decode()
    except InvalidToken as error:
        raise TokenUnreadable(
            "The stored Airtable token cannot be decrypted (was TOKEN_ENCRYPTION_KEYS or "
            "SECRET_KEY changed?). Enter the token again on the connection page."
        ) from error


@sensitive_variables()
def reencrypt_token(ciphertext: str) -> str:
    """The same secret encrypted with the first key (its timestamp kept). Raises
    TokenUnreadable when no key can read it."""
    try:
        return _fernet().rotate(ciphertext.encode()).decode()
    except InvalidToken as error:
        raise TokenUnreadable("No configured key can decrypt this secret.") from error
