"""The ready-to-paste CI steps that call the env-check gate.

Built in Python because GitHub Actions' ``${{ … }}`` collides with Django's template
syntax. Every variant sends variable NAMES only: ``compgen -e`` (bash) and
``os.environ`` (Python) list names without values, unlike ``env``, whose multi-line
values would leak into a ``cut -d= -f1``. The step passes only when the answer's
``ok`` is true (``jq -e .ok``): exit 0 when every required variable is present,
1 when one is missing or the call was refused (400, 401, 403: no ``ok`` in the
answer), and curl's own code when the app could not be reached.
"""

from __future__ import annotations

import shlex
import textwrap
from dataclasses import dataclass

from django.conf import settings

from launchready.models import Site


def gate_url() -> str:
    return f"{settings.SITE_URL}/api/v1/env-check"


@dataclass(frozen=True)
class EnvGateSteps:
    github: str  # a step for the deploy job of a GitHub Actions workflow
    bash: str  # one line for any CI with bash, curl and jq
    python: str  # one line for a plain sh with python3 and curl


def _bash_line(url: str, site: Site, environment: str) -> str:
    return (
        f"compgen -e | jq -nR --arg site {site.uuid} --arg environment {shlex.quote(environment)} "
        "'{site: $site, environment: $environment, names: [inputs]}' "
        f'| curl -sS -X POST {url} -H "Authorization: Bearer $LAUNCHREADY_TOKEN" '
        '-H "Content-Type: application/json" --data-binary @- | tee /dev/stderr | jq -e .ok > /dev/null'
    )


def env_gate_steps(site: Site, environment: str) -> EnvGateSteps:
    url = gate_url()
    script = textwrap.dedent(f"""\
        # Sends the NAMES of the variables set in this job, never their values.
        compgen -e | jq -nR --arg site {site.uuid} --arg environment {shlex.quote(environment)} \\
          '{{site: $site, environment: $environment, names: [inputs]}}' > env-names.json
        curl -sS -X POST {url} \\
          -H "Authorization: Bearer $LAUNCHREADY_TOKEN" \\
          -H "Content-Type: application/json" --data-binary @env-names.json | tee env-check.json
        # Exit 0 only when every required variable is present (ok: true).
        jq -e .ok env-check.json > /dev/null
        """)
    github = (
        "- name: Check environment variables (Launch Ready)\n"
        "  # Put it in the deploy job, with the same env: as the deploy step.\n"
        "  shell: bash\n"
        "  env:\n"
        "    LAUNCHREADY_TOKEN: ${{ secrets.LAUNCHREADY_TOKEN }}\n"
        "  run: |\n" + textwrap.indent(script, "    ")
    )
    python = (
        'python3 -c \'import json, os, sys; json.dump({"site": sys.argv[1], "environment": sys.argv[2], '
        f'"names": sorted(os.environ)}}, sys.stdout)\' {site.uuid} {shlex.quote(environment)} '
        f'| curl -sS -X POST {url} -H "Authorization: Bearer $LAUNCHREADY_TOKEN" '
        '-H "Content-Type: application/json" --data-binary @- | tee /dev/stderr '
        "| python3 -c 'import json, sys; sys.exit(0 if json.load(sys.stdin).get(\"ok\") is True else 1)'"
    )
    return EnvGateSteps(github=github, bash=_bash_line(url, site, environment), python=python)
