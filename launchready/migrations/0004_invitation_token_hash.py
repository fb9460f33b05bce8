"""Store only the sha256 of invitation tokens.

Links already sent keep working: each stored token is replaced by its hash, which is
what the invitation pages now look up.
"""

import hashlib

from django.db import migrations, models


def hash_tokens(apps, schema_editor):
    Invitation = apps.get_model("launchready", "Invitation")
    for row in Invitation.objects.only("pk", "token"):
        digest = hashlib.sha256(row.token.encode("utf-8")).hexdigest()
        Invitation.objects.filter(pk=row.pk).update(token_hash=digest)


class Migration(migrations.Migration):
    dependencies = [("launchready", "0003_member_and_row_uuids")]

    operations = [
        migrations.AddField(
            model_name="invitation",
            name="token_hash",
            field=models.CharField(editable=False, max_length=64, null=True),
        ),
        migrations.RunPython(hash_tokens, migrations.RunPython.noop),
        migrations.RemoveField(model_name="invitation", name="token"),
        migrations.AlterField(
            model_name="invitation",
            name="token_hash",
            field=models.CharField(editable=False, max_length=64, unique=True),
        ),
    ]
