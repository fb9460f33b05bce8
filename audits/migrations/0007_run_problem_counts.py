from collections import defaultdict

from django.db import migrations, models


def count_problems(apps, schema_editor):
    """Runs stored before: distinct failing (check, severity) pairs of their findings."""
    AuditRun = apps.get_model("audits", "AuditRun")
    Finding = apps.get_model("audits", "Finding")
    pairs = defaultdict(set)
    for run_id, check_id, severity in (
        Finding.objects.filter(status="fail").values_list("run_id", "check_id", "severity").iterator()
    ):
        pairs[run_id].add((check_id, severity))
    for run in AuditRun.objects.filter(status="done").only("pk").iterator():
        counts = dict.fromkeys(("blocker", "high", "medium", "low", "info"), 0)
        for _check, severity in pairs.get(run.pk, ()):
            counts[severity] += 1
        AuditRun.objects.filter(pk=run.pk).update(problem_counts=dict(counts))


class Migration(migrations.Migration):
    dependencies = [
        ("audits", "0006_admin_names"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditrun",
            name="problem_counts",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.RunPython(count_problems, migrations.RunPython.noop),
    ]
