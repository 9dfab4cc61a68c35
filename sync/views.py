from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseStopPolling

from missionos.workers import workers_answering
from orgs.permissions import Action, require_permission
from orgs.shortcuts import org_object_or_404
from sync import selectors, services
from sync.airtable.client import SyncError
from sync.crypto import TokenUnreadable
from sync.forms import ConnectionForm, MappingForm, ScheduleForm, TokenForm
from sync.mapping.check import check_mapping
from sync.mapping.describe import overview
from sync.mapping.document import Mapping, MappingError
from sync.models import Connection, RunKind, RunStatus, SyncConflict, SyncRun
from sync.schema import schema_from_api
from sync.tasks import execute_run, feed_poll


def _connection(request: HttpRequest, connection_id: int) -> Connection:
    return org_object_or_404(request, Connection, pk=connection_id)


@sensitive_post_parameters("token")
@require_permission(Action.MANAGE_SYNC)
def connection_list(request: HttpRequest, org_slug: str) -> HttpResponse:
    form = ConnectionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            connection = services.connection_create(
                organization=request.org, actor=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        except (SyncError, TokenUnreadable) as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request, f"Connected {connection.name}. Review the proposed mapping, then sync."
            )
            return redirect("sync_mapping", org_slug=org_slug, connection_id=connection.pk)
    context = {"connections": selectors.connections(organization=request.org), "form": form}
    return render(request, "sync/connection_list.html", context, status=400 if form.errors else 200)


NO_WORKER = (
    "No worker is running to start it: it waits in the queue until one does. `make run` starts "
    "one next to the web server; elsewhere run `celery -A missionos worker`."
)


def _run_context(run: SyncRun) -> dict:
    """The live card of an active run; a queued one says when no worker is there to start it."""
    waiting = run.status == RunStatus.QUEUED and not workers_answering()
    return {"run": run, "no_worker": NO_WORKER if waiting else ""}


def _connection_context(request: HttpRequest, connection: Connection, **extra) -> dict:
    runs = selectors.connection_runs(connection=connection)
    feed = selectors.connection_feed(connection=connection)
    active_run = next((run for run in runs if run.is_active), None)
    return {
        "connection": connection,
        # The active run has the live card above the table; it joins the table when it ends
        # (the card reloads the page), so the table never shows a stale "Queued".
        "runs": [run for run in runs if not run.is_active],
        "active_run": active_run,
        "no_worker": _run_context(active_run)["no_worker"] if active_run else "",
        "schedule_form": extra.pop("schedule_form", None)
        or ScheduleForm(
            initial=services.connection_schedule_state(connection=connection),
            full_sync_minute=services.full_sync_minute(connection),
        ),
        "token_form": extra.pop("token_form", None) or TokenForm(),
        "write_queue": selectors.connection_write_queue(connection=connection),
        # Known from Airtable's whoami at connect or token change; empty when it did not say.
        "lacks_write_scope": bool(connection.token_scopes)
        and "data.records:write" not in connection.token_scopes,
        "write_tables": _write_tables(connection),
        "feed": feed,
        "feed_batches": selectors.feed_batches(connection=connection) if feed else [],
        **extra,
    }


@require_permission(Action.MANAGE_SYNC)
def connection_detail(request: HttpRequest, org_slug: str, connection_id: int) -> HttpResponse:
    connection = _connection(request, connection_id)
    return render(request, "sync/connection_detail.html", _connection_context(request, connection))


@require_POST
@require_permission(Action.MANAGE_SYNC)
def sync_now(request: HttpRequest, org_slug: str, connection_id: int) -> HttpResponse:
    connection = _connection(request, connection_id)
    kind = RunKind.FULL if request.POST.get("kind") == RunKind.FULL else RunKind.INCREMENTAL
    try:
        run = services.run_request(connection=connection, kind=kind, requested_by=request.user)
    except services.SyncBusy as busy:
        messages.error(request, str(busy))
    else:
        answering = workers_answering(fresh=True)  # before queueing: a busy worker may not answer
        execute_run.delay_on_commit(run.pk)
        if answering:
            messages.success(request, f"{run.get_kind_display()} sync queued.")
        else:
            messages.warning(request, f"{run.get_kind_display()} sync queued. {NO_WORKER}")
    return redirect("sync_connection", org_slug=org_slug, connection_id=connection.pk)


