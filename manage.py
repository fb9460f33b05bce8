#!/usr/bin/env python
"""Django's command-line utility for Launch Ready."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "launchready.settings")
    # Commands on a laptop (audit, sandbox, migrate) need no configuration: with neither
    # DEBUG nor SECRET_KEY set, manage.py runs in development mode. Production sets
    # SECRET_KEY; the web and worker processes do not go through this file.
    if "DEBUG" not in os.environ and "SECRET_KEY" not in os.environ:
        os.environ["DEBUG"] = "true"
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
