"""Every response carries the security headers (pages, htmx fragments, error pages, the event
stream), personal ones are never stored, the policy allows no inline script or outside origin,
no template needs one, and an expected refusal logs one line, not a traceback."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import include, path, reverse

from orgs.models import Role
from tests.factories import PathwayFactory
from tests.orgs.test_events import AsgiStream, events_url, needs_redis, run_async, session_cookie

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
EVERYWHERE = ("Content-Security-Policy", "Permissions-Policy", "X-Content-Type-Options")


def boom(request):
    raise RuntimeError("a fault in a view")


def fine(request):
    return HttpResponse("public and the same for everyone")


urlpatterns = [
    path("test-boom/", boom),
    path("test-public/", fine),
    path("", include("missionos.urls")),
]


@pytest.fixture
def test_urls(settings):
    settings.ROOT_URLCONF = __name__


def policy(response) -> dict[str, list[str]]:
    directives = [part.split() for part in response["Content-Security-Policy"].split(";")]
    return {words[0]: words[1:] for words in directives if words}


def assert_security_headers(response) -> None:
    for header in EVERYWHERE:
        assert header in response, f"{header} missing on a {response.status_code}"
    assert response["X-Frame-Options"] == "DENY"
    assert "camera=()" in response["Permissions-Policy"]


def assert_not_stored(response) -> None:
    directives = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"private", "no-store"} <= directives, response["Cache-Control"]
    assert "public" not in directives and not any(d.startswith("max-age=") for d in directives)


def test_the_policy_allows_no_inline_script_no_eval_and_no_outside_origin(client):
    directives = policy(client.get(reverse("login")))
    assert directives["default-src"] == ["'none'"]
    for name in ("script-src", "style-src", "connect-src", "img-src", "form-action"):
        assert directives[name] == ["'self'"], name
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"] and directives["base-uri"] == ["'none'"]
    everything = " ".join(word for words in directives.values() for word in words)
    assert "unsafe-eval" not in everything and "http" not in everything and "*" not in everything
    # Inline style attributes only (the server-computed widths): not <style>, not script.
    assert [name for name, words in directives.items() if "'unsafe-inline'" in words] == [
        "style-src-attr"
    ]


def test_signed_in_pages_and_fragments_carry_the_headers_and_are_never_stored(
    client, org, member_of
):
    pathway = PathwayFactory(organization=org)
    client.force_login(member_of(org, Role.ADMIN))
    pages = [
        client.get(reverse("org_home", args=[org.slug])),
        client.get(reverse("org_home", args=[org.slug])),  # from the page cache
        client.get(reverse("pathway_detail", args=[org.slug, pathway.pk])),
        client.get(reverse("project_list", args=[org.slug]), headers={"HX-Request": "true"}),
        client.get(reverse("my_work")),
    ]
    for response in pages:
        assert response.status_code == 200
        assert_security_headers(response)
        assert_not_stored(response)


def test_error_pages_carry_the_headers_and_are_never_stored(
    client, org, other_org, member_of, test_urls
):
    client.force_login(member_of(org, Role.VIEWER))
    not_found = client.get(reverse("org_home", args=[other_org.slug]))
    refused = client.get(reverse("member_list", args=[org.slug]))
    client.raise_request_exception = False
    failed = client.get("/test-boom/")
    assert (not_found.status_code, refused.status_code, failed.status_code) == (404, 403, 500)
    for response in (not_found, refused, failed):
        assert_security_headers(response)
        assert_not_stored(response)


def test_the_login_page_is_not_stored_but_a_public_answer_may_be(client, test_urls):
    login = client.get(reverse("login"))  # it holds a CSRF token: personal
    assert_security_headers(login)
    assert_not_stored(login)
    public = client.get("/test-public/")
    assert_security_headers(public)
    assert "no-store" not in public.get("Cache-Control", "")


@needs_redis
@pytest.mark.django_db(transaction=True)
def test_the_event_stream_and_its_refusals_carry_the_same_headers(
    client, settings, org, other_org, owner, member_of
):
    import os

    settings.REDIS_URL = os.environ["REDIS_URL"]
    page = client.get(reverse("login"))
    owner_cookie = session_cookie(client, owner)
    stranger_cookie = session_cookie(Client(), member_of(other_org, username="stranger"))

    async def start(cookie: str) -> dict:
        stream = AsgiStream(events_url(org), cookie)
        started = await stream.open()
        if started["status"] == 200:
            # Subscribed (the retry hint) before leaving, as the other stream tests do: a
            # stream left while it was still joining the subscription hung its task in CI.
            await stream.next()
        await stream.close()
        return started

    for cookie, status in ((owner_cookie, 200), (stranger_cookie, 404), ("", 302)):
        started = run_async(start(cookie))
        assert started["status"] == status
        headers = {name.decode(): value.decode() for name, value in started["headers"]}
        assert headers["content-security-policy"] == page["Content-Security-Policy"]
        assert headers["permissions-policy"] == page["Permissions-Policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == page["Referrer-Policy"]
        if status == 200:
            assert headers["content-type"] == "text/event-stream"
            assert {"private", "no-store"} <= {
                part.strip() for part in headers["cache-control"].split(",")
            }


INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"<[^>]+\s(on[a-z]+|hx-on[:\w-]*)\s*=", re.IGNORECASE)
EVAL_ATTRIBUTE = re.compile(r"""hx-(vals|vars|headers)\s*=\s*['"]\s*js:""", re.IGNORECASE)


def product_templates() -> list[Path]:
    # E-mails are read in a mail client, not under this site's policy.
    return [
        template
        for template in TEMPLATES.rglob("*.html")
        if not template.name.endswith("_email.html") and template.name != "digest.html"
    ]


def test_no_template_has_an_inline_script_or_event_handler():
    offenders = [
        f"{template.relative_to(TEMPLATES)}: {match.group(0)[:60]}"
        for template in product_templates()
        for pattern in (INLINE_SCRIPT, INLINE_HANDLER, EVAL_ATTRIBUTE)
        for match in pattern.finditer(template.read_text())
    ]
    assert offenders == []
    assert len(product_templates()) > 40  # the walk found the templates


def test_htmx_is_told_not_to_inject_styles_or_evaluate(client):
    page = client.get(reverse("login")).content.decode()
    config = re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", page).group(1)
    assert '"includeIndicatorStyles": false' in config and '"allowEval": false' in config


def test_an_expected_refusal_logs_one_line_and_a_fault_its_traceback(
    client, org, other_org, member_of, test_urls, caplog
):
    client.force_login(member_of(org, Role.VIEWER))
    client.raise_request_exception = False
    with caplog.at_level(logging.WARNING, logger="django.request"):
        client.get(reverse("member_list", args=[org.slug]))  # 403: PermissionDenied
        client.get(reverse("org_home", args=[other_org.slug]))  # 404: Http404
        client.get("/test-boom/")  # 500
    # caplog's handler sits on the root logger: it gets what the configured filter left.
    records = {r.status_code: r for r in caplog.records if r.name == "django.request"}
    assert set(records) == {403, 404, 500}
    assert records[403].exc_info is None and records[404].exc_info is None
    assert records[500].exc_info is not None
    assert records[403].getMessage().startswith("Forbidden")
