import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "launchready.settings")
application = get_wsgi_application()

# What the process loads to serve (Django, the apps, every view module through the URLconf)
# lives as long as the process: frozen out of the garbage collector's full passes, which
# otherwise walk all of it every few hundred requests, a pause of 100 ms and more in the
# middle of a request (measured in-process on the dashboard data: 150 ms a full pass, 37 ms
# with the start-up objects frozen).
get_resolver().url_patterns  # noqa: B018 - loads the URLconf and its views now
gc.collect()
gc.freeze()
