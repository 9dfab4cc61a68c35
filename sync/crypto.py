"""Encryption at rest for Airtable tokens.

The key comes from settings.TOKEN_ENCRYPTION_KEY (a Fernet key; derived from SECRET_KEY when
unset, so rotating SECRET_KEY makes stored tokens unreadable: set an explicit key in production).
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


class TokenUnreadable(Exception):
    """The stored token cannot be decrypted with the current key."""


def _fernet() -> Fernet:
    key = settings.TOKEN_ENCRYPTION_KEY
    if not key:
        digest = hashlib.sha256(f"missionos-token:{settings.SECRET_KEY}".encode()).digest()
        key = base64.urlsafe_b64encode(digest).decode()
    return Fernet(key)


def encrypt_token(token: str) -> str:
    return _fernet().encrypt(token.encode()).decode()


def decrypt_token(ciphertext: str) -> str:
    try:
        return _fernet().decrypt(ciphertext.encode()).decode()
    except InvalidToken as error:
        raise TokenUnreadable(
            "The stored Airtable token cannot be decrypted (was TOKEN_ENCRYPTION_KEY or "
            "SECRET_KEY changed?). Enter the token again on the connection page."
        ) from error
