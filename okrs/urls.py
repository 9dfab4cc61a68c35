"""OKR and project pages, mounted under /o/<org_slug>/."""

from django.urls import path

from missionos import exports
from okrs.exports import TABLES
from okrs.views import (
    dashboard,
    editing,
    lifecycle,
    lists,
    objectives,
    pathways,
    projects,
    reports,
    review,
    search,
    track,
)

urlpatterns = [
    path("", dashboard.org_home, name="org_home"),
    path("report.pdf", reports.dashboard_report, name="dashboard_report"),
    path("cycles/new/", editing.cycle_edit, name="cycle_create"),
    path("cycles/<int:cycle_id>/edit/", editing.cycle_edit, name="cycle_edit"),
    path("cycles/<int:cycle_id>/review/", review.cycle_review, name="cycle_review"),
    path("cycles/<int:cycle_id>/carry-over/", review.cycle_carry_over, name="cycle_carry_over"),
    path("archive/", lifecycle.archive_page, name="archive"),
    path("search/", search.search_page, name="search"),
    path("pathways/new/", editing.pathway_edit, name="pathway_create"),
    path("pathways/<int:pathway_id>/", pathways.pathway_detail, name="pathway_detail"),
    path("pathways/<int:pathway_id>/edit/", editing.pathway_edit, name="pathway_edit"),
    path("objectives/", lists.objective_list, name="objective_list"),
    path("key-results/", lists.key_result_list, name="key_result_list"),
    path("check-ins/", lists.check_in_list, name="check_in_list"),
    path("tasks/", lists.task_list, name="task_list"),
    path("objectives/new/", editing.objective_edit, name="objective_create"),
    path("objectives/<int:objective_id>/", objectives.objective_detail, name="objective_detail"),
    path("objectives/<int:objective_id>/edit/", editing.objective_edit, name="objective_edit"),
    path("objectives/<int:objective_id>/review/", review.objective_review, name="objective_review"),
    path(
        "objectives/<int:objective_id>/review/note/",
        review.objective_review_note,
        name="objective_review_note",
    ),
    path(
        "objectives/<int:objective_id>/report.pdf",
        reports.objective_report,
        name="objective_report",
    ),
    path(
        "objectives/<int:objective_id>/key-results/new/",
        editing.key_result_create,
        name="key_result_create",
    ),
    path("key-results/<int:key_result_id>/edit/", editing.key_result_edit, name="key_result_edit"),
    path(
        "key-results/<int:key_result_id>/check-ins/",
        objectives.check_in_create,
        name="check_in_create",
    ),
    path("check-ins/<int:check_in_id>/edit/", track.check_in_edit, name="check_in_edit"),
    path("check-ins/<int:check_in_id>/delete/", track.check_in_delete, name="check_in_delete"),
    path("check-ins/<int:check_in_id>/restore/", track.check_in_restore, name="check_in_restore"),
    path(
        "objectives/<int:objective_id>/comments/",
        track.objective_comment_create,
        name="objective_comment_create",
    ),
    path(
        "objectives/<int:objective_id>/comments/live/",
        track.objective_comments,
        name="objective_comments",
    ),
    path(
        "key-results/<int:key_result_id>/comments/",
        track.key_result_comment_create,
        name="key_result_comment_create",
    ),
    path("comments/<int:comment_id>/edit/", track.comment_edit, name="comment_edit"),
    path("comments/<int:comment_id>/delete/", track.comment_delete, name="comment_delete"),
    path("projects/", projects.project_list, name="project_list"),
    path("projects/new/", editing.project_edit, name="project_create"),
    path("projects/<int:project_id>/", projects.project_detail, name="project_detail"),
    path("projects/<int:project_id>/edit/", editing.project_edit, name="project_edit"),
    path("projects/<int:project_id>/tasks/new/", editing.task_create, name="task_create"),
    path("tasks/overdue/", projects.overdue_task_list, name="overdue_task_list"),
    path("tasks/<int:task_id>/edit/", editing.task_edit, name="task_edit"),
    path("tasks/<int:task_id>/status/", projects.task_status, name="task_status"),
    # Archive, delete and restore, for every kind (people's too): okrs.views.lifecycle.
    *lifecycle.urlpatterns,
    # Downloads of each list, with its filters: "export/projects.csv" (export_projects_csv).
    *exports.urlpatterns_for(TABLES),
]
