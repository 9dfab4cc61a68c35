"""Every form and htmx endpoint that takes a POST, fed hostile values.

ENDPOINTS below is the one table of what is fuzzed: each POST endpoint of the URLconf (found by
walking it: test_every_post_endpoint_is_fuzzed fails for one left out), the form or the request
fields it reads, a valid submission, and the pages that show what it stores. For each:

- a sweep: every field at once given each hostile value of HOSTILE (one request per value),
  then all fields missing, all doubled;
- hypothesis: random submissions, each field kept valid, replaced by a hostile or random value,
  left out, doubled (a MultiValueDict with two values) or sent as a list, plus unknown fields,
  sent plain or as htmx.

And for each request, the app must:

- never answer 500 and never raise (the test client re-raises a view's exception);
- show nothing that executes: no payload comes back unescaped, neither in the answer nor, once
  stored, on the pages that show it;
- write nothing when it refuses (4xx, an error message, a form with errors): the database,
  every row of every table, is as it was.

Each request runs in a savepoint rolled back after it, over the organizations of
tests/orgs/test_role_matrix.py (built once for the module, with a fake Airtable serving a
synced base), as the owner: every door opens, so the fuzz reaches the forms behind them.
"""

from __future__ import annotations

import datetime
import inspect
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.contrib.messages import constants as message_levels
from django.core.cache import cache
from django.db import transaction
from django.forms import BaseForm
from django.test import Client
from django.urls import resolve, reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orgs.models import Role
from sync.forms import ConnectionForm, MappingForm, ScheduleForm, TokenForm
from tests.factories import PASSWORD
from tests.orgs import test_role_matrix as matrix
from tests.orgs.test_role_matrix import (
    PAGES,
    SECOND_BASE_ID,
    Changes,
    Tenant,
    World,
    changed_tables,
    database_state,
    form_as_shown,
    url_of,
)
from tests.orgs.test_tenancy import walk
from tests.sync.airtable_base import T_TASKS, TOKEN

pytestmark = pytest.mark.django_db

world = matrix.world  # the two organizations, built once for this module too


@pytest.fixture(autouse=True)
def workers_answer(monkeypatch):
    """No worker is pinged (each unanswered ping waits): the fuzz is about the forms."""
    monkeypatch.setattr("sync.views.workers_answering", lambda fresh=False: True)


# -- hostile values ----------------------------------------------------------------------------

# Markup that would run if shown unescaped; RAW are the parts that only appear unescaped.
SCRIPT = "<script>fuzz(1)</script>"
IMG = '"><img src=x onerror=fuzz(2)>'
SVG = "'><svg onload=fuzz(3)>"
JS_URL = "javascript:fuzz(4)"
RAW = ("<script>fuzz(", "<img src=x onerror=fuzz(", "<svg onload=fuzz(", 'href="javascript:fuzz')

