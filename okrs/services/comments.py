"""Comments on objectives and key results, and who they mention."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from missionos import events
from okrs import mentions
from okrs.models import (
    Comment,
    KeyResult,
    Mention,
    Objective,
)
from orgs import audit
from orgs.models import (
    Membership,
    Person,
)
from orgs.services import activity_record


def mention_directory(*, organization_id: int) -> mentions.Directory:
    """Who a comment in the organization may mention: its people (none of another's)."""
    people = Person.objects.for_org(organization_id).values_list("pk", "name", "email")
    return mentions.Directory.of(people)


def _comment_mentions(comment: Comment) -> None:
    spans = mentions.find_mentions(
        comment.body, mention_directory(organization_id=comment.organization_id)
    )
    comment.spans = [list(span) for span in spans]
    comment.save(update_fields=["spans"])
    people = {person_id for _, _, person_id in spans}
    comment.mentions.exclude(person_id__in=people).delete()
    known = set(comment.mentions.values_list("person_id", flat=True))
    Mention.objects.bulk_create(
        Mention(organization_id=comment.organization_id, comment=comment, person_id=person_id)
        for person_id in sorted(people - known)
    )


def _comment_record(comment: Comment) -> Objective | KeyResult:
    return comment.objective if comment.objective_id else comment.key_result


def _comments_changed(comment: Comment) -> None:
    """Open pages of the plan (the activity feed) and of the comment's objective hear of it."""
    events.publish(comment.organization_id, events.PLAN)
    objective_id = comment.objective_id or comment.key_result.objective_id
    events.publish_comments(comment.organization_id, objective_id)


@transaction.atomic
def comment_create(
    *,
    author: AbstractBaseUser,
    body: str,
    objective: Objective | None = None,
    key_result: KeyResult | None = None,
) -> Comment:
    """Comment on an objective or a key result (one of them); @mentions of the
    organization's people are found and kept (okrs.mentions), for their "My work"."""
    record = objective or key_result
    if record is None or (objective is not None and key_result is not None):
        raise ValidationError("Comment on one objective or one key result.")
    comment = Comment(
        organization_id=record.organization_id,
        objective=objective,
        key_result=key_result,
        author=author,
        body=body.strip(),
    )
    comment.full_clean()
    comment.save()
    _comment_mentions(comment)
    audit.record(
        organization_id=comment.organization_id,
        action=audit.CREATED,
        kind="comment",
        target_id=comment.pk,
        label=f"Comment on {record}",
        changes={"body": [None, audit.shown(comment.body)]},
        actor=author,
    )
    activity_record(record=record, actor=author, verb="commented on")
    _comments_changed(comment)
    return comment


def comment_changeable(*, comment: Comment, membership: Membership) -> bool:
    """Only its author edits or deletes a comment."""
    return (
        membership.organization_id == comment.organization_id
        and comment.author_id is not None
        and comment.author_id == membership.user_id
    )


@transaction.atomic
def comment_update(*, comment: Comment, body: str, actor: AbstractBaseUser) -> Comment:
    before = comment.body
    body = body.strip()
    if body == before:
        return comment
    comment.body = body
    comment.edited_at = timezone.now()
    comment.full_clean()
    comment.save()
    _comment_mentions(comment)
    audit.record(
        organization_id=comment.organization_id,
        action=audit.EDITED,
        kind="comment",
        target_id=comment.pk,
        label=f"Comment on {_comment_record(comment)}",
        changes={"body": [audit.shown(before), audit.shown(body)]},
        actor=actor,
    )
    _comments_changed(comment)
    return comment


@transaction.atomic
def comment_delete(*, comment: Comment, actor: AbstractBaseUser) -> None:
    audit.record(
        organization_id=comment.organization_id,
        action="deleted",
        kind="comment",
        target_id=comment.pk,
        label=f"Comment on {_comment_record(comment)}",
        changes={"body": [audit.shown(comment.body), None]},
        actor=actor,
    )
    _comments_changed(comment)  # sent once the delete commits
    comment.delete()
