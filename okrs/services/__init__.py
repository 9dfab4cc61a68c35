"""Writes about OKRs, projects and tasks. Views, commands and (later) the sync call these.
Each announces the change to the organization's open pages once it commits (missionos.events),
and logs what it changed, before and after, in the audit log (orgs.audit).

Forms validate shape (types, lengths, same-organization choices); these functions own the
rules that hold whoever writes: keyword-only, atomic, and they keep derived fields (a key
result's current value, a task's completion time, a project's last activity) consistent.

One module per concern (plan, check_ins, archive, cycle_end, comments); callers import
this package (`from okrs import services`), not the modules.
"""

from __future__ import annotations

from okrs.services.archive import (
    record_archive,
    record_delete,
    record_restore,
)
from okrs.services.check_ins import (
    check_in_changeable,
    check_in_create,
    check_in_delete,
    check_in_restore,
    check_in_update,
    check_ins_noted,
    key_result_follow_latest_check_in,
)
from okrs.services.comments import (
    comment_changeable,
    comment_create,
    comment_delete,
    comment_update,
    mention_directory,
)
from okrs.services.cycle_end import (
    CarryOver,
    cycle_carry_over,
    objective_review_save,
)
from okrs.services.plan import (
    project_save,
    task_save,
    task_set_status,
)

__all__ = [
    "CarryOver",
    "check_in_changeable",
    "check_in_create",
    "check_in_delete",
    "check_in_restore",
    "check_in_update",
    "check_ins_noted",
    "comment_changeable",
    "comment_create",
    "comment_delete",
    "comment_update",
    "cycle_carry_over",
    "key_result_follow_latest_check_in",
    "mention_directory",
    "objective_review_save",
    "project_save",
    "record_archive",
    "record_delete",
    "record_restore",
    "task_save",
    "task_set_status",
]