HOSTILE_TEXT = [
    "\x00",
    "nul\x00inside",
    "\x01\x02\x07\x08\x0b\x0c\x1b\x1f\x7f\x85",  # control characters, C0 and C1
    SCRIPT,
    IMG,
    SVG,
    JS_URL,
    "{{ request.user.password }}{% debug %}",  # template syntax: stored text, never a template
    "'; DROP TABLE okrs_task; --",
    "' OR '1'='1",
    "%' OR 1=1 --",
    "\u202eevil\u202c \u200f\u200e",  # RTL override, marks
    "👩‍👩‍👧‍👦🔥🏳️‍🌈",
    "e\u0301\u0301\u0301\u0301 Z\u0336\u0337",  # combining characters
    "\ufeff\u200b\u2028\u2029",  # BOM, zero-width space, line/paragraph separators
    "x" * 100_000,
    "",
    "   ",
    "\r\n\t",
    "%00",
]
HOSTILE_NUMBERS = [
    "NaN",
    "nan",
    "Infinity",
    "-Infinity",
    "inf",
    "-0",
    "-0.0",
    "1e309",
    "-1e309",
    "1e-400",
    "9" * 40,
    "-" + "9" * 40,
    "2147483648",
    "9223372036854775808",
    "-9223372036854775809",
    "-1",
    "0x10",
    "1_000",
    "١٢",  # Arabic-Indic digits
    "1,5",
    " 3 ",
    "3.14159265358979323846264338327950288",
]
HOSTILE_DATES = [
    "0001-01-01",
    "9999-12-31",
    "10000-01-01",
    "2026-02-29",
    "2024-02-30",
    "2024-02-29",
    "0000-00-00",
    "-0001-01-01",
    "2024-13-01",
    "2024-01-01T25:00",
    "01/02/2024",
]
HOSTILE_CHOICES = ["bogus", "OWNER", " owner", "owner\x00", "__all__", "None", "true"]
HOSTILE = HOSTILE_TEXT + HOSTILE_NUMBERS + HOSTILE_DATES + HOSTILE_CHOICES
# The sweeps. Every field at once (a representative of each class)...
SWEEP_ALL = [
    "\x00",
    "\x01\x1b\x7f",
    SCRIPT,
    "'; DROP TABLE okrs_task; --",
    "\u202eevil\u202c👩‍👩‍👧‍👦e\u0301\u0301",
    "x" * 100_000,
    "1e309",
    "9223372036854775808",
    "10000-01-01",
    "bogus",
]
# ... and one field at a time, the others valid, with the values of its kind.
SWEEP_ONE = {
    "date": ["0001-01-01", "9999-12-31", "10000-01-01", "2026-02-29", "2024-02-30", "2024-02-29"],
    "number": ["NaN", "Infinity", "-0", "1e309", "-" + "9" * 40, "9223372036854775808", "-1"],
    "text": ["\x00", "a\x0bb\x1f", SCRIPT, IMG, "x" * 100_000, "\u202e👩‍👩‍👧‍👦e\u0301"],
}


SWEEP_FIELDS = 6


def kind_of(value: str | list) -> str:
    if isinstance(value, list):
        return "number"  # a list of ids
    if re.fullmatch(r"\d{4}-\d\d-\d\d", value):
        return "date"
    if re.fullmatch(r"-?\d+(\.\d+)?", value):
        return "number"
    return "text"


def foreign_ids(world: World) -> list[str]:
    """Every object id of the other organization, as a form sends it."""
    return [str(pk) for pk in world.away.url_ids.values()] + [
        str(world.away.cycle.pk),
        str(world.stranger.pk),
    ]


# -- the endpoints -------------------------------------------------------------------------------

Data = Callable[[Tenant, World], dict]


@dataclass(frozen=True)
class Endpoint:
    """A POST endpoint: the form (or the request fields) it reads, a valid submission (over
    the form as its page shows it, when `edits_form`), the pages that show what it stores."""

    name: str
    reads: str
    data: Data
    shows: tuple[str, ...] = ()
    edits_form: bool = False
    ids: dict[str, int] = field(default_factory=dict)  # URL kwargs, when not the Tenant's


def _mapping_data(h: Tenant, w: World) -> dict:
    return {}  # the form as shown (edits_form) is the valid submission


def _d(days: int) -> str:
    return (datetime.date.today() + datetime.timedelta(days=days)).isoformat()


