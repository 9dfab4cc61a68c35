"""Comments on objectives and key results, and the check-in history an edit or a delete keeps:
each read in a fixed number of queries, whatever the number of comments or check-ins."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Prefetch, Q
from django.urls import reverse

from okrs import mentions
from okrs.models import CheckIn, CheckInRevision, Comment, KeyResult, Mention, Objective
from orgs.models import Membership, Organization, Person
from orgs.roles import Action

MENTIONS_SHOWN = 20


@dataclass
class Thread:
    """The comments on one objective or key result, oldest first, and where to post one."""

    dom_id: str
    post_url: str
    label: str
    comments: list[Comment] = field(default_factory=list)


def _thread(organization: Organization, record: Objective | KeyResult) -> Thread:
    if isinstance(record, Objective):
        name, kwarg, dom_id = "objective_comment_create", "objective_id", "objective"
    else:
        name, kwarg, dom_id = "key_result_comment_create", "key_result_id", "kr"
    return Thread(
        dom_id=f"comments-{dom_id}-{record.pk}",
        post_url=reverse(name, kwargs={"org_slug": organization.slug, kwarg: record.pk}),
        label=str(record),
    )


def _render(
    organization: Organization, comments: list[Comment], membership: Membership | None
) -> None:
    """Each comment's body as HTML (escaped, mentions marked) and whether the viewer may
    change it. One query: the names of the people mentioned."""
    mentioned = {span[2] for comment in comments for span in comment.spans}
    names = dict(
        Person.objects.for_org(organization)
        .filter(pk__in=sorted(mentioned))
        .values_list("pk", "name")
        if mentioned
        else ()
    )
    for comment in comments:
        comment.html = mentions.render(comment.body, comment.spans, names)
        comment.can_change = (
            membership is not None
            and comment.author_id is not None
            and comment.author_id == membership.user_id
        )


def comment_thread(
    *, organization: Organization, record: Objective | KeyResult, membership: Membership | None
) -> Thread:
    """One record's thread (after a comment is posted). Two queries."""
    thread = _thread(organization, record)
    where = {"objective": record} if isinstance(record, Objective) else {"key_result": record}
    thread.comments = list(
        Comment.objects.for_org(organization)
        .filter(**where)
        .select_related("author")
        .order_by("created_at", "id")
    )
    _render(organization, thread.comments, membership)
    return thread


def attach_comment_threads(
    *,
    organization: Organization,
    objective: Objective,
    key_results: Iterable[KeyResult],
    membership: Membership | None,
) -> None:
    """`objective.comment_thread` and each key result's, from two queries."""
    key_results = list(key_results)
    comments = list(
        Comment.objects.for_org(organization)
        .filter(Q(objective=objective) | Q(key_result__in=[kr.pk for kr in key_results]))
        .select_related("author")
        .order_by("created_at", "id")
    )
    _render(organization, comments, membership)
    by_key_result: dict[int, list[Comment]] = defaultdict(list)
    objective.comment_thread = _thread(organization, objective)
    for comment in comments:
        if comment.objective_id:
            objective.comment_thread.comments.append(comment)
        else:
            by_key_result[comment.key_result_id].append(comment)
    for key_result in key_results:
        key_result.comment_thread = _thread(organization, key_result)
        key_result.comment_thread.comments = by_key_result.get(key_result.pk, [])


def objective_comment_threads(
    *, organization: Organization, objective_id: int, membership: Membership | None
) -> Objective:
    """The objective with its key results (`live_key_results`, as on its page) and every
    thread of its page attached (attach_comment_threads), rendered for the viewer: what an open
    page fetches when one of them changes. Four queries at most. Raises
    Objective.DoesNotExist for another organization's id."""
    objective = (
        Objective.objects.for_org(organization)
        .prefetch_related(
            Prefetch(
                "key_results",
                queryset=KeyResult.objects.for_org(organization).order_by("id"),
                to_attr="live_key_results",
            )
        )
        .get(pk=objective_id)
    )
    attach_comment_threads(
        organization=organization,
        objective=objective,
        key_results=objective.live_key_results,
        membership=membership,
    )
    return objective


def live_check_ins(
    organization: Organization, *, until: datetime.datetime | None = None
) -> Prefetch:
    """The prefetch of a key result's live check-ins (made by `until`, when given), newest
    first, with their earlier versions (`revisions`, newest first): two queries."""
    check_ins = CheckIn.objects.for_org(organization)
    if until is not None:
        check_ins = check_ins.filter(checked_in_at__lte=until)
    return Prefetch(
        "check_ins",
        queryset=check_ins.select_related("author")
        .prefetch_related(
            Prefetch(
                "revisions",
                queryset=CheckInRevision.objects.for_org(organization).select_related("edited_by"),
            )
        )
        .order_by("-checked_in_at", "-pk"),
    )


def attach_deleted_check_ins(
    *, organization: Organization, key_results: Iterable[KeyResult], membership: Membership
) -> None:
    """Each key result's deleted check-ins (`deleted_check_ins`), for admins, who may restore
    them; nobody else sees them (an empty list, no query)."""
    key_results = list(key_results)
    by_key_result: dict[int, list[CheckIn]] = defaultdict(list)
    if membership.allows(Action.EDIT_PLAN) and key_results:
        for check_in in (
            CheckIn.objects.for_org(organization, include_archived=True)
            .filter(key_result__in=[kr.pk for kr in key_results], archived_at__isnull=False)
            .select_related("author", "deleted_by")
            .order_by("-checked_in_at", "-pk")
        ):
            by_key_result[check_in.key_result_id].append(check_in)
    for key_result in key_results:
        key_result.deleted_check_ins = by_key_result.get(key_result.pk, [])


def my_mentions(*, user, limit: int = MENTIONS_SHOWN) -> list[Mention]:
    """The latest comments that mention the user (through their person in each organization
    they belong to), with where each is. Two queries."""
    mentions_ = list(
        Mention.objects.for_member(user)
        .filter(person__user=user)
        .select_related(
            "organization",
            "comment__author",
            "comment__objective",
            "comment__key_result__objective",
        )
        .order_by("-comment__created_at", "-pk")[:limit]
    )
    names: dict[int, dict[int, str]] = defaultdict(dict)
    wanted = {(m.organization_id, span[2]) for m in mentions_ for span in m.comment.spans}
    if wanted:
        people = Person.objects.for_member(user).filter(pk__in=sorted(p for _, p in wanted))
        for pk, organization_id, name in people.values_list("pk", "organization_id", "name"):
            names[organization_id][pk] = name
    for mention in mentions_:
        comment = mention.comment
        comment.html = mentions.render(
            comment.body, comment.spans, names.get(mention.organization_id, {})
        )
        objective = comment.objective or (comment.key_result and comment.key_result.objective)
        mention.objective = objective
        mention.subject = comment.objective or comment.key_result
    return mentions_
