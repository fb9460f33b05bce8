"""The sandbox internet: real DNS, HTTP(S), RDAP, webhook and SMTP servers on loopback.

Used by tests (see ``sandbox.pytest_plugin``) and by ``manage.py sandbox`` for demos.
Scenario schema: ``sandbox/README.md``.
"""

from .runner import Sandbox
from .scenario import Scenario, ScenarioError, load_scenario

__all__ = ["Sandbox", "Scenario", "ScenarioError", "load_scenario"]
