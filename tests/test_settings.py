"""Settings read from the environment: the shared cache and sessions."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBE = (
    "import django; django.setup(); from django.conf import settings; "
    "from django.core.cache import cache; cache.set('probe', 'ok', 10); "
    "print(settings.SESSION_ENGINE, settings.CACHES['default']['BACKEND'], cache.get('probe'))"
)


def run_settings(**env):
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "attention_review.settings",
        "SECRET_KEY": "x" * 60,
        "ALLOWED_HOSTS": "review.example.com",
        **env,
    }
    return subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", PROBE], cwd=ROOT, env=environment, capture_output=True, text=True
    )


def test_without_a_cache_url_sessions_stay_in_the_database():
    result = run_settings(CACHE_URL="")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:2] == [
        "django.contrib.sessions.backends.db",
        "django.core.cache.backends.locmem.LocMemCache",
    ]


def test_a_redis_cache_url_shares_the_cache_and_caches_sessions():
    result = run_settings(CACHE_URL="redis://127.0.0.1:6379/15")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.contrib.sessions.backends.cached_db",
        "django.core.cache.backends.redis.RedisCache",
        "ok",
    ]


def test_an_unknown_cache_url_is_refused_with_a_clear_message():
    result = run_settings(CACHE_URL="memcached://127.0.0.1:11211")
    assert result.returncode != 0
    assert "CACHE_URL must be a redis:// URL" in result.stderr
