"""Helpers for the Supabase sign-in tests: sign in, follow a mailed link, catch issued tokens."""

from __future__ import annotations

import urllib.parse

import requests

PASSWORD = "s3cret-pass-phrase"


def sign_in(client, email: str, password: str = PASSWORD):
    return client.post("/login/", {"username": email, "password": password})


def open_mail_link(link: str) -> str:
    """Open a mailed link as the browser would, up to the fake's redirect: -> the path and
    query it sends the browser back to on this site."""
    response = requests.get(link, allow_redirects=False, timeout=5)
    assert response.status_code == 303, response.text
    target = urllib.parse.urlsplit(response.headers["Location"])
    return f"{target.path}?{target.query}"


def capture_tokens(fake) -> list[str]:
    """Every access token the fake issues from now on, in order."""
    issued: list[str] = []
    issue = fake.signer.issue

    def recording(claims):
        token = issue(claims)
        issued.append(token)
        return token

    fake.signer.issue = recording
    return issued
