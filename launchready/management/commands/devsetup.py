"""Create a ready-to-use demo account for `make run` (development only)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

DEMO_EMAIL = "demo@launchready.localhost"
DEMO_PASSWORD = "launch-ready-demo"  # noqa: S105 - a documented development-only login


class Command(BaseCommand):
    help = "Create the development demo login (refuses to run when DEBUG is off)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("devsetup only runs with DEBUG=true: it creates a known login.")
        from allauth.account.models import EmailAddress
        from django.contrib.auth import get_user_model

        from launchready.models import Membership, Role, Workspace

        User = get_user_model()
        user, created = User.objects.get_or_create(
            username="demo", defaults={"email": DEMO_EMAIL, "is_staff": True, "is_superuser": True}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
            EmailAddress.objects.get_or_create(
                user=user, email=DEMO_EMAIL, defaults={"verified": True, "primary": True}
            )
        if not Membership.objects.filter(user=user).exists():
            ws = Workspace.objects.create(name="Demo workspace")
            Membership.objects.create(workspace=ws, user=user, role=Role.OWNER)
        self.stdout.write(
            "\n  Launch Ready is starting at http://127.0.0.1:8000\n"
            f"  Log in as {DEMO_EMAIL} / {DEMO_PASSWORD} (or sign up: the verification\n"
            "  email is printed in this terminal by the web process).\n"
        )
