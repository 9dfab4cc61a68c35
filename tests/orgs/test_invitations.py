"""Nobody joins an organization without accepting an emailed invitation; inviting tells the
owner nothing about which accounts exist; a link works once, for its address, until it expires
or is withdrawn."""

from __future__ import annotations

import datetime
import hashlib
import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from orgs import invitations
from orgs.models import Invitation, Membership, Role
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LINK = re.compile(r"(https?://[^/\s]+)/invitations/([\w-]+)/")


def invite(browser, org, email, role="member"):
    return browser.post(reverse("member_list", args=[org.slug]), {"email": email, "role": role})


def last_token() -> str:
    return LINK.search(mail.outbox[-1].body).group(2)


def invitation_url(token: str) -> str:
    return reverse("invitation", args=[token])


def is_member(user, org) -> bool:
    return Membership.objects.for_org(org).filter(user=user).exists()


@pytest.fixture
def browser() -> Client:
    """A second browser (the `client` fixture is the owner's)."""
    return Client()


@pytest.fixture
def ravi(db):
    return UserFactory(username="ravi", email="ravi@example.org")


def test_an_owner_invites_and_nobody_joins_until_they_accept(
    owner_client, org, ravi, browser, settings
):
    settings.SITE_URL = "https://missionos.example"
    response = invite(owner_client, org, "  Ravi@Example.ORG ", role="admin")
    assert response.status_code == 302
    stored = Invitation.objects.for_org(org).get()
    assert (stored.email, stored.role, stored.invited_by.username) == (
        "ravi@example.org",
        Role.ADMIN,
        "olivia",
    )
    assert not is_member(ravi, org)  # invited is not added

    (message,) = mail.outbox
    assert message.to == ["ravi@example.org"]
    assert "olivia invited you to Acme Health" in message.subject
    host, token = LINK.search(message.body).groups()
    assert host == "https://missionos.example"
    assert f"https://missionos.example/invitations/{token}/" in message.alternatives[0][0]
    # The token itself is stored nowhere: only its SHA-256.
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in repr(Invitation.objects.for_org(org).values().get())

    owner_client.logout()
    browser.force_login(ravi)
    page = browser.get(invitation_url(token))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Join Acme Health" in text and "Admin" in text and "olivia" in text
    assert not is_member(ravi, org)  # looking is not accepting

    accepted = browser.post(invitation_url(token))
    assert accepted.status_code == 302
    assert accepted["Location"] == reverse("org_home", args=[org.slug])
    welcome = browser.get(accepted["Location"]).content.decode()
    assert "Welcome to Acme Health. Your role is admin." in welcome
    assert Membership.objects.for_org(org).get(user=ravi).role == Role.ADMIN
    stored.refresh_from_db()
    assert stored.accepted_at is not None and stored.accepted_by == ravi


def test_inviting_reveals_nothing_about_which_accounts_exist(owner_client, org, ravi, clock):
    """The answer, the page after it and the email are the same for an address with an
    account and one without, but for the address (and the random token)."""

    def exchange(email: str):
        response = invite(owner_client, org, email)
        page = owner_client.get(response["Location"]).content.decode()
        message = mail.outbox[-1]
        token = LINK.search(message.body).group(2)

        def blank(text: str) -> str:
            return text.replace(email, "ADDRESS").replace(token, "TOKEN")

        page = re.sub(r'id="invitation-\d+"', "", page)
        page = re.sub(r"/invitations/\d+/", "/invitations/N/", page)
        page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page)
        page = re.sub(r'"X-CSRFToken": "[^"]+"', "", page)
        Invitation.objects.for_org(org).delete()  # the next one starts from the same page
        return (
            response.status_code,
            response["Location"],
            blank(page),
            blank(message.subject),
            blank(message.body),
            blank(message.alternatives[0][0]),
            message.to == [email],
        )

    assert exchange(ravi.email) == exchange("nobody@example.org")


def test_inviting_someone_already_a_member_says_so(owner_client, org, member_of):
    member_of(org, Role.VIEWER, username="vera", email="vera@example.org")
    response = invite(owner_client, org, "VERA@example.org")
    assert response.status_code == 400
    assert "vera@example.org is already a member." in response.content.decode()
    assert mail.outbox == []
    assert not Invitation.objects.for_org(org).exists()


