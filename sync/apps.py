from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "sync"
    verbose_name = "Airtable sync"

    def ready(self) -> None:
        from django.core import checks

        from okrs.dashboard_cards import DashboardCard, register_card
        from orgs.activity import TargetKind, register_target
        from orgs.audit import AuditKind, register_audit_kind
        from orgs.changes import register_change_listener
        from orgs.provenance import register_source_resolver
        from orgs.roles import Action
        from orgs.shortcuts import register_url_object
        from sync import selectors
        from sync.checks import check_encryption_keys, check_explicit_encryption_keys
        from sync.models import SYNC_RUN_TARGET, Connection, SyncConflict, SyncRun
        from sync.writeback.journal import queue_write

        checks.register(check_encryption_keys, checks.Tags.security)
        checks.register(check_explicit_encryption_keys, checks.Tags.security, deploy=True)
        register_url_object("connection_id", Connection)
        register_url_object("run_id", SyncRun)
        register_url_object("conflict_id", SyncConflict)
        register_target(
            TargetKind(
                SYNC_RUN_TARGET,
                "Sync run",
                url_name="sync_run",
                url_kwarg="run_id",
                required=Action.MANAGE_SYNC,
                unattended_actor="Airtable",
            )
        )
        register_audit_kind(AuditKind("connection", "Airtable connection"), Connection)
        register_audit_kind(AuditKind(SYNC_RUN_TARGET, "Sync run"), SyncRun)
        register_card(
            DashboardCard(
                "sync",
                "sync/dashboard_card.html",
                lambda organization: {"last_run": selectors.latest_run(organization=organization)},
            )
        )
        register_source_resolver(selectors.attach_sources)
        register_change_listener(queue_write)
