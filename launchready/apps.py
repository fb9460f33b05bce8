from django.apps import AppConfig


class LaunchReadyConfig(AppConfig):
    name = "launchready"
    verbose_name = "Launch Ready"

    def ready(self) -> None:
        from . import fragments, signals  # noqa: F401 - signals connects the sign-up receiver

        fragments.connect()
