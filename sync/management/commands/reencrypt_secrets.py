"""`manage.py reencrypt_secrets`: after a new key is put first in TOKEN_ENCRYPTION_KEYS, encrypt
every stored secret (Airtable tokens, webhook MAC secrets) with it, so the old key can be
dropped. Secrets no configured key can read are listed by connection and organization (never
their ciphertext), left as they are, and make the command exit non-zero.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from sync import services
from sync.services.encryption import BATCH_SIZE


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored Airtable token and webhook MAC secret with the first key of "
        "TOKEN_ENCRYPTION_KEYS. Secrets no key can read are listed and left untouched; the "
        "command then exits non-zero."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Read every secret and report what would be done; write nothing.",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=BATCH_SIZE,
            metavar="N",
            help=f"Rows per transaction (default {BATCH_SIZE}).",
        )

    def handle(self, *args, **options):
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        report = services.secrets_reencrypt(
            dry_run=options["dry_run"], batch_size=options["batch_size"]
        )
        for secret in report.unreadable:
            self.stderr.write(
                f"unreadable {secret.noun}: connection {secret.connection_id} "
                f"(organization {secret.organization_slug}), left as it is"
            )
        self.stdout.write(report.summary())
        if report.unreadable:
            raise CommandError(
                f"{len(report.unreadable)} secret(s) could not be decrypted with any key of "
                "TOKEN_ENCRYPTION_KEYS (or the SECRET_KEY-derived keys): put the key they were "
                "encrypted with back in the list, or enter those tokens again."
            )