ENDPOINTS = [
    # missionos/urls.py, orgs/urls.py: outside any organization
    Endpoint(
        "login",
        "django.contrib.auth.forms.AuthenticationForm",
        lambda h, w: {"username": w.members[Role.OWNER].username, "password": PASSWORD},
    ),
    Endpoint("logout", "nothing (POST only)", lambda h, w: {}),
    Endpoint(
        "notifications",
        "okrs.forms.NotificationsForm",
        lambda h, w: {"check_in_reminders": "on"},
    ),
    # The signed token is in the query (`?t=`): a POST without one is refused, writes nothing.
    Endpoint("reminder_unsubscribe", "nothing (the query's signed token)", lambda h, w: {}),
    Endpoint(
        "sync_feed_notify",
        "the raw body and X-Airtable-Content-MAC",
        lambda h, w: {"base": "appX", "webhook": "achX", "timestamp": "now"},
    ),
    # orgs/org_urls.py
    Endpoint(
        "person_create",
        "orgs.forms.PersonForm",
        lambda h, w: {"name": "Dana", "email": "dana@example.org", "departed_on": ""},
        shows=("people_list",),
    ),
    Endpoint(
        "person_edit",
        "orgs.forms.PersonForm",
        lambda h, w: {"name": "Dana", "email": "dana@example.org"},
        shows=("people_list", "audit_log"),  # the log shows each value before and after
        edits_form=True,
    ),
    Endpoint(
        "member_list",
        "orgs.forms.InvitationForm",
        lambda h, w: {"email": w.newcomer.email or "newcomer@example.org", "role": "member"},
        shows=("member_list",),
    ),
    Endpoint("member_role", "orgs.forms.MemberRoleForm", lambda h, w: {"role": "admin"}),
    Endpoint("member_remove", "nothing (POST removes)", lambda h, w: {}),
    Endpoint("invitation_revoke", "nothing (POST revokes)", lambda h, w: {}),
    # okrs/urls.py
    Endpoint(
        "cycle_create",
        "okrs.forms.CycleForm",
        lambda h, w: {"name": "Next", "starts_on": _d(100), "ends_on": _d(190)},
        shows=("org_home",),
    ),
    Endpoint(
        "cycle_edit",
        "okrs.forms.CycleForm",
        lambda h, w: {"name": "Renamed"},
        shows=("org_home", "audit_log"),
        edits_form=True,
    ),
    # okrs/views/lifecycle.py: archive (and delete, for the kinds whose record is empty) and
    # restore read nothing but the URL; the Archive page shows what was archived.
    *(
        Endpoint(f"{kind}_{action}", "nothing (POST only)", lambda h, w: {}, shows=("archive",))
        for kind in ("cycle", "pathway", "objective", "key_result", "project", "task", "person")
        for action in ("archive", "restore")
    ),
    *(
        Endpoint(f"{kind}_delete", "nothing (POST only)", lambda h, w: {}, shows=("archive",))
        # (the key result holds the world's check-in: its delete is a refusal, not a write)
        for kind in ("task", "person")
    ),
    Endpoint(
        "cycle_carry_over",
        "okrs.forms.CarryOverForm",
        lambda h, w: {"objectives": [h.objective.pk], "next_cycle": h.next_cycle.pk},
        shows=("cycle_review", "objective_detail"),
    ),
    Endpoint(
        "objective_review_note",
        "okrs.forms.ObjectiveReviewForm",
        lambda h, w: {"note": "Closed well."},
        shows=("objective_review",),
    ),
    Endpoint(
        "pathway_create",
        "okrs.forms.PathwayForm",
        lambda h, w: {"name": "Reach", "description": "Far", "position": "9"},
        shows=("org_home",),
    ),
    Endpoint(
        "pathway_edit",
        "okrs.forms.PathwayForm",
        lambda h, w: {"name": "Reach", "description": "Far", "position": "9"},
        shows=("pathway_detail", "org_home"),
        edits_form=True,
    ),
    Endpoint(
        "objective_create",
        "okrs.forms.ObjectiveForm",
        lambda h, w: {
            "title": "Open clinics",
            "pathway": h.pathway.pk,
            "cycle": h.cycle.pk,
            "owner": h.person.pk,
            "parent": h.objective.pk,
            "description": "Two",
        },
        shows=("org_home", "pathway_detail"),
    ),
    Endpoint(
        "objective_edit",
        "okrs.forms.ObjectiveForm",
        lambda h, w: {"title": "Open clinics", "description": "Two"},
        shows=("objective_detail", "pathway_detail"),
        edits_form=True,
    ),
    Endpoint(
        "key_result_create",
        "okrs.forms.KeyResultForm",
        lambda h, w: {
            "title": "Clinics open",
            "metric_type": "number",
            "start_value": "0",
            "target_value": "2",
            "unit": "clinics",
            "weight": "1",
            "owner": h.person.pk,
        },
        shows=("objective_detail",),
    ),
    Endpoint(
        "key_result_edit",
        "okrs.forms.KeyResultForm",
        lambda h, w: {"title": "Clinics open", "unit": "clinics"},
        shows=("objective_detail",),
        edits_form=True,
    ),
    Endpoint(
        "check_in_create",
        "okrs.forms.CheckInForm (htmx: the key result's row)",
        lambda h, w: {"value": "30", "confidence": "7", "note": "On track"},
        shows=("objective_detail",),
    ),
    Endpoint(
        "check_in_edit",
        "okrs.forms.CheckInForm",
        lambda h, w: {"value": "40", "confidence": "6", "note": "Revised"},
        shows=("objective_detail",),
    ),
    Endpoint("check_in_delete", "nothing (a POST deletes)", lambda h, w: {}),
    Endpoint("check_in_restore", "nothing (a POST restores)", lambda h, w: {}),
    Endpoint(
        "objective_comment_create",
        "okrs.forms.CommentForm (htmx: the thread)",
        lambda h, w: {"body": f"Over to @{h.person.name}"},
        shows=("objective_detail",),
    ),
    Endpoint(
        "key_result_comment_create",
        "okrs.forms.CommentForm (htmx: the thread)",
        lambda h, w: {"body": f"Over to @{h.person.name}"},
        shows=("objective_detail",),
    ),
    Endpoint(
        "comment_edit",
        "okrs.forms.CommentForm",
        lambda h, w: {"body": "Second thoughts"},
        shows=("objective_detail",),
    ),
    Endpoint("comment_delete", "nothing (a POST deletes)", lambda h, w: {}),
    Endpoint(
        "project_create",
        "okrs.forms.ProjectForm",
        lambda h, w: {
            "name": "Night clinics",
            "pathway": h.pathway.pk,
            "objectives": [h.objective.pk],
            "owner": h.person.pk,
            "status": "planned",
            "starts_on": _d(1),
            "ends_on": _d(30),
            "description": "Late",
        },
        shows=("project_list",),
    ),
    Endpoint(
        "project_edit",
        "okrs.forms.ProjectForm",
        lambda h, w: {"name": "Night clinics", "description": "Late"},
        shows=("project_detail", "project_list"),
        edits_form=True,
    ),
    Endpoint(
        "task_create",
        "okrs.forms.TaskForm",
        lambda h, w: {
            "title": "Book the room",
            "assignee": h.person.pk,
            "status": "todo",
            "due_on": _d(3),
        },
        shows=("project_detail", "overdue_task_list"),
    ),
    Endpoint(
        "task_edit",
        "okrs.forms.TaskForm",
        lambda h, w: {"title": "Book the room", "due_on": _d(-3)},
        shows=("project_detail", "overdue_task_list", "audit_log"),
        edits_form=True,
    ),
    Endpoint(
        "task_status",
        "okrs.forms.TaskStatusForm (htmx: the task's row)",
        lambda h, w: {"status": "done"},
        shows=("project_detail",),
    ),
    # sync/urls.py
    Endpoint(
        "sync_connections",
        ConnectionForm.__module__ + ".ConnectionForm",
        lambda h, w: {"name": "Second plans", "base_id": SECOND_BASE_ID, "token": TOKEN},
        shows=("sync_connections", "audit_log"),
    ),
    Endpoint("sync_now", "request.POST['kind']", lambda h, w: {"kind": "full"}),
    Endpoint(
        "sync_schedule",
        ScheduleForm.__module__ + ".ScheduleForm",
        lambda h, w: {"incremental_every_minutes": "15", "full_at_hour": "3"},
    ),
    Endpoint("sync_token", TokenForm.__module__ + ".TokenForm", lambda h, w: {"token": TOKEN}),
    Endpoint(
        "sync_mapping",
        MappingForm.__module__ + ".MappingForm, or request.POST['refresh_schema']",
        _mapping_data,
        shows=("sync_mapping",),
        edits_form=True,
    ),
    Endpoint(
        "sync_writes",
        "request.POST['action'], ['table_id']",
        lambda h, w: {"action": "read_only", "table_id": T_TASKS},
        shows=("sync_connection",),
    ),
    Endpoint(
        "sync_conflict_resolve",
        "request.POST['keep'], ['next']",
        lambda h, w: {"keep": "airtable", "next": reverse("org_home", args=["acme"])},
        shows=("project_detail",),
    ),
    # health/urls.py
    Endpoint("health_recompute", "nothing", lambda h, w: {}, shows=("health_page",)),
    Endpoint(
        "finding_dismiss",
        "request.POST['undo'], the page's filters",
        lambda h, w: {"undo": "", "status": "open", "kind": "past_due", "severity": "high"},
        shows=("health_page",),
    ),
    Endpoint(
        "health_fix",
        "request.POST: action, project, status, person, to, model, survivor, ids, delete, confirm",
        lambda h, w: {
            "action": "close_project",
            "project": h.project.pk,
            "status": "done",
            "person": h.person.pk,
            "to": h.person.pk,
            "model": "task",
            "survivor": h.task.pk,
            "ids": [h.task.pk],
            "delete": "0",
            "confirm": "1",
        },
        shows=("health_page", "project_detail"),
    ),
    Endpoint("health_undo", "nothing", lambda h, w: {}, shows=("health_page",)),
    Endpoint("health_digest", "request.POST['enabled']", lambda h, w: {"enabled": "0"}, shows=()),
]
BY_NAME = {endpoint.name: endpoint for endpoint in ENDPOINTS}


