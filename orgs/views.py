from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from missionos import exports
from missionos.form_flow import form_page
from orgs import audit, invitations, selectors, services
from orgs.forms import AuditFilterForm, InvitationForm, MemberRoleForm, PersonForm
from orgs.invitations import InvitationUnavailable, Standing
from orgs.models import Invitation, Membership, Person, Role
from orgs.permissions import Action, require_permission
from orgs.shortcuts import org_object_or_404, org_url


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Where login lands: the organization used last."""
    organization = selectors.user_landing_organization(user=request.user)
    if organization is None:
        return render(request, "orgs/no_organization.html")
    return redirect("org_home", org_slug=organization.slug)


@login_required
@require_safe
def help_page(request: HttpRequest) -> HttpResponse:
    """How MissionOS works: roles (from orgs.roles, so the page says what the code does),
    the sync, data health, and where the numbers come from."""
    return render(request, "help.html", {"roles": selectors.role_table()})


def people_list(request: HttpRequest, org_slug: str) -> HttpResponse:
    people = selectors.organization_people(organization=request.org)
    return render(request, "orgs/people.html", {"people": people})


@require_permission(Action.MANAGE_PEOPLE)
def person_edit(request: HttpRequest, org_slug: str, person_id: int | None = None) -> HttpResponse:
    person = org_object_or_404(request, Person, pk=person_id) if person_id else None
    people_url = org_url(request, "people_list")
    return form_page(
        request,
        form=PersonForm(request.POST or None, instance=person, organization=request.org),
        save=lambda form: services.person_save(person=form.save(commit=False), actor=request.user),
        success_url=lambda saved: people_url,
        title=f"Edit {person.name}" if person else "Add a person",
        cancel_url=people_url,
        saved_message="Person saved.",
        # The archive and delete pages are okrs' (it knows what a person holds).
        other_actions=[
            ("Archive…", org_url(request, "person_archive", person_id=person.pk)),
            ("Delete…", org_url(request, "person_delete", person_id=person.pk)),
        ]
        if person
        else [],
    )


def _membership(request: HttpRequest, membership_id: int) -> Membership:
    return org_object_or_404(request, Membership.objects.select_related("user"), pk=membership_id)


@require_permission(Action.MANAGE_MEMBERS)
def member_list(request: HttpRequest, org_slug: str) -> HttpResponse:
    """The members and pending invitations; POST invites an email address (or sends a pending
    invitation again). The answer is the same whether or not the address has an account."""
    invite_form = InvitationForm(request.POST or None)
    if request.method == "POST" and invite_form.is_valid():
        try:
            invitation = invitations.invitation_create(
                organization=request.org,
                email=invite_form.cleaned_data["email"],
                role=Role(invite_form.cleaned_data["role"]),
                invited_by=request.user,
            )
        except ValidationError as error:
            invite_form.add_error(None, error)
        else:
            messages.success(request, f"Invitation sent to {invitation.email}.")
            return redirect("member_list", org_slug=org_slug)
    context = {
        "members": selectors.organization_members(organization=request.org),
        "invitations": selectors.organization_open_invitations(organization=request.org),
        "invite_form": invite_form,
        "roles": Role.choices,
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "orgs/members.html", context, status=status)


@require_POST
@require_permission(Action.MANAGE_MEMBERS)
def invitation_revoke(request: HttpRequest, org_slug: str, invitation_id: int) -> HttpResponse:
    invitation = org_object_or_404(request, Invitation, pk=invitation_id)
    try:
        invitations.invitation_revoke(invitation=invitation, actor=request.user)
        messages.success(request, f"Invitation to {invitation.email} withdrawn.")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("member_list", org_slug=org_slug)


# What an invitation link answers when it cannot be accepted.
UNAVAILABLE_STATUS = {
    Standing.UNKNOWN: 404,
    Standing.REVOKED: 410,
    Standing.ACCEPTED: 410,
    Standing.EXPIRED: 410,
    Standing.WRONG_ACCOUNT: 403,
}


@login_required
@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """An emailed invitation link: GET shows the organization, role and inviter, POST accepts.
    Anonymous visitors sign in first (any login backend) and come back here."""
    found = selectors.invitation_for_token_hash(token_hash=invitations.token_hash(token))
    standing = invitations.invitation_standing(invitation=found, user=request.user)
    if request.method == "POST" and standing in (Standing.OPEN, Standing.ALREADY_MEMBER):
        try:
            membership = invitations.invitation_accept(token=token, user=request.user)
        except InvitationUnavailable as unavailable:  # used or withdrawn meanwhile
            standing = unavailable.standing
        else:
            organization = membership.organization
            messages.success(
                request,
                f"Welcome to {organization.name}. "
                f"Your role is {membership.get_role_display().lower()}."
                if standing == Standing.OPEN
                else f"You were already a member of {organization.name}.",
            )
            return redirect("org_home", org_slug=organization.slug)
    membership = None
    if found is not None and standing == Standing.ALREADY_MEMBER:
        membership = selectors.membership_for_slug(user=request.user, slug=found.organization.slug)
    return render(
        request,
        "orgs/invitation.html",
        {
            "invitation": found if standing != Standing.UNKNOWN else None,
            "standing": standing.value,
            "membership": membership,
            "switch_next": f"{reverse('login')}?{urlencode({'next': request.path})}",
        },
        status=UNAVAILABLE_STATUS.get(standing, 200),
    )


@require_POST
@require_permission(Action.MANAGE_MEMBERS)
def member_role(request: HttpRequest, org_slug: str, membership_id: int) -> HttpResponse:
    membership = _membership(request, membership_id)
    form = MemberRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the listed roles.")
    else:
        try:
            role = Role(form.cleaned_data["role"])
            services.membership_change_role(membership=membership, role=role, actor=request.user)
            messages.success(request, f"{membership.user.get_username()} is now {role.label}.")
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
    return redirect("member_list", org_slug=org_slug)


@require_http_methods(["GET", "POST"])
@require_permission(Action.MANAGE_MEMBERS)
def member_remove(request: HttpRequest, org_slug: str, membership_id: int) -> HttpResponse:
    """GET asks to confirm (what the person loses, what stays); POST removes."""
    membership = _membership(request, membership_id)
    if request.method == "GET":
        return render(request, "orgs/member_remove.html", {"membership": membership})
    try:
        services.membership_remove(membership=membership, actor=request.user)
        messages.success(request, f"{membership.user.get_username()} removed.")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("member_list", org_slug=org_slug)


AUDIT_PAGE_SIZE = 50


def _audit_filters(request: HttpRequest) -> AuditFilterForm:
    """The audit log's filters from the query string, checked (`form.filters()` applies)."""
    choices = selectors.audit_filter_choices(organization=request.org)
    form = AuditFilterForm(request.GET, actors=choices["actor_label"], actions=choices["action"])
    form.is_valid()
    return form


