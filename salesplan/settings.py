"""Salesplan settings: every value comes from the environment, with a safe development default.

One file on purpose (healthchecks style): what differs between a laptop, CI and production is
the environment, not the code.
"""

import json
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
import dj_email_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from salesplan.limits import MAX_REQUEST_BODY_BYTES

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))
(VAR_DIR / "staticfiles").mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
# What `check --deploy` asks of a key (security.W009): at least 50 characters, at least 5
# different ones. Short keys are guessable, and sessions, password-reset links and the CRM
# credentials integrations keep encrypted all rest on this one.
SECRET_KEY_MIN_LENGTH = 50
SECRET_KEY_MIN_UNIQUE_CHARACTERS = 5
if not SECRET_KEY:
    if not DEBUG:
        # A production process must never run on a key that is in the repository.
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"
elif not DEBUG and (
    len(SECRET_KEY) < SECRET_KEY_MIN_LENGTH
    or len(set(SECRET_KEY)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS
    or SECRET_KEY.startswith(("django-insecure-", "replace-me"))  # Django's; .env.example's
):
    raise ImproperlyConfigured(
        f"SECRET_KEY must be at least {SECRET_KEY_MIN_LENGTH} random characters when DEBUG is "
        "off (python -c 'import secrets; print(secrets.token_urlsafe(50))')."
    )
# Old keys after a rotation: they still open sessions and the CRM credentials integrations
# keep encrypted (funnel.services.integrations derives their key from SECRET_KEY).
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS", "")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "salesplan",
    "funnel",
    "responsibility",
    "metrics",
    "salesplan.plans",
    "salesplan.dashboards",
    "salesplan.kpis",
    "salesplan.clientbase",
    "salesplan.reviews",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "salesplan.middleware.LoginRequiredMiddleware",
    "salesplan.middleware.MembershipMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After a write, the organization's cached morning pages are rebuilt (salesplan.figures).
    "salesplan.figures.FiguresChangedMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "salesplan.urls"
WSGI_APPLICATION = "salesplan.wsgi.application"
ASGI_APPLICATION = "salesplan.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "salesplan.context_processors.membership",
            ],
        },
    },
]

