"""Accepting an invitation with Supabase Auth configured, in Chromium, against the fake in
devtools/fakesupabase/: the owner invites an address with no MissionOS account; its invitee
opens the emailed link, signs in through Supabase (password, or the magic link from the fake's
mailbox), which makes their account, comes back to the invitation and joins. Someone signed in
with another address is refused, and switching to the invited address comes back to the
invitation. Screenshots at 1366 and 390 px wide go to
artifacts/screenshots/supabase-invitation-*.png."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from orgs.models import Membership, SupabaseIdentity
from tests.browser.conftest import invite, shoot, supabase_sign_in
from tests.orgs.supabase_helpers import PASSWORD

User = get_user_model()
DESKTOP = (1366, 768)


@pytest.fixture
def invitation_link(live_server, browser, acme, supabase, settings):
    """`invitation_link(email, role)`: Olivia, Acme's owner, signs in through Supabase (her
    verified address links her existing account) and invites `email`; the emailed link."""
    settings.SITE_URL = live_server.url
    supabase.create_user("olivia@example.org", PASSWORD)
    context = browser.new_context(viewport={"width": DESKTOP[0], "height": DESKTOP[1]})
    owner = context.new_page()
    owner.goto(live_server.url + "/login/")
    supabase_sign_in(owner, "olivia@example.org")
    expect(owner.get_by_role("heading", level=1)).to_have_text("Acme Health")

    def send(email: str, role: str) -> str:
        assert not User.objects.filter(email__iexact=email).exists()
        return invite(owner, live_server.url, email, role)

    try:
        yield send
    finally:
        context.close()


@pytest.fixture
def invitee(browser):
    """A fresh browser context (no cookies) at the desktop size."""
    context = browser.new_context(viewport={"width": DESKTOP[0], "height": DESKTOP[1]})
    try:
        yield context.new_page()
    finally:
        context.close()


def membership(acme, email: str) -> Membership | None:
    return Membership.objects.for_org(acme).filter(user__email=email).first()


def accept(page, role: str) -> None:
    """On the invitation page: accept, and land on Acme's dashboard with the role."""
    expect(page.get_by_role("heading", name="Join Acme Health")).to_be_visible()
    expect(page.get_by_text(role, exact=True)).to_be_visible()
    page.get_by_role("button", name="Accept and join").click()
    expect(page).to_have_url(re.compile(r"/o/acme/$"))
    welcome = f"Welcome to Acme Health. Your role is {role.lower()}."
    expect(page.get_by_role("status").get_by_text(welcome)).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme Health")
    expect(page.locator(".role-tag")).to_have_text(f"Your role: {role}")


def test_password_sign_in_from_the_link_creates_the_account_and_joins(
    live_server, invitation_link, invitee, supabase, acme, screenshot_dir
):
    link = invitation_link("Nia@Example.org", "member")
    supabase.create_user("nia@example.org", PASSWORD)

    invitee.goto(link)
    expect(invitee).to_have_url(re.compile(r"/login/\?next=/invitations/"))
    expect(invitee.get_by_role("heading", level=1)).to_have_text("Sign in to MissionOS")
    shoot(invitee, screenshot_dir, "supabase-invitation-login", desktop=DESKTOP)
    supabase_sign_in(invitee, "nia@example.org")

    expect(invitee).to_have_url(link)
    nia = User.objects.get(email="nia@example.org")  # made by the first sign-in
    assert SupabaseIdentity.objects.get(user=nia).email == "nia@example.org"
    assert membership(acme, "nia@example.org") is None  # not before accepting
    expect(invitee.get_by_text("Olivia", exact=True).first).to_be_visible()
    shoot(invitee, screenshot_dir, "supabase-invitation", desktop=DESKTOP)

    accept(invitee, "Member")
    assert membership(acme, "nia@example.org").role == "member"
    shoot(invitee, screenshot_dir, "supabase-invitation-accepted", desktop=DESKTOP)


def test_magic_link_from_the_invitation_comes_back_to_it(
    live_server, invitation_link, invitee, supabase, acme, screenshot_dir
):
    link = invitation_link("ada@example.org", "viewer")
    supabase.create_user("ada@example.org", PASSWORD)

    invitee.goto(link)
    invitee.get_by_role("link", name="Email me a sign-in link or code").click()
    expect(invitee.get_by_role("heading", level=1)).to_have_text("Sign in by email")
    invitee.get_by_label("Email").fill("ada@example.org")
    invitee.get_by_role("button", name="Email me a link and code").click()
    expect(invitee.get_by_role("heading", level=1)).to_have_text("Check your email")
    shoot(invitee, screenshot_dir, "supabase-invitation-check-email", desktop=DESKTOP)

    invitee.goto(supabase.last_mail("ada@example.org", "magiclink").link)

    expect(invitee).to_have_url(link)
    assert SupabaseIdentity.objects.get(email="ada@example.org").user.email == "ada@example.org"
    accept(invitee, "Viewer")
    assert membership(acme, "ada@example.org").role == "viewer"


def test_someone_signed_in_with_another_address_is_refused(
    live_server, invitation_link, invitee, supabase, acme, screenshot_dir
):
    link = invitation_link("sam@example.org", "admin")
    supabase.create_user("pat@example.org", PASSWORD)
    invitee.goto(live_server.url + "/login/")
    supabase_sign_in(invitee, "pat@example.org")
    expect(invitee.get_by_role("heading", level=1)).to_have_text(
        "You do not belong to an organization yet"
    )

    response = invitee.goto(link)

    assert response.status == 403
    expect(invitee.get_by_role("heading", level=1)).to_have_text(
        "This invitation is for another account"
    )
    expect(invitee.get_by_text("sam@example.org").first).to_be_visible()
    expect(invitee.get_by_role("button", name="Accept and join")).to_have_count(0)
    shoot(invitee, screenshot_dir, "supabase-invitation-wrong-account", desktop=DESKTOP)

    # Accepting anyway (a POST to the link, with the page's CSRF token) is refused the same.
    with invitee.expect_navigation() as posted:
        invitee.evaluate(
            """() => {
                const form = document.createElement("form");
                form.method = "post";
                form.append(document.querySelector("[name=csrfmiddlewaretoken]").cloneNode());
                document.body.append(form);
                form.submit();
            }"""
        )
    assert posted.value.status == 403
    expect(invitee.get_by_role("heading", level=1)).to_have_text(
        "This invitation is for another account"
    )
    assert membership(acme, "pat@example.org") is None
    assert Membership.objects.for_org(acme).count() == 1  # Olivia alone

    # Switching to the invited address, through Supabase, comes back to the invitation.
    supabase.create_user("sam@example.org", PASSWORD)
    invitee.get_by_role("button", name="Log out and switch account").click()
    expect(invitee.get_by_role("heading", level=1)).to_have_text("Sign in to MissionOS")
    supabase_sign_in(invitee, "sam@example.org")
    expect(invitee).to_have_url(link)
    expect(invitee.get_by_role("heading", name="Join Acme Health")).to_be_visible()
