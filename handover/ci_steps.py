"""The ready-to-paste CI steps on the deploys page: report a deploy, wait for its smoke test.

Built in Python rather than in a template because the GitHub Actions syntax
(``${{ … }}``) collides with Django's. One script, wrapped twice: a plain shell
file and a GitHub Actions step. Both need only curl and jq.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from launchready.models import Site

POLL_SECONDS = 5
POLL_TIMES = 60  # five minutes


def _script(api_url: str, site: Site) -> str:
    return f"""\
set -eu
# Report the deploy (or, with KIND=rollback, the rollback) and wait for its smoke test.
API="{api_url}"
BODY=$(jq -n --arg version "$VERSION" --arg environment "${{ENVIRONMENT:-production}}" \\
  --arg kind "${{KIND:-deploy}}" --arg commit_url "${{COMMIT_URL:-}}" \\
  '{{site: "{site.uuid}", environment: $environment, version: $version,
    kind: $kind, commit_url: $commit_url}}')
DEPLOY=$(curl -sS --fail-with-body -X POST "$API" -d "$BODY" \\
  -H "Authorization: Bearer $LAUNCHREADY_TOKEN" -H "Content-Type: application/json" | jq -r .id)
for _ in $(seq {POLL_TIMES}); do
  RESULT=$(curl -sS --fail-with-body -H "Authorization: Bearer $LAUNCHREADY_TOKEN" "$API/$DEPLOY")
  case $(echo "$RESULT" | jq -r .state) in
    passed) echo "Smoke test passed: $(echo "$RESULT" | jq -r .url)"; exit 0 ;;
    failed) echo "Smoke test FAILED: $(echo "$RESULT" | jq -r .url)" >&2
            echo "$RESULT" | jq -r '(.smoke_error | select(. != "")),
              (.results[] | select(.passed | not) | "\\(.route): \\(.reason)")' >&2
            exit 1 ;;
  esac
  sleep {POLL_SECONDS}
done
echo "The smoke test did not finish within {POLL_SECONDS * POLL_TIMES // 60} minutes." >&2
exit 1
"""


@dataclass(frozen=True)
class CiSteps:
    shell: str
    github: str
    rollback: str


def ci_steps(api_url: str, site: Site) -> CiSteps:
    script = _script(api_url, site)
    shell = (
        "#!/bin/sh\n"
        "# launchready-deploy.sh: run it after your deploy command.\n"
        "# Needs curl and jq. LAUNCHREADY_TOKEN: a read-write API token for this site (a CI secret).\n"
        "# VERSION: the release you deployed; optional ENVIRONMENT (production), COMMIT_URL, KIND.\n"
        'VERSION="${VERSION:-$(git rev-parse --short HEAD)}"\n' + script
    )
    github = (
        "- name: Smoke test with Launch Ready\n"
        "  env:\n"
        "    LAUNCHREADY_TOKEN: ${{ secrets.LAUNCHREADY_TOKEN }}\n"
        "    VERSION: ${{ github.sha }}\n"
        "    COMMIT_URL: ${{ github.server_url }}/${{ github.repository }}/commit/${{ github.sha }}\n"
        "    ENVIRONMENT: production\n"
        "  run: |\n" + textwrap.indent(script, "    ")
    )
    rollback = "KIND=rollback VERSION=<the last known good version> sh launchready-deploy.sh"
    return CiSteps(shell=shell, github=github, rollback=rollback)
