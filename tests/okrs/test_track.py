"""Issue 14, Track: editing and deleting check-ins (history kept, values recomputed, the sync
told), comments with @mentions, and the dashboard's cycle selector applying on change."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from okrs import progress, selectors, services
from okrs.models import CheckIn, CheckInRevision, Comment, Mention
from orgs.models import AuditEntry, Membership, Role
from sync.writeback import state
from tests.factories import (
    CycleFactory,
    KeyResultFactory,
    ObjectiveFactory,
    PersonFactory,
)

pytestmark = pytest.mark.django_db


def url(name, org, **kwargs):
    return reverse(name, kwargs={"org_slug": org.slug, **kwargs})


@pytest.fixture
def kr(org):
    return KeyResultFactory(organization=org, target_value=100, title="Clinics open")


@pytest.fixture
def people(org, member_of):
    author = member_of(org, Role.MEMBER, username="mia")
    return {
        "author": author,
        "colleague": member_of(org, Role.MEMBER, username="max"),
        "admin": member_of(org, Role.ADMIN, username="ada"),
        "viewer": member_of(org, Role.VIEWER, username="vic"),
    }


def membership(user, org):
    return Membership.objects.for_org(org).get(user=user)


# -- check-ins: services ---------------------------------------------------------------------


def test_edit_keeps_the_earlier_version_and_the_value_follows(org, kr, people):
    author = people["author"]
    first = services.check_in_create(key_result=kr, value=Decimal(20), confidence=6, author=author)
    services.check_in_update(
        check_in=first, value=Decimal(35), confidence=7, note=" typo fixed ", actor=author
    )
    kr.refresh_from_db()
    assert (kr.current_value, kr.confidence) == (35, 7)
    first.refresh_from_db()
    assert first.edited_at is not None and first.note == "typo fixed"
    [revision] = CheckInRevision.objects.for_org(org).filter(check_in=first)
    assert (revision.value, revision.confidence, revision.note) == (20, 6, "")
    assert revision.edited_by == author
    entry = AuditEntry.objects.for_org(org).filter(target_kind="check_in").get()
    assert entry.action == "edited" and entry.changes["value"] == ["20", "35"]
    # The same values again: no new version.
    services.check_in_update(
        check_in=first, value=Decimal(35), confidence=7, note="typo fixed", actor=author
    )
    assert CheckInRevision.objects.for_org(org).count() == 1


def test_delete_archives_it_and_the_value_goes_back(org, kr, people):
    author = people["author"]
    first = services.check_in_create(key_result=kr, value=Decimal(20), confidence=6, author=author)
    second = services.check_in_create(key_result=kr, value=Decimal(50), confidence=8, author=author)
    services.check_in_delete(check_in=second, actor=author)
    kr.refresh_from_db()
    assert (kr.current_value, kr.confidence) == (20, 6)
    kept = CheckIn.objects.for_org(org, include_archived=True).get(pk=second.pk)
    assert kept.archived_at is not None and kept.deleted_by == author
    assert list(CheckIn.objects.for_org(org)) == [first]
    # The last one too: back to the start value, not started again.
    services.check_in_delete(check_in=first, actor=author)
    kr.refresh_from_db()
    assert (kr.current_value, kr.confidence) == (kr.start_value, None)
    page = selectors.objective_page(organization=org, objective_id=kr.objective_id)
    assert page.live_key_results[0].started is False
    # An admin restores it.
    services.check_in_restore(check_in=kept, actor=people["admin"])
    kr.refresh_from_db()
    assert kr.current_value == 50
    assert AuditEntry.objects.for_org(org).filter(action="restored").exists()
    with pytest.raises(ValidationError):
        services.check_in_restore(check_in=kept, actor=people["admin"])


def test_who_may_change_a_check_in(org, other_org, kr, people, member_of):
    check_in = services.check_in_create(
        key_result=kr, value=Decimal(5), confidence=None, author=people["author"]
    )
    allowed = {
        name: services.check_in_changeable(check_in=check_in, membership=membership(user, org))
        for name, user in people.items()
    }
    assert allowed == {"author": True, "colleague": False, "admin": True, "viewer": False}
    outsider = member_of(other_org, Role.OWNER)
    assert not services.check_in_changeable(
        check_in=check_in, membership=membership(outsider, other_org)
    )


def test_synced_check_in_edit_and_delete_go_out_through_the_sync(org, kr, people, monkeypatch):
    """A synced check-in's edit is queued for write-back like any edit (orgs.changes), and a
    delete marks its Airtable record for deletion with the sync's own mark."""
    written = []
    monkeypatch.setattr(
        "okrs.services.check_ins.record_written",
        lambda *, record, actor=None: written.append(record),
    )
    check_in = CheckIn.objects.create(
        organization=org,
        key_result=kr,
        value=Decimal(10),
        source_table="tblCheckIns",
        source_record_id="recSYNCED0000001",
    )
    services.check_in_update(
        check_in=check_in, value=Decimal(12), confidence=None, actor=people["admin"]
    )
    assert check_in in written
    written.clear()
    services.check_in_delete(check_in=check_in, actor=people["admin"])
    assert check_in in written
    check_in.refresh_from_db()
    assert state.to_delete(check_in)
    # Deleted in Airtable meanwhile, then restored: made anew there.
    check_in.source_extra = {**check_in.source_extra, state.DELETED_IN_AIRTABLE: True}
    check_in.save()
    services.check_in_restore(check_in=check_in, actor=people["admin"])
    check_in.refresh_from_db()
    assert check_in.source_record_id is None and not state.to_delete(check_in)


