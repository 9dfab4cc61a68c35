"""Why a sign-in through Supabase was refused, in words for the page and a code for the log."""

from __future__ import annotations


class SignInRefused(Exception):
    """`message` is shown to the person; `code` goes to the log (never a token)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class TokenRefused(SignInRefused):
    """The access token Supabase handed back did not pass verification on this server."""
