from django.apps import AppConfig


class OkrsConfig(AppConfig):
    name = "okrs"
    verbose_name = "OKRs and projects"

    def ready(self) -> None:
        from okrs import models
        from orgs.activity import TargetKind, register_target
        from orgs.shortcuts import register_url_object

        for kwarg, model in (
            ("pathway_id", models.Pathway),
            ("objective_id", models.Objective),
            ("key_result_id", models.KeyResult),
            ("project_id", models.Project),
            ("task_id", models.Task),
        ):
            register_url_object(kwarg, model)

        for kind in (
            TargetKind(models.CYCLE_TARGET, "Cycle"),
            TargetKind(models.PATHWAY_TARGET, "Pathway", "pathway_detail", "pathway_id"),
            TargetKind(models.OBJECTIVE_TARGET, "Objective", "objective_detail", "objective_id"),
            TargetKind(models.PROJECT_TARGET, "Project", "project_detail", "project_id"),
        ):
            register_target(kind)
