"""Re-encrypting every stored secret with the first of TOKEN_ENCRYPTION_KEYS (sync.crypto), after
a new key is put first: `manage.py reencrypt_secrets` calls `secrets_reencrypt`.

The secrets: each connection's Airtable token and each change feed's webhook MAC secret. Every
organization's, on purpose (unscoped): this is maintenance of the whole deployment. Rows are
read and written in batches, one transaction per batch, each row locked while it is rewritten
(a token replaced on the connection page meanwhile is read fresh, never overwritten with the
old one). A secret no key can read is left as it is and reported by its connection and
organization, never by its ciphertext.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db import models, transaction

from sync.crypto import TokenUnreadable, reencrypt_token
from sync.models import ChangeFeed, Connection

BATCH_SIZE = 200


@dataclass(frozen=True)
class StoredSecret:
    """Where one kind of secret is stored: its model and field, and its name in the report."""

    model: type[models.Model]
    field_name: str
    noun: str  # singular; the report adds the plural "s"
    connection_attr: str  # the row's connection id, to name it in the report


SECRETS = (
    StoredSecret(Connection, "token_encrypted", "token", "pk"),
    StoredSecret(ChangeFeed, "mac_secret_encrypted", "webhook MAC secret", "connection_id"),
)


@dataclass(frozen=True)
class Unreadable:
    """A secret that no configured key decrypts: whose it is, never what it is."""

    noun: str
    connection_id: int
    organization_slug: str


@dataclass
class ReencryptReport:
    dry_run: bool
    reencrypted: dict[str, int] = field(default_factory=dict)  # by noun
    unreadable: list[Unreadable] = field(default_factory=list)

    def summary(self) -> str:
        """`re-encrypted 12 tokens and 3 webhook MAC secrets, 0 unreadable`."""
        counts = " and ".join(
            f"{count} {noun}{'' if count == 1 else 's'}" for noun, count in self.reencrypted.items()
        )
        verb = "would re-encrypt" if self.dry_run else "re-encrypted"
        return f"{verb} {counts}, {len(self.unreadable)} unreadable"


def _batches(ids: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def secrets_reencrypt(*, dry_run: bool = False, batch_size: int = BATCH_SIZE) -> ReencryptReport:
    """Re-encrypt every stored secret with the first key (MultiFernet.rotate: same secret, same
    timestamp, new key). `dry_run`: read each one, write none. -> the counts and the secrets
    no key could read (left untouched)."""
    report = ReencryptReport(dry_run=dry_run)
    for secret in SECRETS:
        report.reencrypted[secret.noun] = 0
        rows = secret.model.objects.unscoped().exclude(**{secret.field_name: ""})
        ids = list(rows.order_by("pk").values_list("pk", flat=True))
        for batch in _batches(ids, batch_size):
            with transaction.atomic():
                batch_rows = rows.filter(pk__in=batch).select_related("organization").order_by("pk")
                if not dry_run:
                    batch_rows = batch_rows.select_for_update(of=("self",))
                changed = []
                for row in batch_rows:
                    try:
                        ciphertext = reencrypt_token(getattr(row, secret.field_name))
                    except TokenUnreadable:
                        report.unreadable.append(
                            Unreadable(
                                noun=secret.noun,
                                connection_id=getattr(row, secret.connection_attr),
                                organization_slug=row.organization.slug,
                            )
                        )
                        continue
                    setattr(row, secret.field_name, ciphertext)
                    changed.append(row)
                if not dry_run:
                    secret.model.objects.unscoped().bulk_update(changed, [secret.field_name])
                report.reencrypted[secret.noun] += len(changed)
    return report