# -- check-ins: views -------------------------------------------------------------------------


def test_check_in_pages_for_author_colleague_admin_and_other_org(
    client, org, other_org, kr, people
):
    check_in = services.check_in_create(
        key_result=kr, value=Decimal(5), confidence=None, author=people["author"]
    )
    objective_url = url("objective_detail", org, objective_id=kr.objective_id)
    edit = url("check_in_edit", org, check_in_id=check_in.pk)

    client.force_login(people["colleague"])
    assert client.get(edit).status_code == 403
    assert client.post(url("check_in_delete", org, check_in_id=check_in.pk)).status_code == 403
    page = client.get(objective_url).content.decode()
    assert edit not in page  # no Edit link on someone else's check-in

    client.force_login(people["author"])
    assert edit in client.get(objective_url).content.decode()
    response = client.post(edit, {"value": "8", "confidence": "4", "note": "recounted"})
    assert response.status_code == 302 and response.url == objective_url
    page = client.get(objective_url).content.decode()
    assert "edited" in page and "Earlier version" in page and "recounted" in page
    response = client.post(url("check_in_delete", org, check_in_id=check_in.pk))
    assert response.status_code == 302
    assert "Deleted check-ins" not in client.get(objective_url).content.decode()
    # Restoring is for admins: others are refused (403, as for any of the organization's own
    # records a role may not change, archived ones included: orgs.shortcuts).
    restore = url("check_in_restore", org, check_in_id=check_in.pk)
    assert client.post(restore).status_code == 403

    client.force_login(people["admin"])
    page = client.get(objective_url).content.decode()
    assert "Deleted check-ins" in page and restore in page
    assert client.post(restore).status_code == 302
    assert CheckIn.objects.for_org(org).filter(pk=check_in.pk).exists()

    # Another organization's check-in: 404 for every page, whatever the role.
    foreign = services.check_in_create(
        key_result=KeyResultFactory(organization=other_org),
        value=Decimal(1),
        confidence=None,
        author=None,
    )
    for name in ("check_in_edit", "check_in_delete", "check_in_restore"):
        assert client.post(url(name, org, check_in_id=foreign.pk)).status_code == 404


def test_invalid_edit_shows_the_error_and_changes_nothing(client, org, kr, people):
    check_in = services.check_in_create(
        key_result=kr, value=Decimal(5), confidence=None, author=people["author"]
    )
    client.force_login(people["author"])
    response = client.post(url("check_in_edit", org, check_in_id=check_in.pk), {"value": "x"})
    assert response.status_code == 400
    check_in.refresh_from_db()
    assert check_in.value == 5 and not CheckInRevision.objects.for_org(org).exists()


# -- comments -----------------------------------------------------------------------------


def test_comment_mentions_people_of_this_organization_only(org, other_org, kr, people):
    jo = PersonFactory(organization=org, name="Jo Former", user=people["colleague"])
    PersonFactory(organization=other_org, name="Bea Elsewhere")
    PersonFactory(organization=org, name="Ana Lima")
    PersonFactory(organization=org, name="Ana Souza")
    comment = services.comment_create(
        author=people["author"],
        body="  @jo former please check; @Bea Elsewhere and @Ana cannot tell  ",
        key_result=kr,
    )
    assert comment.body.startswith("@jo former")
    assert list(Mention.objects.for_org(org).values_list("person", flat=True)) == [jo.pk]
    assert comment.spans == [[0, 10, jo.pk]]
    thread = selectors.comment_thread(
        organization=org, record=kr, membership=membership(people["author"], org)
    )
    html = str(thread.comments[0].html)
    assert '<span class="mention" title="Jo Former">@jo former</span>' in html
    assert "@Bea Elsewhere" in html and "Bea Elsewhere</span>" not in html
    assert thread.comments[0].can_change
    # Jo sees it on My work; editing the mention away removes it from there.
    [mention] = selectors.my_mentions(user=people["colleague"])
    assert mention.comment == comment and mention.objective == kr.objective
    services.comment_update(comment=comment, body="never mind", actor=people["author"])
    assert not Mention.objects.for_org(org).exists()
    assert selectors.my_mentions(user=people["colleague"]) == []
    assert set(
        AuditEntry.objects.for_org(org)
        .filter(target_kind="comment")
        .values_list("action", flat=True)
    ) == {"created", "edited"}
    services.comment_delete(comment=comment, actor=people["author"])
    assert not Comment.objects.for_org(org).exists()