def test_the_silent_add_by_username_is_gone(owner_client, org, ravi):
    response = owner_client.post(
        reverse("member_list", args=[org.slug]), {"identifier": "ravi", "role": "member"}
    )
    assert response.status_code == 400
    response = invite(owner_client, org, "ravi")  # a username is not an address
    assert response.status_code == 400
    assert "Enter a valid email address." in response.content.decode()
    assert not is_member(ravi, org)
    assert mail.outbox == []


def test_inviting_again_refreshes_the_link_and_kills_the_old_one(
    owner_client, org, ravi, browser, clock
):
    invite(owner_client, org, ravi.email)
    first = last_token()
    clock.advance(days=6)
    invite(owner_client, org, ravi.email, role="viewer")
    second = last_token()
    assert first != second
    stored = Invitation.objects.for_org(org).get()  # one invitation, refreshed
    assert stored.role == Role.VIEWER
    assert stored.expires_at == clock.now + datetime.timedelta(days=7)

    browser.force_login(ravi)
    old = browser.post(invitation_url(first))
    assert old.status_code == 404
    assert "This invitation link is not valid" in old.content.decode()
    assert not is_member(ravi, org)
    assert browser.post(invitation_url(second)).status_code == 302
    assert Membership.objects.for_org(org).get(user=ravi).role == Role.VIEWER


def test_a_visitor_signs_in_first_and_comes_back_to_the_invitation(owner_client, org, ravi):
    invite(owner_client, org, ravi.email)
    token = last_token()
    owner_client.logout()
    url = invitation_url(token)
    response = owner_client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"
    accepted_anonymously = owner_client.post(url)
    assert accepted_anonymously["Location"] == f"{reverse('login')}?next={url}"
    assert not is_member(ravi, org)
    logged_in = owner_client.post(
        reverse("login"), {"username": "ravi", "password": PASSWORD, "next": url}
    )
    assert logged_in["Location"] == url
    assert "Join Acme Health" in owner_client.get(url).content.decode()
    assert owner_client.post(url).status_code == 302
    assert is_member(ravi, org)


def test_a_link_works_once(owner_client, org, ravi, browser):
    invite(owner_client, org, ravi.email)
    token = last_token()
    browser.force_login(ravi)
    browser.post(invitation_url(token))
    membership = Membership.objects.for_org(org).get(user=ravi)
    membership.delete()  # removed since: the old link does not bring them back
    again = browser.post(invitation_url(token))
    assert again.status_code == 410
    assert "This invitation has already been used" in again.content.decode()
    assert not is_member(ravi, org)


def test_an_expired_link_makes_no_member(owner_client, org, ravi, browser, clock, settings):
    settings.INVITATION_EXPIRY_DAYS = 2
    invite(owner_client, org, ravi.email)
    token = last_token()
    clock.advance(days=2, seconds=1)
    browser.force_login(ravi)
    for method in (browser.get, browser.post):
        response = method(invitation_url(token))
        assert response.status_code == 410
        assert "This invitation has expired" in response.content.decode()
    assert not is_member(ravi, org)
    # The owner sees it expired and can send it again.
    page = owner_client.get(reverse("member_list", args=[org.slug])).content.decode()
    assert "Expired" in page and "Send again" in page


def test_a_revoked_link_makes_no_member(owner_client, org, ravi, browser):
    invite(owner_client, org, ravi.email)
    token = last_token()
    stored = Invitation.objects.for_org(org).get()
    response = owner_client.post(reverse("invitation_revoke", args=[org.slug, stored.pk]))
    assert response.status_code == 302
    stored.refresh_from_db()
    assert stored.revoked_at is not None
    members_page = owner_client.get(reverse("member_list", args=[org.slug])).content.decode()
    assert f'id="invitation-{stored.pk}"' not in members_page  # no longer pending

    browser.force_login(ravi)
    for method in (browser.get, browser.post):
        response = method(invitation_url(token))
        assert response.status_code == 410
        assert "This invitation was withdrawn" in response.content.decode()
    assert not is_member(ravi, org)


