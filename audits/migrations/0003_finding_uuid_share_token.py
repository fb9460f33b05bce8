"""Public UUIDs for findings (accept-risk links) and hashed tokens for share links.

The UUID column is added nullable, filled row by row, then made unique, so existing
findings each get their own value.
"""

import uuid

from django.db import migrations, models


def fill_uuids(apps, schema_editor):
    Finding = apps.get_model("audits", "Finding")
    for pk in Finding.objects.filter(uuid__isnull=True).values_list("pk", flat=True).iterator():
        Finding.objects.filter(pk=pk).update(uuid=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [
        ("audits", "0002_email_models"),
    ]

    operations = [
        migrations.AddField(
            model_name="finding",
            name="uuid",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(fill_uuids, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="finding",
            name="uuid",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
        migrations.AddField(
            model_name="sharelink",
            name="token_hash",
            field=models.CharField(db_index=True, default="", editable=False, max_length=64),
        ),
    ]
