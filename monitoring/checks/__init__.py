"""Checks in three layers: ``specs`` (what to check, typed), ``probes`` (network I/O
through ``launchready.net``), ``rules`` (pure: facts → ok and a cause in plain words)."""
