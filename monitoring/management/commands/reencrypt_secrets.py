"""Re-encrypt every channel credential with the first key of LAUNCHREADY_ENCRYPTION_KEYS.

Rotation: put the new key first in the list (keep the old one after it), deploy, run
this command, then remove the old key. Values are never printed.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from monitoring.crypto import SecretUnreadable, rotate
from monitoring.models import AlertChannel


class Command(BaseCommand):
    help = "Re-encrypt stored channel credentials with the first key in LAUNCHREADY_ENCRYPTION_KEYS."

    def handle(self, *args, **options) -> None:
        done, unreadable = 0, []
        with transaction.atomic():
            for channel in AlertChannel.objects.select_for_update().exclude(secret=""):
                try:
                    channel.secret = rotate(channel.secret)
                except SecretUnreadable:
                    unreadable.append(str(channel.uuid))
                    continue
                channel.save(update_fields=["secret"])
                done += 1
            if unreadable:
                raise CommandError(
                    f"{len(unreadable)} channel(s) could not be decrypted with any configured key "
                    f"({', '.join(unreadable)}); nothing was changed. Add back the key they were written with."
                )
        self.stdout.write(f"Re-encrypted the credentials of {done} channel(s).")
