"""Nothing secret in the admin, in error pages and reports, or in the logs.

The secrets: Airtable tokens (and their ciphertext), the change feed's webhook MAC secrets
(and theirs), invitation tokens and their hashes, Supabase passwords, access and refresh tokens
and the Supabase user ids. Each test puts one where it could leak and looks for it everywhere
it could come out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import logging
import uuid

import httpx
import pytest
from django.contrib import admin
from django.core import mail
from django.test import Client, RequestFactory
from django.urls import reverse
from django.views.debug import ExceptionReporter

from devtools.fakeairtable import FakeAirtable
from orgs import invitations
from orgs.models import Invitation, Role, SupabaseIdentity
from orgs.supabase import services as supabase_services
from sync import services
from sync.airtable.client import RetryPolicy, SyncError
from sync.airtable.ratelimit import NoRateLimiter
from sync.crypto import decrypt_token, encrypt_token
from sync.models import ChangeFeed, Connection, FeedState, RunKind, RunStatus
from tests.factories import (
    CheckInFactory,
    KeyResultFactory,
    PersonFactory,
    TaskFactory,
    UserFactory,
)
from tests.orgs.supabase_helpers import PASSWORD, capture_tokens, sign_in
from tests.supabase_fixtures import JWT_SECRET
from tests.sync.airtable_base import BASE_ID, TOKEN, build_base

pytestmark = pytest.mark.django_db

WRONG_TOKEN = "patWRONG.0000000000aaaaaaaaaaQQQ7"
NEW_TOKEN = "patREPLACED.1111111111bbbbbbbbbbRRR8"
MAC_SECRET = base64.b64encode(b"a webhook's own MAC secret, 32b!").decode()
FAST = RetryPolicy(attempts=2, backoff=0.01, backoff_cap=0.02)


class Crash(Exception):
    """A bug deep in an outgoing request: nothing on the way catches it, so the page is a 500."""


@pytest.fixture
def crash_outgoing_requests(monkeypatch, settings):
    """Every outgoing HTTP request fails at the last moment, with its headers (and the token
    in them) on the stack: http.client for requests/pyairtable, httpx for supabase-py."""

    def send(self, *args, **kwargs):
        raise Crash("the request could not be sent")

    monkeypatch.setattr(http.client.HTTPConnection, "send", send)
    monkeypatch.setattr(httpx.Client, "send", send)
    settings.AIRTABLE_API_URL = "http://127.0.0.1:9"  # never reached


@pytest.fixture
def failing_client(db):
    """A test client that answers an exception with the 500 page, as a server would."""
    return Client(raise_request_exception=False)


@pytest.fixture
def fake(settings):
    with FakeAirtable(rate_limit=None, seed=11) as server:
        settings.AIRTABLE_API_URL = server.url
        server.ids = build_base(server)
        yield server


def stored_connection(organization, token=TOKEN) -> Connection:
    return Connection.objects.create(
        organization=organization,
        name="Northwind plans",
        base_id=BASE_ID,
        token_encrypted=encrypt_token(token),
        token_last4=token[-4:],
    )


def assert_absent(text: str, secrets: list[str], where: str) -> None:
    for secret in secrets:
        assert secret, "an empty secret proves nothing"
        assert secret not in text, f"a secret ({secret[:6]}…) is in {where}"


def django_request_report(records) -> str:
    """The HTML report of the request's exception, as Django's AdminEmailHandler builds it from
    the `django.request` log record when it includes HTML."""
    (record,) = [r for r in records if r.name == "django.request" and r.exc_info]
    return ExceptionReporter(record.request, *record.exc_info, is_email=True).get_traceback_html()


# -- the admin --------------------------------------------------------------------------------


@pytest.fixture
def secrets_in_the_database(org, owner):
    """One of every kind of stored secret, in the organization; the strings that must never
    be shown."""
    connection = stored_connection(org)
    services.connection_schedule(connection=connection)  # django_celery_beat's admin lists these
    feed = ChangeFeed.objects.create(
        organization=org,
        connection=connection,
        state=FeedState.ACTIVE,
        webhook_id="achSECRETFEED0001",
        mac_secret_encrypted=encrypt_token(MAC_SECRET),
    )
    invitation = invitations.invitation_create(
        organization=org, email="invitee@example.org", role=Role.MEMBER, invited_by=owner
    )
    (invitation_mail,) = mail.outbox
    invitation_token = invitation_mail.body.split("/invitations/")[1].split("/")[0]
    assert len(invitation_token) > 30
    identity = SupabaseIdentity.objects.create(
        user=UserFactory(username="sam", email="sam@example.org"),
        supabase_user_id=uuid.uuid4(),
        email="sam@example.org",
    )
    person = PersonFactory(organization=org, user=identity.user)
    CheckInFactory(organization=org, key_result=KeyResultFactory(organization=org))
    TaskFactory(organization=org, assignee=person)
    return [
        TOKEN,
        connection.token_encrypted,
        MAC_SECRET,
        feed.mac_secret_encrypted,
        invitation_token,
        invitation.token_hash,
        str(identity.supabase_user_id),
        identity.supabase_user_id.hex,
    ]


def test_no_admin_page_shows_a_secret(client, secrets_in_the_database):
    """The index, every registered model's list, the change page of each of its rows and the
    delete page of one (it lists what would go with it), as a superuser, who sees every
    organization."""
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)
    as_root = RequestFactory().get("/admin/")
    as_root.user = root
    urls = [reverse("admin:index")]
    for model, model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        changelist = reverse("admin:{}_{}_changelist".format(*info))
        urls += [changelist, f"{changelist}?q=a"]
        rows = list(model_admin.get_queryset(as_root).order_by("pk")[:10])
        urls += [reverse("admin:{}_{}_change".format(*info), args=[row.pk]) for row in rows]
        if rows:
            urls += [
                reverse("admin:{}_{}_delete".format(*info), args=[rows[-1].pk]),
                reverse("admin:{}_{}_history".format(*info), args=[rows[-1].pk]),
            ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_absent(response.content.decode(), secrets_in_the_database, url)
    sam = SupabaseIdentity.objects.get().user
    assert reverse("admin:auth_user_change", args=[sam.pk]) in urls
    assert len(urls) > 50
    # The models that hold the secrets stay out of the admin, whatever their fields.
    for model in (Connection, ChangeFeed, Invitation, SupabaseIdentity):
        assert model not in admin.site._registry, model


def test_the_organization_delete_page_names_the_secret_rows_without_their_secrets(
    client, org, secrets_in_the_database
):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    page = client.get(reverse("admin:orgs_organization_delete", args=[org.pk])).content.decode()
    assert "Northwind plans" in page  # the connection is listed among what would go
    assert_absent(page, secrets_in_the_database, "the organization's delete page")


# -- error pages and reports --------------------------------------------------------------------


def test_debug_500_page_does_not_show_the_airtable_token_being_connected(
    settings, crash_outgoing_requests, failing_client, owner
):
    settings.DEBUG = True
    failing_client.force_login(owner)
    form = {"name": "Northwind", "base_id": BASE_ID, "token": TOKEN}

    response = failing_client.post(reverse("sync_connections", args=["acme"]), form)

    assert response.status_code == 500
    page = response.content.decode()
    # Django's technical page, with the frames of the connect and of the request under it.
    assert "Crash" in page and "connection_create" in page and "urlopen" in page
    assert BASE_ID in page  # the other POST parameters and locals are still shown
    assert_absent(page, [TOKEN, f"Bearer {TOKEN}"], "the debug page")


def test_debug_500_page_does_not_show_the_replacement_token_or_the_stored_one(
    settings, crash_outgoing_requests, failing_client, org, owner
):
    settings.DEBUG = True
    connection = stored_connection(org)
    failing_client.force_login(owner)

    response = failing_client.post(
        reverse("sync_token", args=["acme", connection.pk]), {"token": NEW_TOKEN}
    )

    assert response.status_code == 500
    page = response.content.decode()
    assert "connection_set_token" in page and "urlopen" in page
    assert_absent(page, [NEW_TOKEN, TOKEN, connection.token_encrypted], "the debug page")


def test_production_500_and_its_error_report_do_not_show_the_token(
    settings, crash_outgoing_requests, failing_client, owner, all_logs
):
    settings.DEBUG = False
    settings.ADMINS = [("Ops", "ops@example.org")]
    failing_client.force_login(owner)
    form = {"name": "Northwind", "base_id": BASE_ID, "token": TOKEN}

    response = failing_client.post(reverse("sync_connections", args=["acme"]), form)

    assert response.status_code == 500
    assert_absent(response.content.decode(), [TOKEN], "the 500 page")
    # The error mail Django sends the ADMINS, and the full report of the same exception.
    (error_mail,) = [m for m in mail.outbox if "ops@example.org" in m.to]
    assert "Crash" in error_mail.body and "Northwind" in error_mail.body  # the POST is shown
    assert_absent(error_mail.subject + error_mail.body, [TOKEN], "the error mail")
    report = django_request_report(all_logs)
    assert "connection_create" in report and "urlopen" in report
    assert_absent(report, [TOKEN, f"Bearer {TOKEN}"], "the error report")


@pytest.mark.parametrize("project", ["supabase_auth", "supabase_auth_hs256"])
def test_debug_500_page_does_not_show_the_password_signing_in(
    request, project, settings, crash_outgoing_requests, failing_client
):
    settings.DEBUG = True
    request.getfixturevalue(project).create_user("ada@example.org", PASSWORD)

    response = sign_in(failing_client, "ada@example.org")

    assert response.status_code == 500
    page = response.content.decode()
    assert "password_sign_in" in page and "Crash" in page and "SupabaseConfig" in page
    # Nor the project's shared JWT secret (HS256 projects), which the config carries.
    assert_absent(page, [PASSWORD, JWT_SECRET], "the debug page")


def test_debug_500_page_does_not_show_the_password_signing_up(
    settings, supabase_auth, crash_outgoing_requests, failing_client
):
    settings.DEBUG = True
    form = {"email": "new@example.org", "password1": PASSWORD, "password2": PASSWORD}

    response = failing_client.post("/auth/signup/", form)

    assert response.status_code == 500
    page = response.content.decode()
    assert "sign_up" in page and "new@example.org" in page
    assert_absent(page, [PASSWORD], "the debug page")


def test_a_secret_named_post_field_is_hidden_on_any_view(rf, settings):
    """Defence in depth: a view nobody marked still hides POST fields named like secrets."""
    settings.DEBUG = True
    fields = {"title": "visible", "api_token": uuid.uuid4().hex, "passwd": uuid.uuid4().hex}
    request = rf.post("/anywhere/", fields)
    del fields  # only the request holds them, as in a view
    try:
        raise Crash("in a view with no sensitive_post_parameters")
    except Crash as error:
        html = ExceptionReporter(request, Crash, error, error.__traceback__).get_traceback_html()
    assert "visible" in html
    assert_absent(html, [request.POST["api_token"], request.POST["passwd"]], "the debug page")


# -- the logs -----------------------------------------------------------------------------------


@pytest.fixture
def all_logs():
    """Every record of every logger at DEBUG (urllib3, requests, pyairtable, httpx, Django,
    ours), including loggers that do not propagate to the root."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    keep = Keep(level=logging.DEBUG)
    loggers = [logging.getLogger()] + [
        logger
        for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    saved = [(logger, logger.level, logger.disabled) for logger in loggers]
    attached = [logger for logger in loggers if logger is logging.root or not logger.propagate]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
        logger.disabled = False
    for logger in attached:
        logger.addHandler(keep)
    try:
        yield records
    finally:
        for logger in attached:
            logger.removeHandler(keep)
        for logger, level, disabled in saved:
            logger.setLevel(level)
            logger.disabled = disabled


def log_text(records: list[logging.LogRecord]) -> str:
    formatter = logging.Formatter()
    parts = []
    for record in records:
        parts.append(record.getMessage())
        if record.exc_info:
            parts.append(formatter.formatException(record.exc_info))
        if record.stack_info:
            parts.append(record.stack_info)
        parts.append(repr(vars(record)))
    return "\n".join(parts)


def mac(body: bytes, secret_base64: str) -> str:
    digest = hmac.new(base64.b64decode(secret_base64), body, hashlib.sha256).hexdigest()
    return f"hmac-sha256={digest}"


def test_no_token_or_mac_secret_in_the_logs_of_a_sync_with_a_wrong_token_and_a_right_one(
    fake, org, client, all_logs
):
    ciphertexts = []
    # A mistyped token: Airtable refuses it, nothing is saved.
    with pytest.raises(SyncError):
        services.connection_create(organization=org, name="N", base_id=BASE_ID, token=WRONG_TOKEN)
    # The right one: connect, sync, set up the change feed, take a ping.
    connection = services.connection_create(
        organization=org, name="N", base_id=BASE_ID, token=TOKEN
    )
    ciphertexts.append(connection.token_encrypted)
    run = services.run_request(connection=connection, kind=RunKind.FULL)
    services.run_execute(run_id=run.pk, policy=FAST, limiter=NoRateLimiter())
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.error
    feed = services.feed_ensure(connection=connection, policy=FAST, limiter=NoRateLimiter()).feed
    assert feed.state == FeedState.ACTIVE, feed.message
    mac_secret = decrypt_token(feed.mac_secret_encrypted)
    ciphertexts.append(feed.mac_secret_encrypted)
    body = json.dumps(
        {
            "base": {"id": BASE_ID},
            "webhook": {"id": feed.webhook_id},
            "timestamp": "2026-01-01T00:00:00.000Z",
        }
    ).encode()
    notify = reverse("sync_feed_notify")
    ok = client.post(
        notify,
        body,
        content_type="application/json",
        HTTP_X_AIRTABLE_CONTENT_MAC=mac(body, mac_secret),
    )
    forged = client.post(
        notify, body, content_type="application/json", HTTP_X_AIRTABLE_CONTENT_MAC="hmac-sha256=00"
    )
    assert (ok.status_code, forged.status_code) == (204, 401)
    # A replacement Airtable refuses leaves the old token; then the token is revoked.
    with pytest.raises(SyncError):
        services.connection_set_token(connection=connection, token=WRONG_TOKEN)
    Connection.objects.for_org(org).filter(pk=connection.pk).update(
        token_encrypted=encrypt_token(NEW_TOKEN)
    )
    connection.refresh_from_db()
    ciphertexts.append(connection.token_encrypted)
    run = services.run_request(connection=connection, kind=RunKind.INCREMENTAL)
    services.run_execute(run_id=run.pk, policy=FAST, limiter=NoRateLimiter())
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and "401" in run.error
    services.feed_poll(connection_id=connection.pk, policy=FAST, limiter=NoRateLimiter())

    text = log_text(all_logs)
    # The capture saw the HTTP traffic: urllib3 logs every request's method and path.
    assert "GET /v0/meta/bases/" in text and "POST /v0/bases/" in text
    assert_absent(text, [TOKEN, WRONG_TOKEN, NEW_TOKEN, mac_secret, *ciphertexts], "the logs")


def test_no_password_or_supabase_token_in_the_logs_of_signing_in(
    supabase_auth, client, all_logs, monkeypatch
):
    supabase_auth.create_user("ada@example.org", PASSWORD)
    issued = capture_tokens(supabase_auth)
    sessions = []
    user_from = supabase_services._user_from

    def recording(claims, session, config):
        sessions.append(session)
        return user_from(claims, session, config)

    monkeypatch.setattr(supabase_services, "_user_from", recording)

    refused = sign_in(client, "ada@example.org", "not-the-password-at-all")
    signed_in = sign_in(client, "ada@example.org")

    assert refused.status_code == 200 and signed_in.status_code == 302
    (session,) = sessions
    secrets_ = [
        PASSWORD,
        "not-the-password-at-all",
        session.access_token,
        session.refresh_token,
        *issued,
    ]
    text = log_text(all_logs)
    assert "/auth/v1/token" in text  # httpx logged the requests
    assert_absent(text, secrets_, "the logs")
    # The signature, the part that makes a token usable, in particular.
    assert_absent(text, [token.rsplit(".", 1)[1] for token in issued], "the logs")
