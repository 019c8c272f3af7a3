"""Settings for the test suite: production settings, with DEBUG off, served over plain
HTTP on localhost. Only what a test run needs is set here, through the same environment
variables production uses."""

import os

os.environ.setdefault("SECRET_KEY", "test-suite-secret-key-not-used-anywhere-else-0123456789")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("SESSION_COOKIE_SECURE", "0")
os.environ.setdefault("CSRF_COOKIE_SECURE", "0")
os.environ.setdefault("SECURE_HSTS_SECONDS", "0")

from attention_review.settings import *  # noqa: F403

# Background tasks run inline, so a test sees their effect when the request returns.
TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}

# Hashing passwords slowly protects real accounts, not test fixtures.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# The page-fragment cache is on, as in production with Redis: the suite runs in one
# process, whose memory cache the "writer" and the "reader" of every test share, so each
# test that looks at a page after a change also checks that no cached fragment is stale.
# (tests/reviews/test_query_counts.py turns it off: it pins what a fresh render reads.)
FRAGMENT_CACHE = True