def test_comment_needs_one_record_and_some_text(org, kr, people):
    with pytest.raises(ValidationError):
        services.comment_create(author=people["author"], body="x")
    with pytest.raises(ValidationError):
        services.comment_create(
            author=people["author"], body="x", objective=kr.objective, key_result=kr
        )
    with pytest.raises(ValidationError):
        services.comment_create(author=people["author"], body="   ", objective=kr.objective)


def test_posting_a_comment_with_htmx_answers_the_thread(client, org, other_org, kr, people):
    PersonFactory(organization=org, name="Jo Former", user=people["colleague"])
    objective = kr.objective
    client.force_login(people["author"])
    post = url("objective_comment_create", org, objective_id=objective.pk)
    response = client.post(post, {"body": "<b>Hi</b> @Jo Former"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="comments-objective-{objective.pk}"' in html
    assert "&lt;b&gt;Hi&lt;/b&gt;" in html and '<span class="mention"' in html
    assert "<b>Hi</b>" not in html
    # Refused (empty): the thread again with the error, nothing stored.
    response = client.post(post, {"body": "  "}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    assert Comment.objects.for_org(org).count() == 1
    # Without JavaScript: back to the objective.
    response = client.post(
        url("key_result_comment_create", org, key_result_id=kr.pk), {"body": "On the KR"}
    )
    assert response.status_code == 302
    page = client.get(url("objective_detail", org, objective_id=objective.pk)).content.decode()
    assert "On the KR" in page and f'id="comments-kr-{kr.pk}"' in page
    # Viewers read but do not post; another organization's objective is 404.
    client.force_login(people["viewer"])
    assert client.post(post, {"body": "x"}).status_code == 403
    foreign = ObjectiveFactory(organization=other_org)
    client.force_login(people["author"])
    response = client.post(
        url("objective_comment_create", org, objective_id=foreign.pk), {"body": "x"}
    )
    assert response.status_code == 404
    # My work lists the mention for Jo.
    client.force_login(people["colleague"])
    page = client.get(reverse("my_work")).content.decode()
    assert (
        "Mentions" in page and '<span class="mention" title="Jo Former">@Jo Former</span>' in page
    )


def test_only_the_author_edits_or_deletes_a_comment(client, org, kr, people):
    comment = services.comment_create(author=people["author"], body="Mine", objective=kr.objective)
    for who in ("colleague", "admin"):
        client.force_login(people[who])
        assert client.get(url("comment_edit", org, comment_id=comment.pk)).status_code == 403
        assert client.post(url("comment_delete", org, comment_id=comment.pk)).status_code == 403
    client.force_login(people["author"])
    response = client.post(url("comment_edit", org, comment_id=comment.pk), {"body": "Mine, v2"})
    assert response.status_code == 302
    comment.refresh_from_db()
    assert comment.body == "Mine, v2" and comment.edited_at is not None
    page = client.get(url("objective_detail", org, objective_id=kr.objective_id)).content.decode()
    assert "(edited)" in page
    assert client.post(url("comment_delete", org, comment_id=comment.pk)).status_code == 302
    assert not Comment.objects.for_org(org).exists()


# -- the cycle selector ------------------------------------------------------------------------


def test_the_cycle_selector_applies_on_change_and_keeps_its_button_for_no_js(owner_client, org):
    CycleFactory(organization=org, name="Q1")
    page = owner_client.get(url("org_home", org)).content.decode()
    form = page[page.index('<form class="view-picker"') :]
    form = form[: form.index("</form>")]
    assert 'hx-get="/o/acme/"' in form and 'hx-trigger="change, submit"' in form
    assert 'hx-push-url="true"' in form and 'hx-select="#main"' in form
    assert '<button type="submit" class="button no-js-only">Show</button>' in form


def test_the_cached_dashboard_follows_an_edit_and_a_delete(
    org, people, settings, django_capture_on_commit_callbacks
):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    today = datetime.date.today()
    cycle = CycleFactory(
        organization=org,
        starts_on=today - datetime.timedelta(days=10),
        ends_on=today + datetime.timedelta(days=80),
    )
    objective = ObjectiveFactory(organization=org, cycle=cycle)
    kr = KeyResultFactory(organization=org, objective=objective, target_value=10)
    check_in = services.check_in_create(
        key_result=kr, value=Decimal(5), confidence=None, author=people["author"]
    )

    def pathway():
        [card] = selectors.cached_dashboard(organization=org).pathways
        return card

    assert pathway().progress == pytest.approx(0.5)
    with django_capture_on_commit_callbacks(execute=True):  # the plan version is retired
        services.check_in_update(
            check_in=check_in, value=Decimal(2), confidence=None, actor=people["author"]
        )
    assert pathway().progress == pytest.approx(0.2)
    with django_capture_on_commit_callbacks(execute=True):
        services.check_in_delete(check_in=check_in, actor=people["author"])
    card = pathway()
    assert card.progress is None  # its only objective is not started again
    assert card.health_counts[progress.Health.NOT_STARTED] == 1
