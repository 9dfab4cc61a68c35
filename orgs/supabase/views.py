"""The sign-in pages when Supabase Auth is configured (all 404 otherwise). Each parses, calls
one service and renders or signs the person in; a refusal's message goes onto the page."""

from __future__ import annotations

import secrets
import time
from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.views import LoginView
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables

from orgs.supabase import services
from orgs.supabase.backend import BACKEND_PATH
from orgs.supabase.config import SupabaseConfig, supabase_config
from orgs.supabase.errors import SignInRefused
from orgs.supabase.forms import CodeForm, EmailForm, NewPasswordForm, SignUpForm, SupabaseLoginForm

FLOWS_KEY = "supabase_flows"  # PKCE verifiers of links sent, by a nonce in their redirect
RECOVERY_KEY = "supabase_recovery"  # a reset link's session until the new password is set
EMAIL_KEY = "supabase_email"  # the address a link or code was sent to, for the code page
FLOW_SECONDS = 3600
MAX_FLOWS = 5


class SignInView(LoginView):
    """Django's login view; with Supabase configured, the Supabase form and page (the password
    is checked by orgs.supabase.backend through authenticate())."""

    redirect_authenticated_user = True

    def get_form_class(self):
        return SupabaseLoginForm if supabase_config() else super().get_form_class()

    def get_template_names(self) -> list[str]:
        if supabase_config():
            return ["registration/supabase_login.html"]
        return super().get_template_names()


def _config() -> SupabaseConfig:
    config = supabase_config()
    if config is None:
        raise Http404("Supabase Auth is not configured")
    return config


def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    """`candidate` when it is a page of this site, else ""."""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


def _requested_next(request: HttpRequest) -> str:
    """Where the person was going (an invitation link, say): the safe `next` of the form or
    the query, else "". Each sign-in page hands it on to the next one (`?next=`)."""
    return _safe_next(request, request.POST.get("next") or request.GET.get("next"))


def _next_url(request: HttpRequest, candidate: str | None) -> str:
    return _safe_next(request, candidate) or reverse("home")


def _start_flow(request: HttpRequest, kind: str, email: str) -> tuple[str, str]:
    """-> (nonce, redirect_to): where the mailed link returns, naming this flow."""
    nonce = secrets.token_urlsafe(16)
    redirect_to = request.build_absolute_uri(reverse("supabase_callback") + f"?flow={nonce}")
    request.session[EMAIL_KEY] = email
    return nonce, redirect_to


def _keep_flow(
    request: HttpRequest, nonce: str, kind: str, verifier: str | None, next_url: str
) -> None:
    if not verifier:
        return
    now = time.time()
    flows = {
        key: flow
        for key, flow in request.session.get(FLOWS_KEY, {}).items()
        if now - flow["at"] < FLOW_SECONDS
    }
    flows[nonce] = {"verifier": verifier, "kind": kind, "next": next_url, "at": now}
    request.session[FLOWS_KEY] = dict(
        sorted(flows.items(), key=lambda kv: kv[1]["at"])[-MAX_FLOWS:]
    )


def _pop_flow(request: HttpRequest, nonce: str | None) -> dict[str, Any] | None:
    flows = request.session.get(FLOWS_KEY, {})
    flow = flows.pop(nonce, None) if nonce else None
    request.session[FLOWS_KEY] = flows
    if flow is None or time.time() - flow["at"] >= FLOW_SECONDS:
        return None
    return flow


def _check_email(
    request: HttpRequest,
    nonce: str,
    kind: str,
    code_verifier: str | None,
    email: str,
    next_url: str = "",
) -> HttpResponse:
    """A sign-up or reset link went out: keep its flow (to finish at `next_url`, else home)
    and say so."""
    _keep_flow(request, nonce, kind, code_verifier, next_url or reverse("home"))
    context = {"kind": kind, "email": email}
    return render(request, "registration/supabase_check_email.html", context)


def _sign_in(request: HttpRequest, user, next_url: str) -> HttpResponse:
    login(request, user, backend=BACKEND_PATH)  # rotates the session key
    return redirect(next_url)


@never_cache
@csrf_protect
def sign_in_link(request: HttpRequest) -> HttpResponse:
    """Ask for a magic link and a code by email."""
    config = _config()
    form = EmailForm(request.POST or None, initial={"email": request.session.get(EMAIL_KEY)})
    next_url = _requested_next(request)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        nonce, redirect_to = _start_flow(request, "magiclink", email)
        try:
            sent = services.send_sign_in_link(email=email, redirect_to=redirect_to, config=config)
        except SignInRefused as refusal:
            form.add_error(None, refusal.message)
        else:
            _keep_flow(request, nonce, "magiclink", sent.code_verifier, next_url or reverse("home"))
            query = {"sent": "1", **({"next": next_url} if next_url else {})}
            return redirect(f"{reverse('supabase_code')}?{urlencode(query)}")
    return render(request, "registration/supabase_link.html", {"form": form, "next": next_url})


