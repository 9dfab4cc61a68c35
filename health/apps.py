from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "health"
    verbose_name = "Data health"

    def ready(self) -> None:
        from health import selectors
        from health.tasks import recompute_after_run, refresh_after_write
        from okrs.dashboard_cards import DashboardCard, register_card
        from orgs.changes import register_change_listener
        from sync.finished import register_run_listener

        register_run_listener(recompute_after_run)
        register_change_listener(refresh_after_write)
        register_card(
            DashboardCard(
                "health",
                "health/dashboard_card.html",
                lambda organization: {"health": selectors.latest_snapshot(organization)},
            )
        )
