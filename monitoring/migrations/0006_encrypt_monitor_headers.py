"""Custom monitor headers move from plain JSON to MultiFernet ciphertext."""

from django.db import migrations, models


def encrypt_existing(apps, schema_editor):
    from monitoring.crypto import encrypt_json

    Monitor = apps.get_model("monitoring", "Monitor")
    for monitor in Monitor.objects.exclude(headers={}).only("pk", "headers"):
        if monitor.headers:
            Monitor.objects.filter(pk=monitor.pk).update(headers_secret=encrypt_json(monitor.headers))


def decrypt_back(apps, schema_editor):
    from monitoring.crypto import decrypt_json

    Monitor = apps.get_model("monitoring", "Monitor")
    for monitor in Monitor.objects.exclude(headers_secret="").only("pk", "headers_secret"):
        Monitor.objects.filter(pk=monitor.pk).update(headers=decrypt_json(monitor.headers_secret))


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0005_notification_settled_event"),
    ]

    operations = [
        migrations.AddField(
            model_name="monitor",
            name="headers_secret",
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.RunPython(encrypt_existing, decrypt_back),
        migrations.RemoveField(model_name="monitor", name="headers"),
    ]
