"""A monitor's 90-day uptime bar, built once a day and stored (see ``monitoring.rollups``)."""

from __future__ import annotations

from django.db import models

from .monitors import Monitor


class UptimeBar(models.Model):
    """The finished days of a monitor's uptime bar as SVG rectangles, ready to draw.

    ``svg`` holds the days up to ``through`` (the last whole day when it was built);
    pages add today's rectangle from today's rollup. ``checks``/``failures`` are the
    totals of those days, so the 90-day uptime needs no rollup rows either. A day's
    rollup that changes deletes the row; the hourly rollup job builds it again.
    """

    monitor = models.OneToOneField(
        Monitor, on_delete=models.CASCADE, primary_key=True, related_name="uptime_bar"
    )
    through = models.DateField()
    svg = models.TextField()
    checks = models.BigIntegerField(default=0)
    failures = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.monitor_id} through {self.through}"
