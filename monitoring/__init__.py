"""Monitoring: monitors, the scheduler, results and rollups, incidents, alerts, heartbeats.

Flow: beat → ``tasks.dispatch_due_monitors`` → ``scheduler.claim_due`` (conditional
UPDATE / SKIP LOCKED) → one ``tasks.run_checks`` per batch → ``runner.run_batch``
(probes through ``launchready.net``, immediate rechecks) → ``engine.apply_outcomes``
(bulk results, ``state.advance``, incidents, outbox rows) → ``tasks.send_notification``
→ ``outbox.send`` (claim) → a ``transports`` class.

For other apps:
- ``monitoring.sites.sync_site_monitors(site)`` — the automatic monitors of a site
  (also run by ``signals`` on Site / CriticalRoute saves);
- ``monitoring.selectors.overview(workspace, site=None)`` — everything a dashboard or
  weekly report needs (uptime bars, latency, incidents) in a fixed number of queries;
  ``rollups.summarize(monitor_ids, first, last)`` for uptime and p50/p95 per week or month;
- ``monitoring.outbox.acknowledge(incident, user)``; ``outbox.queue_test(channel)``;
- ``EscalationContact`` — the ordered list escalation walks (handover may extend it);
- ``transports.base.Transport`` — subclass with a ``kind`` to add a channel type.
"""
