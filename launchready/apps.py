from django.apps import AppConfig


class LaunchReadyConfig(AppConfig):
    name = "launchready"
    verbose_name = "Launch Ready"
