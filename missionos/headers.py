"""The headers every response carries, and the one line an expected refusal logs.

Django's SecurityMiddleware (nosniff, Referrer-Policy, Cross-Origin-Opener-Policy, HSTS in
production), XFrameOptionsMiddleware, django-csp's CSPMiddleware (settings.CONTENT_SECURITY_POLICY)
and SecurityHeadersMiddleware below set them for everything Django answers, error pages
included. The event stream is answered outside Django's middleware (orgs/live.py), so it asks
`security_headers` for the same set, computed by the same middleware, rather than a copy.
"""

from __future__ import annotations

import logging

from csp.middleware import CSPMiddleware
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.security import SecurityMiddleware
from django.utils.cache import patch_cache_control


def _personal(request: HttpRequest, response: HttpResponseBase) -> bool:
    """A response for this viewer: one Django marked `Vary: Cookie` (it read the session, so
    every signed-in page and fragment, or used the CSRF cookie), or any answer to a browser
    that holds a session (its error pages too). Static files are the same for everyone."""
    if request.path_info.startswith(settings.STATIC_URL):
        return False
    return (
        "cookie" in response.get("Vary", "").lower()
        or settings.SESSION_COOKIE_NAME in request.COOKIES
    )


class SecurityHeadersMiddleware:
    """Permissions-Policy on every response; `Cache-Control: private, no-store` on every
    personal one (pages and htmx fragments alike), so neither a shared cache nor the browser's
    back button keeps an organization's plan after the viewer has left it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.process_response(request, self.get_response(request))

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        if _personal(request, response):
            response.headers.pop("Expires", None)
            if "Cache-Control" in response:  # e.g. never_cache's max-age=0: no-store says it
                del response["Cache-Control"]
            patch_cache_control(response, private=True, no_store=True)
        return response


def _unused_get_response(request: HttpRequest) -> HttpResponse:  # pragma: no cover
    raise AssertionError("the header middleware is only asked for its process_response")


# Outermost first, as in settings.MIDDLEWARE: each adds its headers on the way out.
_HEADER_MIDDLEWARE = (
    SecurityMiddleware,
    SecurityHeadersMiddleware,
    CSPMiddleware,
    XFrameOptionsMiddleware,
)


def security_headers(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
    """Give a response answered outside Django's middleware (the event stream) the headers
    the middleware gives every other one, from the same classes."""
    for middleware_class in reversed(_HEADER_MIDDLEWARE):
        middleware = middleware_class(_unused_get_response)
        response = middleware.process_response(request, response)
    return response


class ExpectedRefusalFilter(logging.Filter):
    """A 4xx that a view raised (PermissionDenied, Http404, a bad request) is the app
    answering as designed: Django's request logger keeps its one line, without the traceback
    it attaches. Server errors (5xx) keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if status is not None and 400 <= status < 500:
            record.exc_info = None
            record.exc_text = None
        return True
