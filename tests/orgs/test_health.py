"""The health check answers without a database, a session or a login."""

from __future__ import annotations

import pytest
from django.urls import reverse


@pytest.mark.django_db
def test_health_check_answers_ok_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get(reverse("health"))
    assert response.status_code == 200
    assert response.content == b"ok" and response["Content-Type"].startswith("text/plain")
