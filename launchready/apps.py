from django.apps import AppConfig


class LaunchReadyConfig(AppConfig):
    name = "launchready"
    verbose_name = "Launch Ready"

    def ready(self) -> None:
        from . import signals  # noqa: F401 - connects the sign-up receiver
