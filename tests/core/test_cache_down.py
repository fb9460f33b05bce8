"""With Redis unreachable the cache misses instead of failing: pages are drawn from the
database. The "down" Redis is a real one that is not listening (a closed loopback port)."""

from __future__ import annotations

import logging
import socket

import pytest
from django.core.cache import caches
from django.template import Context, Template
from django.test import override_settings


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # free again once closed: nothing listens there


@pytest.fixture
def down_cache():
    port = _closed_port()
    config = {
        "default": {
            "BACKEND": "launchready.cache.TolerantRedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    with override_settings(CACHES=config):
        caches._settings = caches.settings = caches.configure_settings(None)
        yield caches["default"]
    caches._settings = caches.settings = caches.configure_settings(None)


def test_reads_miss_and_writes_are_dropped(down_cache, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="launchready.cache")
    down_cache.set("k", 1)
    assert down_cache.get("k", "missing") == "missing"
    assert down_cache.add("k", 1) is False and down_cache.get_many(["k"]) == {}
    down_cache.delete("k")
    assert "Redis is unreachable" in caplog.text


def test_a_cached_fragment_is_drawn_anyway(down_cache) -> None:
    page = Template("{% load cache %}{% cache 60 card site %}Shop is ready{% endcache %}")
    assert page.render(Context({"site": "shop"})) == "Shop is ready"


def test_counters_still_raise_so_each_limit_chooses(down_cache) -> None:
    with pytest.raises(Exception):  # noqa: B017 - the redis client's own connection error
        down_cache.incr("counter")


def _setting_with_a_redis_cache(expression: str) -> str:
    """``expression`` (on ``settings``) as a fresh process with ``CACHE_URL`` on Redis reads it."""
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "CACHE_URL": "redis://127.0.0.1:6379/9",
        "DJANGO_SETTINGS_MODULE": "launchready.settings_test",
    }
    code = f"import django; django.setup(); from django.conf import settings; print({expression})"
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_a_redis_cache_url_gets_the_tolerant_backend() -> None:
    assert _setting_with_a_redis_cache("settings.CACHES['default']['BACKEND']") == (
        "launchready.cache.TolerantRedisCache"
    )


def test_a_redis_cache_keeps_sessions_in_it_and_in_the_database() -> None:
    assert _setting_with_a_redis_cache("settings.SESSION_ENGINE") == (
        "django.contrib.sessions.backends.cached_db"
    )


@pytest.mark.django_db
def test_sessions_survive_redis_being_down(down_cache, settings, owner, workspace) -> None:
    """Sessions kept in Redis and the database (cached_db): with Redis down the session is
    written to and read from the database, the pages are drawn and nobody is logged out."""
    from django.test import Client
    from django.urls import reverse

    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    client = Client()
    client.force_login(owner)
    url = reverse("workspace_overview", kwargs={"workspace": workspace.uuid})
    for _ in range(2):
        response = client.get(url)
        assert response.status_code == 200 and "Acme Store" in response.content.decode()


def test_clear_empties_only_the_keys_under_its_prefix(settings) -> None:
    """Parallel test workers (and other users of one Redis database) keep their keys when
    one of them clears its own: each has a KEY_PREFIX."""
    config = settings.CACHES["default"]
    if "Redis" not in config["BACKEND"]:
        pytest.skip("needs Redis (CACHE_URL): CI runs the suite on Redis")
    from launchready.cache import TolerantRedisCache

    def cache_with(prefix: str) -> TolerantRedisCache:
        return TolerantRedisCache(config["LOCATION"], {**config, "KEY_PREFIX": prefix})

    mine, theirs = cache_with(config["KEY_PREFIX"] + "-mine[1]"), cache_with(config["KEY_PREFIX"] + "-theirs")
    mine.set("k", 1)
    theirs.set("k", 2)
    mine.clear()
    assert mine.get("k") is None and theirs.get("k") == 2
    theirs.clear()
    assert theirs.get("k") is None


def test_one_redis_client_serves_every_call() -> None:
    """Django builds a client per cache call (a millisecond per kept page); ours keeps one."""
    from launchready.cache import TolerantRedisCache

    cache = TolerantRedisCache("redis://127.0.0.1:6379/0", {})
    assert cache._cache.get_client(write=True) is cache._cache.get_client(write=False)
