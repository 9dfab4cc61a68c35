from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "health"
    verbose_name = "Data health"

    def ready(self) -> None:
        from health import selectors
        from health.models import Finding, HealthAction
        from health.tasks import recompute_after_run, refresh_after_write
        from okrs.dashboard_cards import DashboardCard, register_card
        from orgs.audit import AuditKind, register_audit_kind
        from orgs.changes import register_change_listener
        from orgs.shortcuts import register_url_object
        from sync.finished import register_run_listener

        register_url_object("finding_id", Finding)
        register_url_object("action_id", HealthAction)
        register_audit_kind(AuditKind("finding", "Data-health finding"), Finding)
        register_audit_kind(AuditKind("health_action", "Data-health fix"), HealthAction)
        register_run_listener(recompute_after_run)
        register_change_listener(refresh_after_write)
        register_card(
            DashboardCard(
                "health",
                "health/dashboard_card.html",
                lambda organization: {"health": selectors.latest_snapshot(organization)},
            )
        )
