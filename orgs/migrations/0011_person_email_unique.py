"""One person per email (any case) in an organization.

Rows that already share an email (the sync used to accept them): the oldest keeps it, the others
are left without an email so the constraint can hold; the data-health duplicate-people check
still finds them by name.
"""

import django.db.models.functions.text
from django.db import migrations, models


def blank_repeated_emails(apps, schema_editor):
    Person = apps.get_model("orgs", "Person")
    seen = set()
    repeated = []
    rows = (
        Person._base_manager.exclude(email="")
        .order_by("organization_id", "created_at", "pk")
        .values_list("pk", "organization_id", "email")
    )
    for pk, organization_id, email in rows.iterator():
        key = (organization_id, email.strip().lower())
        if key in seen:
            repeated.append(pk)
        seen.add(key)
    Person._base_manager.filter(pk__in=repeated).update(email="")


class Migration(migrations.Migration):
    dependencies = [
        ("orgs", "0010_review"),
    ]

    operations = [
        migrations.RunPython(blank_repeated_emails, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="person",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("email"),
                models.F("organization"),
                condition=models.Q(("email", ""), _negated=True),
                name="unique_person_email",
                violation_error_message="Another person already has that email.",
            ),
        ),
    ]
