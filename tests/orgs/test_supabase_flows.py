"""The Supabase flows that go by email, through the Django test client and the fake's mailbox:
magic link (PKCE: the verifier kept in the Django session), 6-digit code, sign-up with its
confirmation link, password reset with its recovery link."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY, get_user_model

from orgs.models import SupabaseIdentity
from tests.orgs.supabase_helpers import PASSWORD, open_mail_link, sign_in

pytestmark = pytest.mark.django_db
User = get_user_model()


def signed_in_email(client) -> str | None:
    user_id = client.session.get(SESSION_KEY)
    return User.objects.get(pk=user_id).email if user_id else None


def ask_for_link(client, email: str):
    return client.post("/auth/link/", {"email": email})


def test_magic_link_with_pkce(supabase_auth, client):
    supabase_auth.create_user("ada@example.org", PASSWORD)
    response = ask_for_link(client, "ada@example.org")
    assert response.status_code == 302 and response.url == "/auth/code/?sent=1"
    page = client.get(response.url).content.decode()
    assert "Check your email" in page and "ada@example.org" in page

    mail = supabase_auth.last_mail("ada@example.org", "magiclink")
    back = open_mail_link(mail.link)
    assert back.startswith("/auth/callback/?flow=") and "&code=" in back
    response = client.get(back)

    assert response.status_code == 302 and response.url == "/"
    assert signed_in_email(client) == "ada@example.org"
    assert client.get(back).status_code == 400  # a link works once


def test_a_magic_link_opened_in_another_browser_does_not_sign_in(
    supabase_auth, client, django_user_model
):
    from django.test import Client

    supabase_auth.create_user("ada@example.org", PASSWORD)
    ask_for_link(client, "ada@example.org")
    back = open_mail_link(supabase_auth.last_mail("ada@example.org").link)

    other = Client()
    response = other.get(back)
    assert response.status_code == 400
    assert "asked for in another browser" in response.content.decode()
    assert signed_in_email(other) is None


def test_a_forged_code_verifier_is_refused_by_supabase(supabase_auth, client):
    supabase_auth.create_user("ada@example.org", PASSWORD)
    ask_for_link(client, "ada@example.org")
    session = client.session
    (nonce,) = session["supabase_flows"]
    session["supabase_flows"][nonce]["verifier"] = "x" * 64
    session.save()
    back = open_mail_link(supabase_auth.last_mail("ada@example.org").link)
    response = client.get(back)
    assert response.status_code == 400
    assert "another browser" in response.content.decode()
    assert signed_in_email(client) is None


def test_an_expired_link_says_so(supabase_auth, client):
    supabase_auth.create_user("ada@example.org", PASSWORD)
    ask_for_link(client, "ada@example.org")
    supabase_auth.expire_mail()
    back = open_mail_link(supabase_auth.last_mail("ada@example.org").link)
    response = client.get(back)
    assert response.status_code == 400
    assert "invalid or has expired" in response.content.decode()


def test_an_unknown_address_gets_the_same_answer_and_no_mail(supabase_auth, client):
    response = ask_for_link(client, "nobody@example.org")
    assert response.status_code == 302 and response.url == "/auth/code/?sent=1"
    assert supabase_auth.mail_to("nobody@example.org") == []
    assert supabase_auth.find_user("nobody@example.org") is None


def test_six_digit_code(supabase_auth, client):
    supabase_auth.create_user("ada@example.org", PASSWORD)
    ask_for_link(client, "ada@example.org")
    code = supabase_auth.last_mail("ada@example.org").code

    wrong = "000000" if code != "000000" else "111111"
    response = client.post("/auth/code/", {"email": "ada@example.org", "code": wrong})
    assert "expired or was already used" in response.content.decode()
    assert signed_in_email(client) is None

    response = client.post("/auth/code/", {"email": "ada@example.org", "code": code})
    assert response.status_code == 302
    assert signed_in_email(client) == "ada@example.org"


def test_a_bad_token_from_the_code_flow_is_refused(supabase_auth, client):
    supabase_auth.create_user("ada@example.org", PASSWORD)
    ask_for_link(client, "ada@example.org")
    supabase_auth.spoil_next_token("wrong_issuer")
    code = supabase_auth.last_mail("ada@example.org").code
    response = client.post("/auth/code/", {"email": "ada@example.org", "code": code})
    assert "could not be trusted" in response.content.decode()
    assert signed_in_email(client) is None


def test_sign_up_then_confirm(supabase_auth, client):
    form = {"email": "new@example.org", "password1": PASSWORD, "password2": PASSWORD}
    response = client.post("/auth/signup/", form)
    assert response.status_code == 200
    assert "We sent a confirmation link to" in response.content.decode()
    assert supabase_auth.find_user("new@example.org").email_confirmed_at is None
    assert signed_in_email(client) is None
    assert "Confirm your email address first" in sign_in(client, "new@example.org").content.decode()

    mail = supabase_auth.last_mail("new@example.org", "signup")
    response = client.get(open_mail_link(mail.link), follow=True)

    assert signed_in_email(client) == "new@example.org"
    assert "Your email address is confirmed" in response.content.decode()
    assert SupabaseIdentity.objects.get().email == "new@example.org"


def test_sign_up_refusals_are_shown(supabase_auth, client):
    mismatch = {"email": "new@example.org", "password1": PASSWORD, "password2": "other-pass-1"}
    assert "The two passwords differ" in client.post("/auth/signup/", mismatch).content.decode()
    weak = {"email": "new@example.org", "password1": "12345678", "password2": "12345678"}
    assert "too common" in client.post("/auth/signup/", weak).content.decode()
    assert supabase_auth.find_user("new@example.org") is None


def test_password_reset(supabase_auth, client):
    supabase_auth.create_user("ada@example.org", PASSWORD)
    response = client.post("/auth/reset/", {"email": "ada@example.org"})
    assert "we sent it a link to choose a new password" in response.content.decode()

    back = open_mail_link(supabase_auth.last_mail("ada@example.org", "recovery").link)
    response = client.get(back)
    assert response.status_code == 302 and response.url == "/auth/reset/new/"
    assert signed_in_email(client) is None  # not before the new password is set

    new = "a-brand-new-passphrase"
    response = client.post("/auth/reset/new/", {"password1": new, "password2": new})
    assert response.status_code == 302
    assert signed_in_email(client) == "ada@example.org"
    assert "supabase_recovery" not in client.session
    assert supabase_auth.find_user("ada@example.org").password == new
    client.logout()
    assert sign_in(client, "ada@example.org", new).status_code == 302
    assert client.get("/auth/reset/new/").status_code == 400  # nothing held any more


def test_reset_for_an_unknown_address_answers_the_same(supabase_auth, client):
    response = client.post("/auth/reset/", {"email": "nobody@example.org"})
    assert "If an account uses" in response.content.decode()
    assert supabase_auth.mailbox == []


# Where the person was going (an invitation link, say) survives every way of signing in.
NEXT = "/invitations/the-token/"


def test_the_login_pages_links_carry_next(supabase_auth, client):
    login = client.get(f"/login/?next={NEXT}").content.decode()
    assert f'href="/auth/link/?next={NEXT}"' in login
    assert f'href="/auth/signup/?next={NEXT}"' in login
    link_page = client.get(f"/auth/link/?next={NEXT}").content.decode()
    assert f'name="next" value="{NEXT}"' in link_page
    assert f'href="/login/?next={NEXT}"' in link_page
    assert f'href="/auth/code/?next={NEXT}"' in link_page


def test_a_magic_link_and_its_code_go_to_next(supabase_auth, client):
    supabase_auth.create_user("ada@example.org", PASSWORD)
    response = client.post("/auth/link/", {"email": "ada@example.org", "next": NEXT})
    assert response.status_code == 302
    assert response.url == "/auth/code/?sent=1&next=%2Finvitations%2Fthe-token%2F"
    assert f'name="next" value="{NEXT}"' in client.get(response.url).content.decode()

    back = open_mail_link(supabase_auth.last_mail("ada@example.org", "magiclink").link)
    response = client.get(back)
    assert response.status_code == 302 and response.url == NEXT

    client.logout()
    client.post("/auth/link/", {"email": "ada@example.org", "next": NEXT})
    code = supabase_auth.last_mail("ada@example.org", "magiclink").code
    response = client.post("/auth/code/", {"email": "ada@example.org", "code": code, "next": NEXT})
    assert response.status_code == 302 and response.url == NEXT


def test_a_sign_up_confirmed_goes_to_next(supabase_auth, client):
    form = {"email": "new@example.org", "password1": PASSWORD, "password2": PASSWORD}
    assert f'value="{NEXT}"' in client.get(f"/auth/signup/?next={NEXT}").content.decode()
    client.post("/auth/signup/", {**form, "next": NEXT})
    back = open_mail_link(supabase_auth.last_mail("new@example.org", "signup").link)
    response = client.get(back)
    assert response.status_code == 302 and response.url == NEXT
    assert signed_in_email(client) == "new@example.org"


def test_a_next_off_the_site_is_dropped(supabase_auth, client):
    supabase_auth.create_user("ada@example.org", PASSWORD)
    evil = "https://evil.example/"
    assert "evil.example" not in client.get(f"/auth/link/?next={evil}").content.decode()
    response = client.post("/auth/link/", {"email": "ada@example.org", "next": evil})
    assert response.url == "/auth/code/?sent=1"
    code = supabase_auth.last_mail("ada@example.org", "magiclink").code
    response = client.post("/auth/code/", {"email": "ada@example.org", "code": code, "next": evil})
    assert response.status_code == 302 and response.url == "/"
