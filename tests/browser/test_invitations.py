"""Invitations in Chromium: an owner invites by email, the invitee opens the emailed link,
signs in, accepts and lands in the organization; a withdrawn link says so. And, under the
real ASGI server, a removed member's open event stream ends within moments."""

from __future__ import annotations

import http.client
import re
import threading
import time

from django.test import Client
from playwright.sync_api import expect

from orgs import services
from orgs.models import Membership, Role
from tests.browser.conftest import invite, shoot
from tests.factories import PASSWORD, MembershipFactory, UserFactory


def log_in(page, username: str) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_invite_accept_and_revoke(live_server, browser, acme, settings, screenshot_dir):
    settings.SITE_URL = live_server.url
    ravi = UserFactory(username="ravi", email="ravi@example.org")
    owner_context = browser.new_context(viewport={"width": 1280, "height": 800})
    owner = owner_context.new_page()
    owner.goto(live_server.url + "/login/")
    log_in(owner, "olivia")

    # An existing account.
    link = invite(owner, live_server.url, "Ravi@Example.org", "admin")
    assert not Membership.objects.for_org(acme).filter(user=ravi).exists()
    # A new person: no account yet when invited (one is made for them before they open it).
    newbie_link = invite(owner, live_server.url, "newbie@example.org", "viewer")
    # Someone whose invitation is withdrawn before they open it.
    withdrawn_link = invite(owner, live_server.url, "pat@example.org", "member")
    pending = owner.get_by_role("region", name="Pending invitations")
    expect(pending.get_by_role("row")).to_have_count(4)  # the header and three invitations
    shoot(owner, screenshot_dir, "members-invitations")
    pending.get_by_role("button", name="Revoke the invitation to pat@example.org").click()
    expect(owner.get_by_text("Invitation to pat@example.org withdrawn.")).to_be_visible()
    expect(pending.get_by_role("row")).to_have_count(3)

    for username, email, url, role in [
        ("ravi", "ravi@example.org", link, "Admin"),
        ("newbie", "newbie@example.org", newbie_link, "Viewer"),
    ]:
        if username == "newbie":
            UserFactory(username="newbie", email=email)
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        invitee = context.new_page()
        invitee.goto(url)
        expect(invitee.get_by_role("heading", name="Log in to MissionOS")).to_be_visible()
        log_in(invitee, username)
        expect(invitee.get_by_role("heading", name="Join Acme Health")).to_be_visible()
        expect(invitee.get_by_text(role, exact=True)).to_be_visible()
        expect(invitee.get_by_text("Olivia", exact=True).first).to_be_visible()
        if username == "ravi":
            shoot(invitee, screenshot_dir, "invitation")
        invitee.get_by_role("button", name="Accept and join").click()
        expect(invitee).to_have_url(re.compile(r"/o/acme/$"))
        welcome = f"Welcome to Acme Health. Your role is {role.lower()}."
        expect(invitee.get_by_text(welcome)).to_be_visible()
        assert Membership.objects.for_org(acme).get(user__username=username).role == role.lower()
        if username == "ravi":
            shoot(invitee, screenshot_dir, "invitation-accepted")
            # The link is used up: opening it again says so.
            invitee.goto(url)
            expect(invitee.get_by_role("heading", level=1)).to_have_text(
                "This invitation has already been used"
            )
        context.close()

    # The withdrawn link, opened by its addressee.
    UserFactory(username="pat", email="pat@example.org")
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    pat = context.new_page()
    pat.goto(withdrawn_link)
    log_in(pat, "pat")
    expect(pat.get_by_role("heading", level=1)).to_have_text("This invitation was withdrawn")
    shoot(pat, screenshot_dir, "invitation-withdrawn")
    assert not Membership.objects.for_org(acme).filter(user__username="pat").exists()

    # A link forwarded to someone else: which address it is for, and how to switch.
    other_link = invite(owner, live_server.url, "sam@example.org", "member")
    pat.goto(other_link)
    expect(pat.get_by_role("heading", level=1)).to_have_text(
        "This invitation is for another account"
    )
    expect(pat.get_by_text("sam@example.org").first).to_be_visible()
    shoot(pat, screenshot_dir, "invitation-wrong-account")
    UserFactory(username="sam", email="sam@example.org")
    pat.get_by_role("button", name="Log out and switch account").click()
    expect(pat.get_by_role("heading", name="Log in to MissionOS")).to_be_visible()
    log_in(pat, "sam")
    expect(pat.get_by_role("heading", name="Join Acme Health")).to_be_visible()
    context.close()
    owner_context.close()


def test_a_removed_members_stream_ends_under_uvicorn(asgi_server, acme, settings):
    """The real server: a member's open event stream ends once they are removed."""
    settings.EVENT_STREAM_RECHECK_SECONDS = 60  # the membership notice, not the backstop
    maya = UserFactory(username="maya")
    MembershipFactory(user=maya, organization=acme, role=Role.MEMBER)
    client = Client()
    client.force_login(maya)
    cookie = f"sessionid={client.cookies['sessionid'].value}"

    connection = http.client.HTTPConnection("127.0.0.1", asgi_server.port, timeout=15)
    connection.request("GET", "/o/acme/events/", headers={"Cookie": cookie})
    response = connection.getresponse()
    assert response.status == 200
    assert response.readline().startswith(b"retry: ")
    ended = threading.Event()

    def read_to_the_end() -> None:
        while response.readline():
            pass
        ended.set()

    threading.Thread(target=read_to_the_end, daemon=True).start()
    time.sleep(0.2)  # the stream is subscribed (the retry hint came after the subscription)
    started = time.monotonic()
    services.membership_remove(membership=Membership.objects.for_org(acme).get(user=maya))
    assert ended.wait(10), "the stream was still open 10 s after the removal"
    seconds = time.monotonic() - started
    print(f"uvicorn: a removed member's stream ended {seconds * 1000:.0f} ms after the removal")
    assert seconds < 2.0
    connection.close()
    # Reconnecting is refused.
    again = http.client.HTTPConnection("127.0.0.1", asgi_server.port, timeout=5)
    again.request("GET", "/o/acme/events/", headers={"Cookie": cookie})
    assert again.getresponse().status == 404
    again.close()
