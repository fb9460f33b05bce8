"""The web process's entry point."""

from __future__ import annotations

import os
import subprocess
import sys


def test_the_web_process_freezes_what_it_loaded_out_of_the_collectors_passes() -> None:
    code = (
        "import gc, launchready.wsgi, sys; "
        "print(gc.get_freeze_count(), 'launchready.views_workspaces' in sys.modules)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "launchready.settings_test"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    frozen, views_loaded = out.stdout.split()
    assert int(frozen) > 10_000 and views_loaded == "True"
