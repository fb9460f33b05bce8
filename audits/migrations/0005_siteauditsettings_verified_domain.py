"""Verification belongs to a domain: record which domain each proof was found on.

Sites verified before this change keep their verification for their current domain; the
load probe checks the proof again before every run, so a domain changed earlier to one
without the proof still gets no load test.
"""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def record_verified_domains(apps, schema_editor):
    SiteAuditSettings = apps.get_model("audits", "SiteAuditSettings")
    Site = apps.get_model("launchready", "Site")
    SiteAuditSettings.objects.filter(verified_at__isnull=False).update(
        verified_domain=Subquery(Site.objects.filter(pk=OuterRef("site_id")).values("domain")[:1])
    )


class Migration(migrations.Migration):
    dependencies = [
        ("audits", "0004_verdict_labels_from_the_catalogue"),
        ("launchready", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="siteauditsettings",
            name="verified_domain",
            field=models.CharField(blank=True, max_length=253),
        ),
        migrations.RunPython(record_verified_domains, migrations.RunPython.noop),
    ]
