"""A refusal the app means (a 403 a view raised) prints one line in the server's console: no
traceback, not twice. Checked through the real handler chain, with the project's logging
configuration applied as the server (uvicorn under `make run`) applies it, DEBUG on and off."""

from __future__ import annotations

import io
import logging

import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from django.utils.log import configure_logging

from orgs.models import Membership, Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


LOGGERS = ("", "django", "django.request", "django.server")


@pytest.fixture
def console():
    """The project's logging as the server configures it, every console handler it sets up
    writing to one buffer (the server's stderr)."""
    configure_logging(django_settings.LOGGING_CONFIG, django_settings.LOGGING)
    out = io.StringIO()
    for name in LOGGERS:
        for handler in logging.getLogger(name).handlers:
            if type(handler) is logging.StreamHandler:
                handler.setStream(out)
    yield out
    configure_logging(django_settings.LOGGING_CONFIG, django_settings.LOGGING)


@pytest.mark.parametrize("debug", [True, False])
def test_a_403_prints_one_line_and_no_traceback(client, org, settings, console, debug):
    settings.DEBUG = debug
    viewer = UserFactory()
    Membership.objects.create(user=viewer, organization=org, role=Role.VIEWER)
    client.force_login(viewer)
    url = reverse("person_create", args=[org.slug])
    console.truncate(0)
    assert client.get(url).status_code == 403
    printed = console.getvalue()
    lines = [line for line in printed.splitlines() if line.strip()]
    assert lines == [f"Forbidden (Permission denied): {url}"], printed
