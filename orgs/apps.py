from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_save


class OrgsConfig(AppConfig):
    name = "orgs"
    verbose_name = "Organizations"

    def ready(self) -> None:
        from orgs.activity import TargetKind, register_target
        from orgs.audit import AuditKind, register_audit_kind
        from orgs.models import (
            PERSON_TARGET,
            AuditEntry,
            Invitation,
            Membership,
            Organization,
            OrgScoped,
            Person,
        )
        from orgs.roles import Action
        from orgs.shortcuts import register_url_object

        register_url_object("person_id", Person)
        register_url_object("membership_id", Membership)
        register_url_object("invitation_id", Invitation)

        register_target(
            TargetKind(
                PERSON_TARGET,
                "Person",
                url_name="person_edit",
                url_kwarg="person_id",
                required=Action.MANAGE_PEOPLE,
                model=Person,
            )
        )

        register_audit_kind(AuditKind("person", "Person"), Person)
        register_audit_kind(AuditKind("membership", "Membership"), Membership)
        register_audit_kind(AuditKind("invitation", "Invitation"), Invitation)

        def plan_row_changed(sender, instance, **kwargs) -> None:
            # Services announce their changes; this also catches writes that are not theirs
            # (the admin, the shell, test factories). Bulk writes send no signal: the sync
            # announces a plan change when each run ends. Any row the organization owns
            # counts (its sync runs show on the dashboard), and so does its own (its name).
            from missionos.plan_cache import plan_changed

            if isinstance(instance, AuditEntry):
                return  # the log of a change, not the plan (the change itself announced it)
            if isinstance(instance, OrgScoped) and instance.organization_id:
                plan_changed(instance.organization_id)
            elif isinstance(instance, Organization) and instance.pk:
                plan_changed(instance.pk)

        for signal in (post_save, post_delete, m2m_changed):
            signal.connect(plan_row_changed, dispatch_uid=f"orgs.plan_row_changed.{signal}")