def test_an_unknown_link_is_not_found(browser, ravi):
    browser.force_login(ravi)
    response = browser.post(invitation_url("made-up-token"))
    assert response.status_code == 404
    assert "This invitation link is not valid" in response.content.decode()


def test_only_the_invited_address_may_accept(owner_client, org, ravi, browser):
    invite(owner_client, org, ravi.email)
    token = last_token()
    mallory = UserFactory(username="mallory", email="mallory@example.org")
    browser.force_login(mallory)  # a forwarded link
    for method in (browser.get, browser.post):
        response = method(invitation_url(token))
        assert response.status_code == 403
        page = response.content.decode()
        assert "This invitation is for another account" in page
        assert "was sent to <strong>ravi@example.org</strong>" in page
        assert "Log out and switch account" in page
        # The logout form brings them back to the invitation after signing in again.
        assert f'value="/login/?next=%2Finvitations%2F{token}%2F"' in page
    assert not is_member(mallory, org)
    assert Invitation.objects.for_org(org).get().accepted_at is None


def test_the_address_matches_whatever_its_case(owner_client, org, browser):
    invite(owner_client, org, "ravi@example.org")
    token = last_token()
    ravi = UserFactory(username="ravi2", email="  Ravi@EXAMPLE.org")
    browser.force_login(ravi)
    assert browser.post(invitation_url(token)).status_code == 302
    assert is_member(ravi, org)


def test_an_account_made_after_the_invitation_can_accept_it(owner_client, org, browser):
    """No account existed when invited; one made later for the address accepts as any."""
    invite(owner_client, org, "newcomer@example.org", role="viewer")
    token = last_token()
    newcomer = UserFactory(username="newcomer", email="newcomer@example.org")
    browser.force_login(newcomer)
    assert browser.post(invitation_url(token)).status_code == 302
    assert Membership.objects.for_org(org).get(user=newcomer).role == Role.VIEWER


def test_the_members_page_lists_pending_invitations_with_their_expiry(owner_client, org, other_org):
    invite(owner_client, org, "pat@example.org", role="viewer")
    invitations.invitation_create(
        organization=other_org, email="secret@example.org", role=Role.MEMBER, invited_by=None
    )
    page = owner_client.get(reverse("member_list", args=[org.slug])).content.decode()
    stored = Invitation.objects.for_org(org).get()
    assert "pat@example.org" in page and "Viewer" in page
    assert stored.expires_at.strftime("%-d %b %Y") in page
    assert reverse("invitation_revoke", args=[org.slug, stored.pk]) in page
    assert "secret@example.org" not in page  # another organization's


def test_another_organizations_invitation_cannot_be_revoked(owner_client, org, other_org):
    theirs = invitations.invitation_create(
        organization=other_org, email="them@example.org", role=Role.MEMBER, invited_by=None
    )
    response = owner_client.post(reverse("invitation_revoke", args=[org.slug, theirs.pk]))
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_an_accepted_invitation_cannot_be_revoked(owner_client, org, ravi, browser):
    invite(owner_client, org, ravi.email)
    browser.force_login(ravi)
    browser.post(invitation_url(last_token()))
    stored = Invitation.objects.for_org(org).get()
    response = owner_client.post(
        reverse("invitation_revoke", args=[org.slug, stored.pk]), follow=True
    )
    assert "ravi@example.org has already accepted." in response.content.decode()
    assert is_member(ravi, org)


def test_a_member_who_is_invited_again_keeps_their_role(org, member_of, browser):
    """Invited before they joined another way (or invited twice by two owners)."""
    vera = member_of(org, Role.ADMIN, username="vera", email="vera@example.org")
    Membership.objects.for_org(org).filter(user=vera).delete()
    invitations.invitation_create(
        organization=org, email=vera.email, role=Role.VIEWER, invited_by=None
    )
    token = last_token()
    Membership.objects.create(organization=org, user=vera, role=Role.ADMIN)
    browser.force_login(vera)
    page = browser.get(invitation_url(token)).content.decode()
    assert "You are already a member of Acme Health as admin" in page
    assert browser.post(invitation_url(token)).status_code == 302
    assert Membership.objects.for_org(org).get(user=vera).role == Role.ADMIN