# Database: SQLite under var/ unless DATABASE_URL names another (PostgreSQL in CI and prod).
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'salesplan.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file, not memory, so a Celery worker process started by a test can share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
    DATABASES["default"]["OPTIONS"] = {
        # WAL: pages read while a background import writes (the embedded default runs jobs
        # in a thread of the web process); IMMEDIATE: a writer waits for the lock up front
        # (up to `timeout` seconds) instead of failing halfway through its transaction.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis: unset means an embedded default (tasks run in a thread of the web process, cache in
# local memory).
REDIS_URL = os.environ.get("REDIS_URL", "")
# Without a broker, queued jobs run one at a time in a background thread of the process that
# queued them (salesplan.queue), so a long import never holds the request; tests run them
# inline.
TASKS_IN_THREAD = env_bool("TASKS_IN_THREAD", not REDIS_URL)
# Keys' prefix, to keep apart processes that share one Redis: CACHE_KEY_PREFIX, else the
# test suite's parallel worker (pytest-xdist names each; the Celery workers a test starts
# inherit it), so one worker's debounce keys never hold back another's jobs.
CACHE_KEY_PREFIX = os.environ.get("CACHE_KEY_PREFIX") or os.environ.get("PYTEST_XDIST_WORKER", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# How long a morning page's answer may be kept at most (salesplan.figures: a change rebuilds it
# at once whatever this says); 0 turns the cache off.
PAGE_CACHE_SECONDS = env_int("PAGE_CACHE_SECONDS", 600)

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "salesplan")
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 60 * 30
CELERY_TIMEZONE = "Europe/Moscow"
# A broker that does not answer fails a publish in about this long (connect, one quick retry)
# instead of Celery's default ~20 s of retries: the request answers 503 at once and what it
# stored waits for the sweeps (salesplan.queue.QueueUnavailable).
BROKER_TIMEOUT_S = float(os.environ.get("BROKER_TIMEOUT_S") or 1)
CELERY_BROKER_CONNECTION_TIMEOUT = BROKER_TIMEOUT_S
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": BROKER_TIMEOUT_S,
    # A worker's blocking read waits 1 s at a time (kombu's polling), well under this.
    "socket_timeout": max(BROKER_TIMEOUT_S, 5.0),
    # A job whose worker died unacknowledged (acks_late) is handed out again after this long;
    # it must outlast the longest job (CELERY_TASK_TIME_LIMIT). Plan vs fact does not wait for
    # it: the killed run left its plan marked, and the 15-minute sweep queues it again.
    "visibility_timeout": env_int("BROKER_VISIBILITY_TIMEOUT_S", 3600),
}
# Plan vs fact (salesplan.plans.performance): a recompute reads its actuals' aggregate
# queries side by side on connections of their own (PostgreSQL; a recompute that is the
# outermost transaction only). Off: one after another on the job's connection.
ACTUALS_CONCURRENT_QUERIES = env_bool("ACTUALS_CONCURRENT_QUERIES", True)
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = BROKER_TIMEOUT_S
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"retry_policy": CELERY_TASK_PUBLISH_RETRY_POLICY}
# Jobs that recover (funnel.services.jobs): a running import or check silent (no chunk read,
# no heartbeat) for JOB_STALE_AFTER_S lost its worker, and the sweep starts it again, up to
# JOB_MAX_ATTEMPTS runs, then fails it with the reason and a "Run again" button. The final
# write is one transaction with no heartbeat inside: 1,000,000 leads take ~2.5 min here, so
# the default leaves room (and a second run would only find every row unchanged).
JOB_STALE_AFTER_S = env_int("JOB_STALE_AFTER_S", 600)
JOB_MAX_ATTEMPTS = env_int("JOB_MAX_ATTEMPTS", 3)
# How often beat asks a worker for a sign of life (/healthz: "late" after three missed).
WORKER_HEARTBEAT_S = env_int("WORKER_HEARTBEAT_S", 30)
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    # Plan vs fact of every plan in progress (one debounced job per plan), so "today" moves on
    # even when no actuals arrive.
    "plans.refresh_all_performance": {
        "task": "plans.refresh_all_performance",
        "schedule": 15 * 60.0,
        "options": {"expires": 14 * 60},
    },
    # Nightly, every plan in progress recomputed whole (from its period start).
    "plans.refresh_all_performance.nightly": {
        "task": "plans.refresh_all_performance",
        "schedule": crontab(hour=2, minute=30),
        "kwargs": {"full": True},
        "options": {"expires": 3 * 3600},
    },
    # Nightly, every organization's client base (issue 13): cooled-off companies return to
    # the available ones, the refusal pace and the runway follow the months.
    "clientbase.refresh_all": {
        "task": "clientbase.refresh_all",
        "schedule": crontab(hour=3, minute=10),
        "options": {"expires": 3 * 3600},
    },
    # The head of sales' weekly review: every organization's current week prefilled from the
    # data, nightly, so a week is prefilled even when no actuals arrive in it.
    "reviews.refresh_all": {
        "task": "reviews.refresh_all",
        "schedule": crontab(hour=3, minute=15),
        "options": {"expires": 3 * 3600},
    },
    # Webhooks whose job was never queued (the broker was down) or whose retry was lost.
    "funnel.sweep_webhooks": {
        "task": "funnel.sweep_webhooks",
        "schedule": 60.0,
        "options": {"expires": 55},  # a missed minute is not worth running late
    },
    # Imports waiting for the queue, and running ones whose worker was lost.
    "funnel.sweep_jobs": {
        "task": "funnel.sweep_jobs",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "salesplan.worker_heartbeat": {
        "task": "salesplan.worker_heartbeat",
        "schedule": float(WORKER_HEARTBEAT_S),
        "options": {"expires": WORKER_HEARTBEAT_S},
    },
    # Notification deliveries whose retry is due, or whose job was never queued.
    "notifications.sweep_deliveries": {
        "task": "notifications.sweep_deliveries",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # CRM discipline (metrics.discipline): every organization with leads or tasks, hourly
    # (overdue tasks appear as time passes; a load of actuals counts again at once).
    "metrics.refresh_all_discipline": {
        "task": "metrics.refresh_all_discipline",
        "schedule": 3600.0,
        "options": {"expires": 3500},
    },
    # The daily digest: hourly, each organization's once its local clock passes DIGEST_HOUR
    # (once per person and day whatever runs).
    "notifications.daily_digest": {
        "task": "notifications.daily_digest",
        "schedule": 3600.0,
        "options": {"expires": 3500},
    },
}
# salesplan.notifications is a package of the salesplan app, not an app: its tasks are
# imported by name (autodiscovery looks in the apps' tasks.py only).
CELERY_IMPORTS = ("salesplan.notifications.tasks",)
# Notifications (salesplan.notifications): the Bot API's address (tests: a local fake), how
# many times a delivery is tried before it is failed, the first retry's delay (doubling after
# each failure), and the local hour after which the daily digest of yesterday goes out.
TELEGRAM_API_BASE = os.environ.get("TELEGRAM_API_BASE", "https://api.telegram.org")
# An organization's webhook may only call public addresses: not this machine, its private
# network or the cloud's metadata service (server-side request forgery). Tests and a
# development setup with a local receiver turn this on.
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env_bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", False)
DELIVERY_MAX_ATTEMPTS = env_int("DELIVERY_MAX_ATTEMPTS", 5)
DELIVERY_RETRY_BASE_S = env_int("DELIVERY_RETRY_BASE_S", 60)
DIGEST_HOUR = env_int("DIGEST_HOUR", 8)

# Development and tests only: a Bitrix24 portal's domain → the local address that answers for
# it (a fake portal on 127.0.0.1), as a hosts-file entry would; the integration's own URL and
# its key are kept. JSON, e.g. {"romashka.bitrix24.ru": "http://127.0.0.1:8765"}.
BITRIX24_PORTAL_ADDRESSES: dict[str, str] = json.loads(
    os.environ.get("BITRIX24_PORTAL_ADDRESSES") or "{}"
)

# E-mail: console in development, any SMTP server through EMAIL_URL (smtp://user:pass@host:587).
EMAIL_URL = os.environ.get("EMAIL_URL", "consolemail://")
vars().update(dj_email_url.parse(EMAIL_URL))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Salesplan <noreply@salesplan.local>")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes counts failed sign-ins (the login page, the API's token endpoint) per e-mail and
# client address: after LOGIN_FAILURE_LIMIT of them that pair is refused for
# LOGIN_LOCKOUT_MINUTES, even with the right password (429, salesplan.views.locked_out).
# The pair, not the address alone: an office behind one address is not locked out by one
# person's typos, nor an account by strangers elsewhere.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "salesplan.accounts.attempted_username"
AXES_CLIENT_IP_CALLABLE = "salesplan.accounts.client_address"
AXES_LOCKOUT_CALLABLE = "salesplan.views.locked_out"
AXES_VERBOSE = False
# API tokens stop working this many days after they were issued (0: never); a person rotates
# or revokes theirs on their account page or through the API.
API_TOKEN_TTL_DAYS = env_int("API_TOKEN_TTL_DAYS", 90)
# How long a password-reset or sign-up link works.
PASSWORD_RESET_TIMEOUT = 60 * 60 * env_int("PASSWORD_RESET_HOURS", 24)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", _("Russian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Moscow"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
# Production (DEBUG off, `collectstatic` at the image build): hashed names, which whitenoise
# serves with "max-age=315360000, public, immutable" (tests/salesplan/test_ui_static.py), so a
# browser fetches the plotly.js bundle once per release. Development and tests: plain names.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))  # uploaded CRM exports
MEDIA_URL = "media/"
# Limits on an uploaded CRM export an operator may raise (why each default is that size:
# salesplan/limits.py). Larger files are refused with 413 and the limit in words.
IMPORT_MAX_UPLOAD_MB = env_int("IMPORT_MAX_UPLOAD_MB", 50)
IMPORT_MAX_UNPACKED_MB = env_int("IMPORT_MAX_UNPACKED_MB", 500)
IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 1_000_000)
# An upload larger than this is read for its preview by a job, not in the request (a 1 MB
# workbook is ~16,000 rows, about half a second to read here).
IMPORT_INSPECT_INLINE_MB = env_int("IMPORT_INSPECT_INLINE_MB", 1)
# A request body Django reads into memory (forms, webhooks; files apart): a larger one is a 400,
# a larger JSON body a 413 (salesplan.api.parsers).
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BODY_BYTES

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "salesplan.api.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Over its rate a caller gets 429 with Retry-After (salesplan.api.throttling): per client
    # address without a user, per user, per webhook address (its secret), and per client
    # address on the token endpoint (a password guess costs a request there).
    "DEFAULT_THROTTLE_CLASSES": [
        "salesplan.api.throttling.AnonThrottle",
        "salesplan.api.throttling.UserThrottle",
    ],
    # Proxies in front of the app that append to X-Forwarded-For: 0 (gunicorn answers
    # directly, as in docker-compose.yml) takes the connection's address, so a client cannot
    # pick its own address to dodge a rate or a lockout.
    "NUM_PROXIES": env_int("NUM_PROXIES", 0),
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("API_THROTTLE_ANON", "60/minute"),
        "user": os.environ.get("API_THROTTLE_USER", "1200/minute"),
        "webhooks": os.environ.get("API_THROTTLE_WEBHOOKS", "600/minute"),
        "token": os.environ.get("API_THROTTLE_TOKEN", "10/minute"),
    },
    "DEFAULT_PERMISSION_CLASSES": ["salesplan.api.permissions.IsOrganizationMember"],
    # Every operation documents its error answers too (400, 401, 403, 404, 413, 429, ...).
    "DEFAULT_SCHEMA_CLASS": "salesplan.api.schema.AutoSchema",
    # Ours: bodies bounded in size and nesting (salesplan.limits); forms as DRF reads them.
    "DEFAULT_PARSER_CLASSES": [
        "salesplan.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "salesplan.api.exceptions.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Salesplan API",
    "DESCRIPTION": (
        "Plan a sales department's month from the bottom of the funnel. Authenticate with "
        "`Authorization: Token <key>` (POST /api/v1/auth/token/) or a browser session. "
        "Every object belongs to the caller's organization; another organization's objects "
        "answer 404."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["salesplan.api.permissions.IsOrganizationMember"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # OpenAPI links from what a create or a list returns to the operations on that object.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "salesplan.api.schema.add_links",
    ],
}

SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
# HTTPS. Production defaults (DEBUG=0) are the safe ones and `check --deploy` passes with
# them; each can be turned off from the environment.
# Trust X-Forwarded-Proto: on behind a TLS-terminating proxy that sets it (and strips a
# client's own); off when clients reach gunicorn directly, or they could claim HTTPS.
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("SECURE_PROXY_SSL_HEADER", True) else None
)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# The container's own health check asks over plain HTTP on 127.0.0.1 (docker-compose.yml).
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
# HSTS: browsers refuse plain HTTP to this host for this long (one year). Start lower
# (e.g. 3600) on a new domain: a browser remembers it, and it cannot be taken back.
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS") or (0 if DEBUG else 31_536_000))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
# Asks to be put on the browsers' built-in HTTPS list (hstspreload.org): opt in.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)

# Webhook secrets and invitation tokens travel in URL paths: every line that may print a path
# is masked (salesplan.logs; gunicorn's own logs through gunicorn.conf.py).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "mask_secrets": {"()": "salesplan.logs.SecretsFilter"},
        "client_errors": {"()": "salesplan.logs.ClientErrorFilter"},
    },
    "formatters": {
        # One line a record, its level first: "WARNING django.request: Forbidden ...: /plans/3/".
        "line": {"format": "{levelname} {name}: {message}", "style": "{"},
        # Django's own format of runserver's request lines.
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "line",
            "filters": ["mask_secrets"],
        },
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["mask_secrets"],
        },
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Django's default config gives "django" a console handler of its own (DEBUG only)
        # that also propagates to the root's: every 403 was printed twice. Root's only.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        # "Not Found: /invite/<token>/": masked before any handler (or a test) sees it; a 4xx
        # is one warning line, without a traceback.
        "django.request": {"filters": ["mask_secrets", "client_errors"]},
        "django.server": {
            "handlers": ["django.server"],
            "level": "INFO",
            "propagate": False,
            "filters": ["mask_secrets"],
        },
    },
}
