"""Public UUIDs for memberships and site rows, last-used workspace, sending services.

Unique UUID columns are added in three steps (nullable, fill, unique) so that the
migration also works on databases that already hold rows.
"""

import uuid

from django.db import migrations, models

MODELS = ["membership", "subdomain", "criticalroute", "campaignurl"]


def fill_uuids(apps, schema_editor):
    for name in MODELS:
        model = apps.get_model("launchready", name)
        for row in model.objects.filter(uuid__isnull=True).only("pk"):
            row.uuid = uuid.uuid4()
            row.save(update_fields=["uuid"])


class Migration(migrations.Migration):
    dependencies = [
        ("launchready", "0002_worker_heartbeat"),
    ]

    operations = [
        *[
            migrations.AddField(model_name=name, name="uuid", field=models.UUIDField(null=True, editable=False))
            for name in MODELS
        ],
        migrations.RunPython(fill_uuids, migrations.RunPython.noop),
        *[
            migrations.AlterField(
                model_name=name,
                name="uuid",
                field=models.UUIDField(default=uuid.uuid4, unique=True, editable=False),
            )
            for name in MODELS
        ],
        migrations.AddField(
            model_name="membership",
            name="last_used_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="site",
            name="sending_service",
            field=models.CharField(
                blank=True,
                choices=[
                    ("shopify", "Shopify Email"),
                    ("google", "Google Workspace"),
                    ("microsoft", "Microsoft 365"),
                    ("sendgrid", "SendGrid"),
                    ("mailgun", "Mailgun"),
                    ("ses", "Amazon SES"),
                    ("postmark", "Postmark"),
                    ("mailchimp", "Mailchimp / Mandrill"),
                    ("klaviyo", "Klaviyo"),
                    ("brevo", "Brevo (Sendinblue)"),
                    ("zoho", "Zoho Mail"),
                    ("other", "Other"),
                ],
                max_length=40,
            ),
        ),
    ]
