"""Create a ready-to-use demo account for `make run` (development only).

With ``--demo-stores`` the demo workspace also holds the two sandbox demo stores
(``make run`` serves them), so a newcomer can press "Run audit now" straight away.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

DEMO_EMAIL = "demo@launchready.localhost"
DEMO_PASSWORD = "launch-ready-demo"  # noqa: S105 - a documented development-only login
# domain -> (name shown, canonical host, declared DKIM selectors), as the scenarios serve them
DEMO_STORES = {
    "broken-store.test": ("Broken Store (demo)", "www", []),
    "good-store.test": ("Good Store (demo)", "www", ["s1"]),
}


class Command(BaseCommand):
    help = "Create the development demo login (refuses to run when DEBUG is off)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--demo-stores",
            action="store_true",
            help="also add the sandbox's two demo stores to the demo workspace",
        )
        parser.add_argument(
            "--quiet", action="store_true", help="print nothing (make run prints its own banner)"
        )

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("devsetup only runs with DEBUG=true: it creates a known login.")
        from allauth.account.models import EmailAddress
        from django.contrib.auth import get_user_model

        from launchready.models import Membership, Role, Workspace

        User = get_user_model()
        with transaction.atomic():
            user, created = User.objects.get_or_create(
                username="demo", defaults={"email": DEMO_EMAIL, "is_staff": True, "is_superuser": True}
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
                EmailAddress.objects.get_or_create(
                    user=user, email=DEMO_EMAIL, defaults={"verified": True, "primary": True}
                )
            membership = Membership.objects.filter(user=user).select_related("workspace").first()
            if membership is None:
                workspace = Workspace.objects.create(name="Demo workspace")
                Membership.objects.create(workspace=workspace, user=user, role=Role.OWNER)
            else:
                workspace = membership.workspace
            if options["demo_stores"]:
                self._add_demo_stores(workspace)
        if not options["quiet"]:
            self.stdout.write(
                "\n  Launch Ready is starting at http://127.0.0.1:8000\n"
                f"  Log in as {DEMO_EMAIL} / {DEMO_PASSWORD} (or sign up: the verification\n"
                "  email is printed in this terminal by the web process).\n"
            )

    def _add_demo_stores(self, workspace) -> None:
        """Each demo store once: a store already there is left as the user edited it."""
        from launchready.models import Site
        from launchready.views_sites import add_standard_routes

        for domain, (name, canonical, selectors) in DEMO_STORES.items():
            site, created = Site.objects.get_or_create(
                workspace=workspace,
                domain=domain,
                defaults={"name": name, "canonical": canonical, "dkim_selectors": selectors},
            )
            if created:
                add_standard_routes(site)
