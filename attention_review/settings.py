"""Settings for Attention Review.

Every knob is an environment variable with a safe default: DEBUG is off, the demo
accounts are off, and nothing secret has a usable default outside DEBUG. `.env.example`
documents each variable; `make run` supplies demo values.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from attention_review.operations.client_ip import axes_ip_settings
from attention_review.operations.logs import LOG_FORMATS, logging_config

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0, true/false, yes/no, on/off")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number") from None


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number") from None


def env_list(name: str, default: str = "") -> list[str]:
    return [part.strip() for part in env_str(name, default).split(",") if part.strip()]


DEBUG = env_bool("DEBUG", False)
DEMO_MODE = env_bool("ATTENTION_DEMO", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    # Only reachable with DEBUG on: a fixed development key, never a production one.
    SECRET_KEY = "django-insecure-development-only-key-not-for-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_tasks_db",
    "axes",
    "attention_review.reviews",
]

MIDDLEWARE = [
    # First, so every later middleware, the view and every log line see the request id,
    # and the metrics time the whole stack.
    "attention_review.operations.request_id.RequestIdMiddleware",
    "attention_review.operations.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "attention_review.reviews.timezones.ReaderTimeZoneMiddleware",
    # Marks the cached page fragments out of date after any request that may write.
    "attention_review.reviews.fragment_cache.DataVersionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes requires: it turns a lockout raised in authenticate() into
    # the lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "attention_review.urls"
WSGI_APPLICATION = "attention_review.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "attention_review.reviews.context_processors.navigation",
            ],
        },
    },
]

DEFAULT_SQLITE_PATH = BASE_DIR / "var" / "db.sqlite3"
if not env_str("DATABASE_URL"):
    # The embedded default: its folder is not in the repository, so make it on first use.
    DEFAULT_SQLITE_PATH.parent.mkdir(exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{DEFAULT_SQLITE_PATH}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock when a
    # transaction starts, so two confirms serialise instead of failing half-way.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0

# A shared cache (Redis) when CACHE_URL is set: sessions are then read from it and
# written through to the database, so an authenticated page skips the session query.
# Without one, each process has its own memory cache and sessions stay in the database
# (a per-process session cache could keep a logged-out session alive in another worker).
CACHE_URL = env_str("CACHE_URL")
if CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "attention-review"),
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
elif CACHE_URL:
    raise ImproperlyConfigured("CACHE_URL must be a redis:// URL (or unset)")
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# The busiest read pages keep their rendered fragments in the shared cache, per reader,
# until the next write (reviews/fragment_cache.py). It needs a cache every process
# shares, so it is on by default only with one.
FRAGMENT_CACHE = env_bool(
    "FRAGMENT_CACHE", CACHE_URL.startswith(("redis://", "rediss://", "unix://"))
)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Login throttling (django-axes): five failed logins for one username from one address
# lock that pair out for 15 minutes. The axes backend must come first: it refuses a
# locked-out pair before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# The client address the lockout is keyed on. 0 (the default): the connection's address
# (REMOTE_ADDR), for an app reached directly. N: the app sits behind N proxies that each
# append to X-Forwarded-For, and the client is the entry the outermost one appended;
# whatever the client itself sent is ignored. See docs/reliability.md, Login throttling.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more")
# django-axes hands these to django-ipware (attention_review/operations/client_ip.py).
_client_ip = axes_ip_settings(TRUSTED_PROXY_COUNT)
AXES_IPWARE_META_PRECEDENCE_ORDER = _client_ip["AXES_IPWARE_META_PRECEDENCE_ORDER"]
AXES_IPWARE_PROXY_COUNT = _client_ip["AXES_IPWARE_PROXY_COUNT"]
AXES_IPWARE_PROXY_ORDER = _client_ip["AXES_IPWARE_PROXY_ORDER"]
IPWARE_STRICT = _client_ip["IPWARE_STRICT"]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "reviews:queue"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"

# Security. Production runs behind TLS; the demo (scripts/run-demo) over plain HTTP on localhost.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
# Preload is inert unless the registered domain is submitted to the preload list; on by
# default in production so `check --deploy` is clean, off with SECURE_HSTS_PRELOAD=0.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("TRUST_X_FORWARDED_PROTO", False) else None
)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"

# An enforced policy with no inline script or style: every script and stylesheet is a
# same-origin static file, and htmx is configured (in base.html's meta tag) to match.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
}

# The Attention API. Production sets the base URL and the key; nothing else is needed.
ATTENTION_API_BASE_URL = env_str("ATTENTION_API_BASE_URL", "https://api.attention.tech/v2")
ATTENTION_API_KEY = env_str("ATTENTION_API_KEY")
ATTENTION_AUTH_SCHEME = env_str("ATTENTION_AUTH_SCHEME", "Bearer")
if ATTENTION_AUTH_SCHEME not in {"Bearer", "raw"}:
    raise ImproperlyConfigured("ATTENTION_AUTH_SCHEME must be 'Bearer' or 'raw'")
ATTENTION_CONNECT_TIMEOUT = env_float("ATTENTION_CONNECT_TIMEOUT", 5.0)
ATTENTION_READ_TIMEOUT = env_float("ATTENTION_READ_TIMEOUT", 30.0)
ATTENTION_MAX_RETRIES = env_int("ATTENTION_MAX_RETRIES", 3)
ATTENTION_BACKOFF_SECONDS = env_float("ATTENTION_BACKOFF_SECONDS", 0.5)
ATTENTION_RETRY_AFTER_CAP = env_float("ATTENTION_RETRY_AFTER_CAP", 30.0)
ATTENTION_PAGE_SIZE = env_int("ATTENTION_PAGE_SIZE", 50)
# How far before the last successful sync the next one starts, so that conversations
# analysed late (their createdAt is older than their arrival in the API) are not missed.
ATTENTION_SYNC_OVERLAP_MINUTES = env_int("ATTENTION_SYNC_OVERLAP_MINUTES", 24 * 60)
# Pages (and single conversations) fetched at once by a sync; stored in order all the same.
ATTENTION_SYNC_CONCURRENCY = env_int("ATTENTION_SYNC_CONCURRENCY", 4)
# The reconcile re-reads every conversation once per this many hours (nightly by default).
ATTENTION_RECONCILE_EVERY_HOURS = env_int("ATTENTION_RECONCILE_EVERY_HOURS", 24)
# After a confirm, the first look at Attention's export to the CRM; later looks wait
# twice as long as already waited, up to an hour, for two days.
ATTENTION_EXPORT_FIRST_CHECK_SECONDS = env_float("ATTENTION_EXPORT_FIRST_CHECK_SECONDS", 5.0)

# The review page (docs/architecture.md, "The reviewer's cockpit").
# Our side of a call: participants whose email is at one of these domains. Empty: the
# domains of the organisation's users as Attention lists them (synced owner links).
ORGANIZATION_EMAIL_DOMAINS = env_list("ORGANIZATION_EMAIL_DOMAINS", "")
# "Accept the rest" never takes an item without evidence, unless this is on (for an
# organisation whose Attention gives no quotes).
REVIEW_BULK_ACCEPT_WITHOUT_EVIDENCE = env_bool("REVIEW_BULK_ACCEPT_WITHOUT_EVIDENCE", False)
# Money values (fields whose display is "money" in the admin's field settings).
CRM_CURRENCY = env_str("CRM_CURRENCY", "USD")
# A CRM record id becomes a link with this template: {type} is the record's CRM object
# type (Opportunity, Account, Contact) and {id} its id. Empty: ids are shown as text.
CRM_RECORD_URL_TEMPLATE = env_str("CRM_RECORD_URL_TEMPLATE")
if CRM_RECORD_URL_TEMPLATE and not CRM_RECORD_URL_TEMPLATE.startswith(("https://", "http://")):
    raise ImproperlyConfigured("CRM_RECORD_URL_TEMPLATE must be an http(s) URL")

# Review deadlines: a call is due this many hours after it was recorded; it shows as
# "due soon" in the last REVIEW_DUE_SOON_HOURS before that, and overdue after it.
REVIEW_DEADLINE_HOURS = env_int("REVIEW_DEADLINE_HOURS", 48)
REVIEW_DUE_SOON_HOURS = env_int("REVIEW_DUE_SOON_HOURS", 12)
# How long opening a review holds it for its reviewer (renewed while they work).
REVIEW_LOCK_MINUTES = env_int("REVIEW_LOCK_MINUTES", 15)
# The app's own address, for links in emails (the daily digest).
APP_BASE_URL = env_str("APP_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

# Email (the daily digest). The demo prints emails to the console.
# Django 6.1's MAILERS (the EMAIL_* settings are deprecated); the environment keeps the
# familiar names. Only the SMTP backend takes the connection options.
_EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
_SMTP_OPTIONS = {
    "host": env_str("EMAIL_HOST", "localhost"),
    "port": env_int("EMAIL_PORT", 25),
    "username": env_str("EMAIL_HOST_USER"),
    "password": env_str("EMAIL_HOST_PASSWORD"),
    "use_tls": env_bool("EMAIL_USE_TLS", False),
}
MAILERS = {
    "default": {
        "BACKEND": _EMAIL_BACKEND,
        "OPTIONS": _SMTP_OPTIONS if _EMAIL_BACKEND.endswith(".smtp.EmailBackend") else {},
    }
}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Attention Review <review@localhost>")

QUEUE_PAGE_SIZE = env_int("QUEUE_PAGE_SIZE", 25)
# The queue counts what awaits review only up to this many ("1,000+"), so a page never
# counts a whole table.
QUEUE_COUNT_CAP = env_int("QUEUE_COUNT_CAP", 1000)

# Background work (sync now, the periodic sync) goes through django.tasks. Production
# and the demo use the database queue, run by `manage.py db_worker` processes; the test
# suite sets the immediate backend.
TASKS = {
    "default": {
        "BACKEND": env_str("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

# Operations (docs/operations.md). Logs go to stdout as text lines, or JSON lines with
# LOG_FORMAT=json; either way each line carries the request id (X-Request-ID).
LOG_FORMAT = env_str("LOG_FORMAT").strip().lower() or "text"
if LOG_FORMAT not in LOG_FORMATS:
    raise ImproperlyConfigured(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}")
LOGGING = logging_config(LOG_FORMAT, env_str("LOG_LEVEL", "INFO"))
# /readyz answers 503 when the last successful sync is older than this; 0 turns it off.
READY_MAX_SYNC_AGE_MINUTES = env_int("READY_MAX_SYNC_AGE_MINUTES", 24 * 60)
# /metrics answers only requests carrying `Authorization: Bearer <METRICS_TOKEN>`, and
# 404 while it is unset. Multiple workers: PROMETHEUS_MULTIPROC_DIR (read by
# prometheus_client itself).
METRICS_TOKEN = env_str("METRICS_TOKEN")
METRICS_QUEUE_DEPTH_CAP = env_int("METRICS_QUEUE_DEPTH_CAP", 100_000)
# prometheus_client turns multiprocess mode on when this variable exists at all, even
# empty, and would then write its files wherever the process runs.
_metrics_folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _metrics_folder is not None and not (_metrics_folder and Path(_metrics_folder).is_dir()):
    raise ImproperlyConfigured("PROMETHEUS_MULTIPROC_DIR must name an existing folder, or be unset")
# Probes and scrapes often reach app servers directly over plain HTTP; a redirect to
# HTTPS would only break them (or pass a probe that never reached the view), and protects
# nothing: the request has already been sent by then.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