def test_every_post_endpoint_is_fuzzed():
    """The POST endpoints of the URLconf: every organization page whose matrix entry writes
    (tests/orgs/test_role_matrix.py), and those outside any organization that take a POST."""
    posting = {name for name, url in PAGES.items() if isinstance(url.post, tuple)}
    assert all(isinstance(c, Changes) for name in posting for c in PAGES[name].post)
    outside = {name for _, name, params in walk() if "org_slug" not in params}
    outside_posting = {
        "login",
        "logout",
        "sync_feed_notify",
        "notifications",
        "reminder_unsubscribe",
    }
    assert outside_posting <= outside
    assert set(BY_NAME) == posting | outside_posting, (
        f"add to ENDPOINTS: {sorted(posting | outside_posting - set(BY_NAME))}; "
        f"stale: {sorted(set(BY_NAME) - posting - outside_posting)}"
    )
    assert len(ENDPOINTS) == len(BY_NAME)


# -- one request, and what it must not do --------------------------------------------------------

# What a refused request may still write, by endpoint: a failed login is counted (django-axes:
# orgs/throttle.py). database_state already leaves out what every visit writes (the session).
WRITTEN_WHEN_REFUSED = {"login": {"axes_accessattempt"}}
MISSING = object()


def endpoint_url(endpoint: Endpoint, world: World) -> str:
    if "org_slug" not in {p for _, name, params in walk() if name == endpoint.name for p in params}:
        return reverse(endpoint.name)
    return url_of(endpoint.name, slug=world.home.organization.slug, ids=world.home.url_ids)


