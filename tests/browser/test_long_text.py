"""Long unbroken text (a pasted URL, a 10,000-character note) never widens a page, on a phone
either: every page that shows free text keeps the document as wide as the viewport."""

from __future__ import annotations

import pytest

from okrs.models import TITLE_MAX, CheckIn, Objective, Pathway, Project, Task
from orgs.models import Membership, Role
from tests.browser.conftest import PHONE, shoot
from tests.browser.test_pages import log_in
from tests.factories import (
    CheckInFactory,
    CycleFactory,
    KeyResultFactory,
    ObjectiveFactory,
    OrganizationFactory,
    PathwayFactory,
    PersonFactory,
    ProjectFactory,
    TaskFactory,
    UserFactory,
)

WORD = "https://example.org/" + "x" * 9_980  # 10,000 characters, no break opportunity


def long(max_length: int) -> str:
    return WORD[:max_length]


@pytest.fixture
def wordy(transactional_db):
    user = UserFactory(username="dana")
    org = OrganizationFactory(name="North Unit", slug="north")
    Membership.objects.create(user=user, organization=org, role=Role.ADMIN)
    person = PersonFactory(organization=org, name="Dana", user=user, email="dana@example.org")
    cycle = CycleFactory(organization=org)
    pathway = PathwayFactory(
        organization=org,
        name=long(TITLE_MAX),
        description=long(Pathway._meta.get_field("description").max_length),
    )
    objective = ObjectiveFactory(
        organization=org,
        pathway=pathway,
        cycle=cycle,
        title=long(TITLE_MAX),
        description=long(Objective._meta.get_field("description").max_length),
    )
    kr = KeyResultFactory(
        organization=org, objective=objective, title=long(TITLE_MAX), owner=person
    )
    CheckInFactory(
        organization=org,
        key_result=kr,
        note=long(CheckIn._meta.get_field("note").max_length),
    )
    project = ProjectFactory(
        organization=org,
        pathway=pathway,
        name=long(TITLE_MAX),
        description=long(Project._meta.get_field("description").max_length),
    )
    task = TaskFactory(
        organization=org,
        project=project,
        title=long(Task._meta.get_field("title").max_length),
        assignee=person,
    )
    return {"pathway": pathway, "objective": objective, "project": project, "task": task}


def test_long_words_wrap_on_every_page_at_phone_width(live_server, page, wordy, screenshot_dir):
    log_in(page, live_server)
    pages = {
        "dashboard": "/o/north/",
        "pathway": f"/o/north/pathways/{wordy['pathway'].pk}/",
        "objective": f"/o/north/objectives/{wordy['objective'].pk}/",
        "projects": "/o/north/projects/",
        "project": f"/o/north/projects/{wordy['project'].pk}/",
        "task": f"/o/north/tasks/{wordy['task'].pk}/edit/",
        "my-work": "/my-work/",
        "people": "/o/north/people/",
    }
    too_wide = {}
    for name, path in pages.items():
        page.set_viewport_size({"width": PHONE[0], "height": PHONE[1]})
        page.goto(live_server.url + path)
        widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        if widths[0] > widths[1]:
            too_wide[name] = widths
        if name in ("dashboard", "objective", "project"):
            shoot(page, screenshot_dir, f"long-text-{name}", desktop=(1366, 800))
    assert too_wide == {}, "pages wider than a phone's viewport (scrollWidth, innerWidth)"