@require_permission(Action.VIEW_AUDIT)
def audit_log(request: HttpRequest, org_slug: str) -> HttpResponse:
    """Who changed what and when, newest first, filtered by the query string."""
    form = _audit_filters(request)
    entries = selectors.audit_entries(organization=request.org, filters=form.filters())
    page = Paginator(entries, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "export_query": _export_query(request)}
    if request.htmx and request.htmx.target == "audit-results":
        return render(request, "orgs/audit.html#audit-results", context)
    return render(request, "orgs/audit.html", context)


def _export_query(request: HttpRequest) -> str:
    """The filters of the page, for its CSV link (the page number left out)."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@require_permission(Action.VIEW_AUDIT)
def audit_csv(request: HttpRequest, org_slug: str) -> HttpResponse:
    """The filtered entries as CSV, streamed a chunk of rows at a time. Filters that do not
    hold send the reader to the page, which says why: an export is never of something else
    than what was asked."""
    form = _audit_filters(request)
    if form.errors:
        return redirect(f"{org_url(request, 'audit_log')}?{request.GET.urlencode()}")
    entries = selectors.audit_entries(organization=request.org, filters=form.filters())
    day = timezone.localdate().isoformat()
    return exports.csv_response(
        audit.csv_rows(entries.iterator(chunk_size=2000)),
        filename=f"audit-{request.org.slug}-{day}.csv",
    )


def org_events(request: HttpRequest, org_slug: str) -> HttpResponse:
    """The organization's live events. Under ASGI the stream is answered by `orgs.live` before
    Django sees the request (so an open stream holds no thread); a request that reaches this
    view came through WSGI (runserver, the test client), where an endless response would pin a
    worker for good: no stream (204), and pages poll instead. Membership was checked by the
    middleware like every organization URL: a stranger gets 404."""
    return HttpResponse(status=204)


def health(request: HttpRequest) -> HttpResponse:
    """Liveness for load balancers and benchmarks: no database, no session, no template."""
    return HttpResponse("ok", content_type="text/plain")