def valid_data(endpoint: Endpoint, world: World, url: str) -> dict:
    data = endpoint.data(world.home, world)
    if endpoint.edits_form:
        data = {**form_as_shown(url, world.members[Role.OWNER]), **data}
    return {
        name: [str(v) for v in value] if isinstance(value, list) else str(value)
        for name, value in data.items()
    }


def refused(response) -> bool:
    """The request was turned down: a client error, an error message, a form with errors."""
    if response.status_code >= 400:
        return True
    queued = response.wsgi_request._messages._queued_messages  # this request's own
    if any(m.level >= message_levels.ERROR for m in queued):
        return True
    for context in response.context or []:
        for value in context.flatten().values():
            if isinstance(value, BaseForm) and value.is_bound and value.errors:
                return True
        if context.get("status_error"):
            return True
    return False


def assert_escaped(html: str, where: str) -> None:
    for raw in RAW:
        assert raw not in html, f"{where}: {raw!r} unescaped"


class Fuzzer:
    def __init__(self, endpoint: Endpoint, world: World):
        self.endpoint, self.world = endpoint, world
        self.url = endpoint_url(endpoint, world)
        self.valid = valid_data(endpoint, world, self.url)
        self.owner = world.members[Role.OWNER]
        self.client = Client()  # raise_request_exception: a view's exception fails the test
        self.client.force_login(self.owner)

    def post(self, data: dict, *, htmx: bool = False) -> None:
        """POST `data` in a savepoint rolled back after it, and check what the app did."""
        sent = {k: v for k, v in data.items() if v is not MISSING}
        with transaction.atomic():
            cache.clear()  # pages cached by an earlier request, since rolled back
            client = self.client
            if self.endpoint.name in ("login", "logout"):
                client = Client()
                if self.endpoint.name == "logout":
                    client.force_login(self.owner)
            client.cookies.pop("messages", None)  # an earlier request's, never shown
            headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
            response = client.post(self.url, sent, **headers)
            where = f"POST {self.url} {summary(sent)}{' (htmx)' if htmx else ''}"
            assert response.status_code < 500, f"{where}: {response.status_code}"
            body = response.content.decode(errors="replace")
            assert_escaped(body, where)
            if refused(response):
                changed = set(changed_tables(self.world.state, database_state()))
                changed -= WRITTEN_WHEN_REFUSED.get(self.endpoint.name, set())
                assert not changed, (
                    f"{where} was refused ({response.status_code}) but changed {changed}"
                )
            elif any(may_break_a_page(v) for v in flat(sent)):
                self.check_shown(client, response, where)
            transaction.set_rollback(True)

    def check_shown(self, client: Client, response, where: str) -> None:
        """The pages that show what was stored show it escaped."""
        pages = [
            url_of(name, slug="acme", ids=self.world.home.url_ids) for name in self.endpoint.shows
        ]
        if response.status_code == 302 and response.url.startswith("/o/"):
            pages.append(response.url)
        cache.clear()
        for page in pages:
            if resolve(page.split("?")[0]).url_name == "sync_feed_notify":
                continue
            shown = client.get(page)
            assert shown.status_code < 500, f"{where}, then GET {page}: {shown.status_code}"
            assert_escaped(shown.content.decode(errors="replace"), f"{where}, then GET {page}")


