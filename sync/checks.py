"""System checks for the keys that encrypt stored secrets (sync.crypto)."""

from __future__ import annotations

from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from sync import crypto


def check_encryption_keys(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """A malformed key stops `manage.py check` (and every command) with where it was set."""
    try:
        crypto.check_keys()
    except ImproperlyConfigured as error:
        return [checks.Error(str(error), id="sync.E001")]
    return []


def check_explicit_encryption_keys(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """`check --deploy`: production should not encrypt tokens with a key derived from
    SECRET_KEY (a leaked SECRET_KEY would read every stored token)."""
    if not crypto.uses_derived_key():
        return []
    return [
        checks.Warning(
            "Stored Airtable tokens are encrypted with a key derived from SECRET_KEY.",
            hint=(
                f"Set {crypto.KEYS_SETTING} to a Fernet key of its own ({crypto.GENERATE_HINT}), "
                "then run `manage.py reencrypt_secrets`: tokens stored so far stay readable "
                "(the derived key still decrypts) until they are re-encrypted."
            ),
            id="sync.W001",
        )
    ]
