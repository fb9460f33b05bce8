"""Re-encrypt every stored secret (channel credentials, custom monitor headers) with the
first key of LAUNCHREADY_ENCRYPTION_KEYS.

Rotation: put the new key first in the list (keep the old one after it), deploy, run
this command, then remove the old key. Values are never printed.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from monitoring.crypto import SecretUnreadable, rotate
from monitoring.models import AlertChannel, Monitor


class Command(BaseCommand):
    help = "Re-encrypt stored channel credentials with the first key in LAUNCHREADY_ENCRYPTION_KEYS."

    def handle(self, *args, **options) -> None:
        done, unreadable = 0, []
        stores = [(AlertChannel, "secret"), (Monitor, "headers_secret")]
        with transaction.atomic():
            for model, field in stores:
                for row in model.objects.select_for_update().exclude(**{field: ""}):
                    try:
                        setattr(row, field, rotate(getattr(row, field)))
                    except SecretUnreadable:
                        unreadable.append(str(row.uuid))
                        continue
                    row.save(update_fields=[field])
                    done += 1
            if unreadable:
                raise CommandError(
                    f"{len(unreadable)} secret(s) could not be decrypted with any configured key "
                    f"({', '.join(unreadable)}); nothing was changed. Add back the key they were written with."
                )
        self.stdout.write(f"Re-encrypted {done} stored secret(s).")