SHOWN_CHECKED = set(HOSTILE)


def may_break_a_page(value: str) -> bool:
    """A hostile value, stored: the pages that show it are read (random text is not)."""
    return value in SHOWN_CHECKED or "<" in value or "javascript:" in value


def flat(data: dict) -> list:
    return [v for value in data.values() for v in (value if isinstance(value, list) else [value])]


def summary(data: dict) -> str:
    def short(value):
        if isinstance(value, list):
            return [short(v) for v in value]
        value = str(value)
        return value if len(value) < 40 else f"{value[:20]!r}…({len(value)} chars)"

    return repr({k[:40]: short(v) for k, v in data.items()})


# -- the fuzz ------------------------------------------------------------------------------------


def field_values(valid: str | list, world: World):
    """What one field may be sent as."""
    scalar = valid[0] if isinstance(valid, list) and valid else valid
    hostile = st.sampled_from(HOSTILE + foreign_ids(world))
    anything = st.one_of(
        hostile,
        st.text(max_size=30),
        st.integers(min_value=-(10**30), max_value=10**30).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.dates(min_value=datetime.date(1, 1, 1)).map(str),
    )
    return st.one_of(
        st.just(valid),
        anything,
        st.just(MISSING),
        st.lists(anything, min_size=2, max_size=3),  # a list where a scalar is expected
        anything.map(lambda bad: [scalar, bad] if isinstance(scalar, str) else [bad]),  # doubled
    )


def submissions(valid: dict, world: World):
    fields = {name: field_values(value, world) for name, value in valid.items()}
    extra = st.dictionaries(
        st.sampled_from(["id", "organization", "organization_id", "pk", "__proto__", "x\x00y"]),
        st.sampled_from(HOSTILE + foreign_ids(world)),
        max_size=2,
    )
    return st.tuples(st.fixed_dictionaries(fields), extra, st.booleans())


