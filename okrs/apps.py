from django.apps import AppConfig


class OkrsConfig(AppConfig):
    name = "okrs"
    verbose_name = "OKRs and projects"

    def ready(self) -> None:
        from okrs import models
        from orgs.activity import TargetKind, register_target

        for kind in (
            TargetKind(models.CYCLE_TARGET, "Cycle"),
            TargetKind(models.PATHWAY_TARGET, "Pathway", "pathway_detail", "pathway_id"),
            TargetKind(models.OBJECTIVE_TARGET, "Objective", "objective_detail", "objective_id"),
            TargetKind(models.PROJECT_TARGET, "Project", "project_detail", "project_id"),
        ):
            register_target(kind)
