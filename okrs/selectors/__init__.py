"""Reads for OKR pages, one module per page or concern; each page's data comes from a fixed
number of queries, whatever the size of the organization (pinned by tests at two data sizes).

`from okrs import selectors` gives them all: `selectors.dashboard(...)`."""

from okrs.selectors.archive import (
    ARCHIVE_SHOWN_PER_KIND,
    archive_contents_summary,
    archived_records,
)
from okrs.selectors.cycles import current_cycle, cycle_elapsed, cycle_on, end_of_day
from okrs.selectors.dashboard import (
    ACTIVITY_LIMIT,
    DASHBOARD_CACHE_SECONDS,
    TREND_WINDOW,
    Dashboard,
    cached_dashboard,
    dashboard,
)
from okrs.selectors.detail_pages import (
    PATHWAY_PROJECTS_SHOWN,
    objective_page,
    pathway_page,
    project_page,
)
from okrs.selectors.lists import (
    OVERDUE_PER_PAGE,
    PROJECTS_PER_PAGE,
    ProjectFilters,
    organization_choices,
    overdue_task_list,
    project_export,
    project_list,
    projects_with_completion,
)
from okrs.selectors.my_work import OrganizationWork, my_work
from okrs.selectors.plan import (
    CHECK_IN_DUE_AFTER,
    RECENT_LIMIT,
    attach_health,
    objectives_with_progress,
    open_task_q,
    open_tasks,
    overdue_tasks,
    pathways_with_progress,
    recent_check_ins,
)
from okrs.selectors.reminders import DueCheckIn, check_ins_due
from okrs.selectors.review import (
    CycleReview,
    KeyResultMove,
    ObjectiveReviewPage,
    ObjectiveScore,
    cycle_after,
    cycle_review,
    later_cycles,
    objective_review,
)
from okrs.selectors.track import (
    MENTIONS_SHOWN,
    Thread,
    attach_comment_threads,
    attach_deleted_check_ins,
    comment_thread,
    live_check_ins,
    my_mentions,
    objective_comment_threads,
)

__all__ = [
    "ACTIVITY_LIMIT",
    "ARCHIVE_SHOWN_PER_KIND",
    "CHECK_IN_DUE_AFTER",
    "DASHBOARD_CACHE_SECONDS",
    "MENTIONS_SHOWN",
    "OVERDUE_PER_PAGE",
    "PATHWAY_PROJECTS_SHOWN",
    "PROJECTS_PER_PAGE",
    "RECENT_LIMIT",
    "TREND_WINDOW",
    "CycleReview",
    "Dashboard",
    "DueCheckIn",
    "KeyResultMove",
    "ObjectiveReviewPage",
    "ObjectiveScore",
    "OrganizationWork",
    "ProjectFilters",
    "Thread",
    "archive_contents_summary",
    "archived_records",
    "attach_comment_threads",
    "attach_deleted_check_ins",
    "attach_health",
    "cached_dashboard",
    "check_ins_due",
    "comment_thread",
    "current_cycle",
    "cycle_after",
    "cycle_elapsed",
    "cycle_on",
    "cycle_review",
    "dashboard",
    "end_of_day",
    "later_cycles",
    "live_check_ins",
    "my_mentions",
    "my_work",
    "objective_comment_threads",
    "objective_page",
    "objective_review",
    "objectives_with_progress",
    "open_task_q",
    "open_tasks",
    "organization_choices",
    "overdue_task_list",
    "overdue_tasks",
    "pathway_page",
    "pathways_with_progress",
    "project_export",
    "project_list",
    "project_page",
    "projects_with_completion",
    "recent_check_ins",
]