# Examples per endpoint: enough for every run to try new mixes within the suite's time (the
# sweeps above try every hostile class each run); FUZZ_EXAMPLES=200 for a longer hunt.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # nothing written to the work tree; failures print their example
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_hostile_values_in_every_field(world, name):
    """The sweeps: each field alone given each hostile value of its kind (the rest valid,
    plain and htmx in turn), then every field at once each value, none, all doubled."""
    fuzzer = Fuzzer(BY_NAME[name], world)
    fuzzer.post(fuzzer.valid)  # the valid submission passes the same checks
    names = sorted(fuzzer.valid)
    # At most SWEEP_FIELDS fields alone (the mapping form has dozens): hypothesis mixes the rest.
    for field_name in names[:: max(1, -(-len(names) // SWEEP_FIELDS))]:
        valid = fuzzer.valid[field_name]
        values = SWEEP_ONE[kind_of(valid)]
        if kind_of(valid) == "number":
            values = [*values, *foreign_ids(world)[:2]]
        for i, value in enumerate(values):
            sent = [value] if isinstance(valid, list) else value
            fuzzer.post({**fuzzer.valid, field_name: sent}, htmx=bool(i % 2))
    for i, value in enumerate(SWEEP_ALL):
        fuzzer.post({field_name: value for field_name in fuzzer.valid}, htmx=bool(i % 2))
    fuzzer.post({})
    fuzzer.post(
        {
            field_name: [v, IMG] if isinstance(v, str) else [*v, *foreign_ids(world)]
            for field_name, v in fuzzer.valid.items()
        }
    )


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_random_submissions(world, name):
    fuzzer = Fuzzer(BY_NAME[name], world)

    @FUZZ_SETTINGS
    @given(submissions(fuzzer.valid, world))
    def fuzz(submission):
        fields, extra, htmx = submission
        fuzzer.post({**extra, **fields}, htmx=htmx)

    fuzz()


# -- the query parameters of the pages (htmx fragments among them) ------------------------------

# Each page that reads its query string, with the parameters it reads and the htmx target that
# asks for a fragment (test_every_query_parameter_is_fuzzed finds them in the views' source).
# The lists' filters (okrs.views.list_filters), read alike by each list and its download.
PLAN_FILTERS = ("cycle", "pathway", "objective", "owner", "health", "q", "since", "as_of")
TASK_FILTERS = ("project", "assignee", "status", "overdue", "as_of", "q")
GETS: dict[str, tuple[tuple[str, ...], str]] = {
    "org_home": (("fragment", "as_of", "cycle"), ""),
    "dashboard_report": (("as_of", "cycle"), ""),
    "objective_detail": (("fragment",), ""),
    "objective_create": (("pathway",), ""),
    "cycle_create": (("after",), ""),
    "project_list": (("status", "pathway", "owner", "q", "page"), "project-results"),
    "overdue_task_list": (("as_of", "page"), "overdue-results"),
    "objective_list": ((*PLAN_FILTERS, "page"), "objective-results"),
    "key_result_list": ((*PLAN_FILTERS, "page"), "key-result-results"),
    "check_in_list": ((*PLAN_FILTERS, "page"), "check-in-results"),
    "task_list": ((*TASK_FILTERS, "page"), "task-results"),
    "search": (("q",), ""),
    "health_page": (("status", "kind", "severity"), ""),
    "health_fix": (
        ("action", "project", "status", "person", "to", "model", "survivor", "ids", "delete"),
        "",
    ),
    "sync_run": (("page",), ""),
    "audit_log": (("actor", "kind", "action", "since", "until", "page"), "audit-results"),
    "audit_csv": (("actor", "kind", "action", "since", "until"), ""),
    # The downloads (okrs.exports, orgs.exports), with the filters of the page of each.
    "export_projects_csv": (("status", "pathway", "owner", "q", "page"), ""),
    "export_projects_xlsx": (("status", "pathway", "owner", "q"), ""),
    "export_tasks_csv": (TASK_FILTERS, ""),
    "export_tasks_xlsx": (TASK_FILTERS, ""),
    "export_objectives_csv": (PLAN_FILTERS, ""),
    "export_objectives_xlsx": (PLAN_FILTERS, ""),
    "export_key_results_csv": (PLAN_FILTERS, ""),
    "export_key_results_xlsx": (PLAN_FILTERS, ""),
    "export_check_ins_csv": (PLAN_FILTERS, ""),
    "export_check_ins_xlsx": (PLAN_FILTERS, ""),
}


def test_every_query_parameter_is_fuzzed():
    """The parameters the views read from `request.GET` (or `params`, or the data of a GET
    preview) are those GETS fuzzes."""
    from health import views as health_views
    from okrs import exports as okrs_exports
    from okrs.views import (
        dashboard,
        editing,
        list_filters,
        lists,
        objectives,
        projects,
        reports,
        search,
    )
    from orgs import forms as org_forms
    from orgs import views as org_views
    from sync import views as sync_views

    read = set()
    modules = (dashboard, editing, objectives, projects, health_views, sync_views, org_views)
    for module in (*modules, okrs_exports, reports, list_filters, lists, search):
        source = inspect.getsource(module)
        read |= set(re.findall(r"(?:GET|params|data)\.(?:get|getlist)\(\s*\"(\w+)\"", source))
    read |= {"confirm"}  # health_fix: a GET preview never applies, whatever it says
    # The audit log's filters are a form's fields (orgs.forms.AuditFilterForm).
    read |= set(org_forms.AuditFilterForm.base_fields)
    fuzzed = {param for params, _ in GETS.values() for param in params} | {"confirm"}
    assert read <= fuzzed, f"add to GETS: {sorted(read - fuzzed)}"


class Reader:
    def __init__(self, name: str, world: World):
        self.name, self.world = name, world
        self.params, self.target = GETS[name]
        self.url = url_of(name, slug="acme", ids=world.home.url_ids)
        self.client = Client()
        self.client.force_login(world.members[Role.OWNER])

    def get(self, params: dict, *, htmx: bool) -> None:
        sent = {k: v for k, v in params.items() if v is not MISSING}
        headers = {}
        if htmx:
            headers = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": self.target or "x"}
        with transaction.atomic():
            cache.clear()
            self.client.cookies.pop("messages", None)
            response = self.client.get(self.url, sent, **headers)
            where = f"GET {self.url} {summary(sent)}{' (htmx)' if htmx else ''}"
            assert response.status_code < 500, f"{where}: {response.status_code}"
            assert_escaped(matrix.response_text(response), where)
            changed = changed_tables(self.world.state, database_state())
            assert not changed, f"{where} changed {changed}"
            transaction.set_rollback(True)


GET_SWEEP = [*SWEEP_ALL, *SWEEP_ONE["date"], *SWEEP_ONE["number"], IMG, SVG, "live", "sync"]


@pytest.mark.parametrize("name", sorted(GETS))
def test_hostile_query_parameters(world, name):
    """Each parameter alone given each hostile value, plain and htmx in turn; then all at once."""
    reader = Reader(name, world)
    for param in reader.params:
        for i, value in enumerate(GET_SWEEP):
            reader.get({param: value}, htmx=bool(i % 2))
    reader.get({param: [SCRIPT, "\x00"] for param in reader.params}, htmx=True)
    reader.get({param: foreign_ids(world) for param in reader.params}, htmx=False)


@pytest.mark.parametrize("name", sorted(GETS))
def test_random_query_parameters(world, name):
    reader = Reader(name, world)
    valid = {param: "" for param in reader.params}

    @FUZZ_SETTINGS
    @given(submissions(valid, world))
    def fuzz(submission):
        params, extra, htmx = submission
        reader.get({**extra, **params}, htmx=htmx)

    fuzz()


@pytest.mark.parametrize("day", ["0001-01-01", "0001-01-07"])
def test_the_dashboard_as_of_the_first_week_of_year_one(world, day):
    """Found by the fuzz: OverflowError a week before year 1's first days (missionos.dates
    now keeps the dashboard to the dates MissionOS keeps)."""
    Reader("org_home", world).get({"as_of": day}, htmx=False)