@require_permission(Action.MANAGE_SYNC)
def run_progress(request: HttpRequest, org_slug: str, run_id: int) -> HttpResponse:
    """The live progress fragment; htmx polls it until the run ends. Opened as a page (a
    copied link, a reload after htmx pushed nothing): the run's own page, not a bare fragment."""
    run = org_object_or_404(request, SyncRun, pk=run_id)
    if not request.htmx:
        return redirect("sync_run", org_slug=org_slug, run_id=run.pk)
    response = render(request, "sync/connection_detail.html#run-progress", _run_context(run))
    if not run.is_active and request.htmx:
        # Tell htmx to stop polling and reload, so the finished run joins the list.
        response = HttpResponseStopPolling(response.content)
        response["HX-Refresh"] = "true"
    return response


@require_POST
@require_permission(Action.MANAGE_SYNC)
def schedule_update(request: HttpRequest, org_slug: str, connection_id: int) -> HttpResponse:
    connection = _connection(request, connection_id)
    form = ScheduleForm(request.POST, full_sync_minute=services.full_sync_minute(connection))
    if form.is_valid():
        try:
            services.connection_schedule(
                connection=connection, actor=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Schedule saved.")
            return redirect("sync_connection", org_slug=org_slug, connection_id=connection.pk)
    context = _connection_context(request, connection, schedule_form=form)
    return render(request, "sync/connection_detail.html", context, status=400)


@sensitive_post_parameters("token")
@require_POST
@require_permission(Action.MANAGE_SYNC)
def token_update(request: HttpRequest, org_slug: str, connection_id: int) -> HttpResponse:
    connection = _connection(request, connection_id)
    form = TokenForm(request.POST)
    if form.is_valid():
        try:
            services.connection_set_token(
                connection=connection, token=form.cleaned_data["token"], actor=request.user
            )
        except ValidationError as error:
            form.add_error(None, error)
        except SyncError as error:  # Airtable refused it: the old token stays
            form.add_error("token", f"Not replaced: {error}")
        else:
            services.push_requeue(connection=connection)  # writes it could not make
            messages.success(request, f"Token replaced (…{connection.token_last4}).")
            return redirect("sync_connection", org_slug=org_slug, connection_id=connection.pk)
    context = _connection_context(request, connection, token_form=form)
    return render(request, "sync/connection_detail.html", context, status=400)


@require_permission(Action.MANAGE_SYNC)
def mapping_edit(request: HttpRequest, org_slug: str, connection_id: int) -> HttpResponse:
    connection = _connection(request, connection_id)
    if request.method == "POST" and "refresh_schema" in request.POST:
        try:
            problems = services.connection_refresh_schema(connection=connection)
        except (SyncError, TokenUnreadable, MappingError) as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request,
                "Schema read again."
                + (" " + " ".join(problems) if problems else " The mapping still fits."),
            )
        return redirect("sync_mapping", org_slug=org_slug, connection_id=connection.pk)
    schema = schema_from_api(connection.schema)
    try:
        mapping = selectors.connection_mapping(connection=connection)
    except MappingError as error:
        messages.error(request, f"{error} Rebuild it below; saving replaces it.")
        mapping = Mapping(entities={})
    form = MappingForm(request.POST or None, mapping=mapping, schema=schema)
    if request.method == "POST" and form.is_valid():
        try:
            services.connection_set_mapping(
                connection=connection, mapping_data=form.mapping_data(), actor=request.user
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Mapping saved. The next sync uses it.")
            return redirect("sync_mapping", org_slug=org_slug, connection_id=connection.pk)
    context = {
        "connection": connection,
        "form": form,
        "summary": overview(mapping, schema),
        "problems": check_mapping(mapping, schema),
        "value_maps": [
            (entity, attr, values)
            for entity, em in mapping.entities.items()
            for attr, values in em.value_maps.items()
        ],
    }
    return render(request, "sync/mapping.html", context, status=400 if form.errors else 200)


@require_permission(Action.MANAGE_SYNC)
def run_detail(request: HttpRequest, org_slug: str, run_id: int) -> HttpResponse:
    run = org_object_or_404(
        request, SyncRun.objects.select_related("connection", "requested_by"), pk=run_id
    )
    page = Paginator(selectors.run_issues(organization=request.org, run=run), 100).get_page(
        request.GET.get("page")
    )
    selectors.with_airtable_urls(page.object_list, base_id=run.connection.base_id)
    return render(request, "sync/run_detail.html", {"run": run, "issues": page})


@csrf_exempt  # Airtable cannot send a CSRF token; the hook's MAC authenticates the ping
@require_POST
def feed_notify(request: HttpRequest) -> HttpResponse:
    """Airtable's ping after a change: checked against the hook's MAC secret, answered at once
    (Airtable waits a few seconds at most), the payloads fetched by a worker. A bad or missing
    MAC gets 401 and nothing is queued. No login: Airtable has none."""
    connection_id = services.feed_notification(
        body=request.body, mac_header=request.headers.get("X-Airtable-Content-MAC", "")
    )
    if connection_id is None:
        return HttpResponse(status=401)
    feed_poll.delay(connection_id)
    return HttpResponse(status=204)


def _write_tables(connection: Connection) -> list[dict]:
    """The mapped tables with their write-back settings, for the connection page."""
    try:
        mapping = selectors.connection_mapping(connection=connection)
    except MappingError:
        return []
    schema = schema_from_api(connection.schema)
    settings = connection.write_settings or {}
    tables = []
    for entity, entity_mapping in mapping.entities.items():
        table = schema.table(entity_mapping.table_id)
        setting = settings.get(entity_mapping.table_id, {})
        id_field = table.field(setting.get("id_field", "")) if table else None
        tables.append(
            {
                "entity": entity.replace("_", " "),
                "table_id": entity_mapping.table_id,
                "name": table.name if table else entity_mapping.table_name,
                "read_only": bool(setting.get("read_only")),
                "id_field": id_field.name if id_field else "",
            }
        )
    return tables


@require_POST
@require_permission(Action.MANAGE_SYNC)
def writes_update(request: HttpRequest, org_slug: str, connection_id: int) -> HttpResponse:
    """The write-back settings: a table read-only or writable, the MissionOS ID fields,
    failed writes tried again."""
    connection = _connection(request, connection_id)
    action = request.POST.get("action")
    if action in ("read_only", "writable"):
        table_id = request.POST.get("table_id", "")
        if table_id not in {table["table_id"] for table in _write_tables(connection)}:
            messages.error(request, "That table is not mapped on this connection.")
        else:
            services.connection_set_read_only(
                connection=connection,
                table_id=table_id,
                read_only=action == "read_only",
                actor=request.user,
            )
            messages.success(request, "Write-back setting saved.")
    elif action == "id_fields":
        try:
            added = services.connection_add_id_fields(connection=connection, actor=request.user)
        except (SyncError, TokenUnreadable, MappingError) as error:
            messages.error(request, f"No field was added: {error}")
        else:
            messages.success(
                request,
                f"Added a MissionOS ID field to {', '.join(added)}."
                if added
                else "Every writable table has its MissionOS ID field.",
            )
    elif action == "retry":
        count = services.push_requeue(connection=connection)
        messages.success(request, f"{count} write(s) will be tried again now.")
    else:
        messages.error(request, "Unknown action.")
    return redirect("sync_connection", org_slug=org_slug, connection_id=connection.pk)


@require_POST
@require_permission(Action.EDIT_TASKS)
def conflict_resolve(request: HttpRequest, org_slug: str, conflict_id: int) -> HttpResponse:
    """Keep MissionOS's value or take Airtable's. Tasks: whoever may edit tasks; the rest of
    the plan: whoever may edit the plan."""
    conflict = org_object_or_404(request, SyncConflict, pk=conflict_id)
    needed = Action.EDIT_TASKS if conflict.entity == "task" else Action.EDIT_PLAN
    if not request.membership.allows(needed):
        raise PermissionDenied
    try:
        services.conflict_resolve(
            conflict=conflict, keep=request.POST.get("keep", ""), actor=request.user
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        side = "MissionOS's" if request.POST.get("keep") == "missionos" else "Airtable's"
        messages.success(request, f"{conflict.field_name}: kept {side} value.")
    # Back to the page the form was on: a path of this site only (`redirect` would take any
    # other text for a view's name, and a header carries no line break or control character).
    target = request.POST.get("next", "")
    if not (
        target.startswith("/")
        and target.isprintable()
        and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
    ):
        target = reverse("org_home", kwargs={"org_slug": org_slug})
    return HttpResponseRedirect(target)
