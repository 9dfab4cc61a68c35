from django.apps import AppConfig


class OkrsConfig(AppConfig):
    name = "okrs"
    verbose_name = "OKRs and projects"

    def ready(self) -> None:
        from okrs import models
        from orgs.activity import TargetKind, register_archive_page, register_target
        from orgs.audit import AuditKind, register_audit_kind
        from orgs.shortcuts import register_url_object

        for kwarg, model in (
            ("cycle_id", models.Cycle),
            ("pathway_id", models.Pathway),
            ("objective_id", models.Objective),
            ("key_result_id", models.KeyResult),
            ("project_id", models.Project),
            ("task_id", models.Task),
            ("check_in_id", models.CheckIn),
            ("comment_id", models.Comment),
        ):
            register_url_object(kwarg, model)

        for kind in (
            TargetKind(models.CYCLE_TARGET, "Cycle", model=models.Cycle),
            TargetKind(
                models.PATHWAY_TARGET,
                "Pathway",
                "pathway_detail",
                "pathway_id",
                model=models.Pathway,
            ),
            TargetKind(
                models.OBJECTIVE_TARGET,
                "Objective",
                "objective_detail",
                "objective_id",
                model=models.Objective,
            ),
            TargetKind(
                models.PROJECT_TARGET,
                "Project",
                "project_detail",
                "project_id",
                model=models.Project,
            ),
        ):
            register_target(kind)
        register_archive_page("archive")  # okrs.views.lifecycle.archive_page

        for name, label, model in (
            ("cycle", "Cycle", models.Cycle),
            ("pathway", "Pathway", models.Pathway),
            ("objective", "Objective", models.Objective),
            ("key_result", "Key result", models.KeyResult),
            ("check_in", "Check-in", models.CheckIn),
            ("objective_review", "Objective review", models.ObjectiveReview),
            ("project", "Project", models.Project),
            ("task", "Task", models.Task),
            ("comment", "Comment", models.Comment),
        ):
            register_audit_kind(AuditKind(name, label), model)
