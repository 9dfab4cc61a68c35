"""OKR and project pages, mounted under /o/<org_slug>/."""

from django.urls import path

from okrs import views

urlpatterns = [
    path("", views.org_home, name="org_home"),
    path("cycles/new/", views.cycle_create, name="cycle_create"),
    path("pathways/new/", views.pathway_edit, name="pathway_create"),
    path("pathways/<int:pathway_id>/", views.pathway_detail, name="pathway_detail"),
    path("pathways/<int:pathway_id>/edit/", views.pathway_edit, name="pathway_edit"),
    path("objectives/new/", views.objective_edit, name="objective_create"),
    path("objectives/<int:objective_id>/", views.objective_detail, name="objective_detail"),
    path("objectives/<int:objective_id>/edit/", views.objective_edit, name="objective_edit"),
    path(
        "objectives/<int:objective_id>/key-results/new/",
        views.key_result_create,
        name="key_result_create",
    ),
    path("key-results/<int:key_result_id>/edit/", views.key_result_edit, name="key_result_edit"),
    path(
        "key-results/<int:key_result_id>/check-ins/",
        views.check_in_create,
        name="check_in_create",
    ),
    path("projects/", views.project_list, name="project_list"),
    path("projects/new/", views.project_edit, name="project_create"),
    path("projects/<int:project_id>/", views.project_detail, name="project_detail"),
    path("projects/<int:project_id>/edit/", views.project_edit, name="project_edit"),
    path("projects/<int:project_id>/tasks/new/", views.task_create, name="task_create"),
    path("tasks/overdue/", views.overdue_task_list, name="overdue_task_list"),
    path("tasks/<int:task_id>/edit/", views.task_edit, name="task_edit"),
    path("tasks/<int:task_id>/status/", views.task_status, name="task_status"),
]
