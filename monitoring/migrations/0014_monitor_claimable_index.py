import importlib

from django.db import migrations, models

# Built without holding the table's write lock on PostgreSQL (see 0013).
AddIndexWithoutLocking = importlib.import_module(
    "monitoring.migrations.0013_rollup_indexes_closed_days"
).AddIndexWithoutLocking


class Migration(migrations.Migration):

    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [
        ('monitoring', '0013_rollup_indexes_closed_days'),
    ]

    operations = [
        AddIndexWithoutLocking(
            model_name='monitor',
            index=models.Index(
                condition=models.Q(('state', 'paused'), _negated=True),
                fields=['next_check_at'],
                name='monitor_claimable',
            ),
        ),
    ]
