"""Shared pytest set-up. Fixture modules are plugins so each area keeps its own file."""

pytest_plugins: list[str] = [
    "tests.fixtures_core",  # owner/admin/member/viewer/stranger, workspace, site, url_kwarg_* (core)
    "tests.monitoring.fixtures",  # monitors, channels, incidents; url_kwarg_monitor/incident/channel/…
    "tests.fixtures_audits",  # audit runs with findings, share links; url_kwarg_run/finding/share/…
    "tests.handover.fixtures_deploys",  # deploys; url_kwarg_deploy
    "tests.handover.fixtures_env",  # env-var inventory; url_kwarg_envvar
    "tests.handover.fixtures_ownership",  # services, checklist, handover links; url_kwarg_service/…
    "sandbox.pytest_plugin",  # sandbox internet: the `sandbox_scenario` fixture factory
]