@never_cache
@csrf_protect
@sensitive_post_parameters("code")
def enter_code(request: HttpRequest) -> HttpResponse:
    """Check your email: open the link, or type the 6-digit code here."""
    config = _config()
    form = CodeForm(request.POST or None, initial={"email": request.session.get(EMAIL_KEY)})
    next_url = _requested_next(request)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.code_sign_in(
                email=form.cleaned_data["email"], code=form.cleaned_data["code"], config=config
            )
        except SignInRefused as refusal:
            form.add_error(None, refusal.message)
        else:
            return _sign_in(request, user, next_url or reverse("home"))
    context = {
        "form": form,
        "sent": request.GET.get("sent"),
        "email": request.session.get(EMAIL_KEY),
        "next": next_url,
    }
    return render(request, "registration/supabase_code.html", context)


@never_cache
@sensitive_variables("flow", "auth_code", "session", "recovery")
def callback(request: HttpRequest) -> HttpResponse:
    """Where a mailed link lands (`?flow=…&code=…`, or Supabase's `error_description`)."""
    config = _config()
    flow = _pop_flow(request, request.GET.get("flow"))
    try:
        if request.GET.get("error") or request.GET.get("error_code"):
            code = request.GET.get("error_code") or request.GET.get("error") or "link_error"
            raise SignInRefused(
                code,
                "This link is invalid or has expired. Ask for a new one."
                if code == "otp_expired"
                else (request.GET.get("error_description") or "This link did not work."),
            )
        if flow is None:
            raise SignInRefused(
                "no_flow",
                "This link was asked for in another browser, or long ago. Open it in the "
                "browser you asked from, or type the code from the email instead.",
            )
        auth_code = request.GET.get("code")
        if not auth_code:
            raise SignInRefused("no_code", "This link is incomplete. Ask for a new one.")
        session = services.exchange_code(
            auth_code=auth_code, code_verifier=flow["verifier"], config=config
        )
        if flow["kind"] == "recovery":
            recovery = services.recovery_session(session, config)
            request.session[RECOVERY_KEY] = vars(recovery)
            return redirect("supabase_set_password")
        user = services.signed_in_user(session, config)
    except SignInRefused as refusal:
        return render(
            request,
            "registration/supabase_link_error.html",
            {"message": refusal.message},
            status=400,
        )
    if flow["kind"] == "signup":
        messages.success(request, "Your email address is confirmed. Welcome to MissionOS.")
    return _sign_in(request, user, _next_url(request, flow.get("next")))


@never_cache
@csrf_protect
@sensitive_post_parameters("password1", "password2")
def sign_up(request: HttpRequest) -> HttpResponse:
    config = _config()
    form = SignUpForm(request.POST or None)
    next_url = _requested_next(request)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        nonce, redirect_to = _start_flow(request, "signup", email)
        try:
            sent, user = services.sign_up(
                email=email,
                password=form.cleaned_data["password1"],
                redirect_to=redirect_to,
                config=config,
            )
        except SignInRefused as refusal:
            form.add_error(None, refusal.message)
        else:
            if user is not None:
                return _sign_in(request, user, next_url or reverse("home"))
            return _check_email(request, nonce, "signup", sent.code_verifier, email, next_url)
    context = {"form": form, "next": next_url}
    return render(request, "registration/supabase_signup.html", context)


@never_cache
@csrf_protect
def reset_password(request: HttpRequest) -> HttpResponse:
    config = _config()
    form = EmailForm(request.POST or None, initial={"email": request.session.get(EMAIL_KEY)})
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        nonce, redirect_to = _start_flow(request, "recovery", email)
        try:
            sent = services.send_password_reset(email=email, redirect_to=redirect_to, config=config)
        except SignInRefused as refusal:
            form.add_error(None, refusal.message)
        else:
            return _check_email(request, nonce, "recovery", sent.code_verifier, email)
    return render(request, "registration/supabase_reset.html", {"form": form})


@never_cache
@csrf_protect
@sensitive_post_parameters("password1", "password2")
@sensitive_variables("held")
def set_password(request: HttpRequest) -> HttpResponse:
    """The new password, after a reset link; then the person is signed in."""
    config = _config()
    held = request.session.get(RECOVERY_KEY)
    if not held or held["expires_at"] <= time.time():
        request.session.pop(RECOVERY_KEY, None)
        message = "Your reset link has expired. Ask for a new one."
        return render(
            request, "registration/supabase_link_error.html", {"message": message}, status=400
        )
    form = NewPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.set_new_password(
                recovery=services.RecoverySession(**held),
                password=form.cleaned_data["password1"],
                config=config,
            )
        except SignInRefused as refusal:
            form.add_error(None, refusal.message)
        else:
            request.session.pop(RECOVERY_KEY, None)
            messages.success(request, "Your password is changed. You are signed in.")
            return _sign_in(request, user, reverse("home"))
    return render(request, "registration/supabase_set_password.html", {"form": form})
