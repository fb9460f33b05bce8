"""Standard placeholder routes that nobody confirmed stop being timed and watched.

Sites used to start with the standard routes at guessed paths (/products/example,
/account/login, /api/orders…). A row still at its guessed path was never edited by
anyone, so it becomes what it is: a standard guess, not confirmed. The next audit puts
the path it finds on the store in its place for the owner to confirm. The homepage
("home" at "/") exists on every store and stays confirmed.

The automatic monitor of such a route is removed, not paused: it watched a path that
may not exist (the healthy store's login monitor was DOWN on a 404), its results are
false alarms, and removing the route itself already removes its monitor. Confirming the
route later creates a fresh monitor.
"""

from django.db import migrations

# The placeholder table as it was when sites were pre-filled (launchready/routes.py).
PLACEHOLDERS = {
    "listing": "/collections/all",
    "product": "/products/example",
    "cart": "/cart",
    "login": "/account/login",
    "checkout": "/checkout",
    "order": "/api/orders",
}


def unconfirm_placeholders(apps, schema_editor):
    CriticalRoute = apps.get_model("launchready", "CriticalRoute")
    Monitor = apps.get_model("monitoring", "Monitor")
    CriticalRoute.objects.filter(name="home", path="/").update(source="standard", confirmed=True)
    for name, path in PLACEHOLDERS.items():
        guesses = CriticalRoute.objects.filter(name=name, path=path, source="user")
        site_ids = list(guesses.values_list("site_id", flat=True))
        guesses.update(source="standard", confirmed=False)
        Monitor.objects.filter(site_id__in=site_ids, auto_key=f"route:{name}").delete()


def confirm_again(apps, schema_editor):
    CriticalRoute = apps.get_model("launchready", "CriticalRoute")
    CriticalRoute.objects.filter(source="standard").update(source="user", confirmed=True)


class Migration(migrations.Migration):
    dependencies = [
        ("launchready", "0006_route_source_and_declared_services"),
        ("monitoring", "0009_notification_deploy"),
    ]

    operations = [migrations.RunPython(unconfirm_placeholders, confirm_again)]
