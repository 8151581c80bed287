"""Settings, read from the environment.

With no variable set the server runs on the embedded default: SQLite, an in-memory Celery broker
and channel layer. Production sets DEBUG=0, SECRET_KEY, DATABASE_URL and REDIS_URL.
"""
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("DEVOPS_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEFAULT_SECRET_KEY = "devops-embedded-default-insecure-key"
DEBUG = env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY", DEFAULT_SECRET_KEY)
if not DEBUG and SECRET_KEY == DEFAULT_SECRET_KEY:
    raise ImproperlyConfigured(
        "DEBUG is off but SECRET_KEY is the embedded default: set SECRET_KEY to a long random value."
    )

# Credential encryption keys (apps.ticket): `id:base64key` entries, the first encrypts; or a file of
# them. With DEBUG on and neither set, a key file is generated in DEVOPS_VAR_DIR.
TICKET_KEYS = os.environ.get("DEVOPS_TICKET_KEYS", "")
TICKET_KEY_FILE = os.environ.get("DEVOPS_TICKET_KEY_FILE", "")
if not DEBUG and not (TICKET_KEYS or TICKET_KEY_FILE):
    raise ImproperlyConfigured(
        "DEBUG is off and no credential encryption key is set: set DEVOPS_TICKET_KEYS (id:base64key, "
        "see `python manage.py ticket generate-key`) or DEVOPS_TICKET_KEY_FILE."
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "http://127.0.0.1:8000,http://localhost:8000")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "channels",
    "apps.core",
    "apps.process",
    "apps.dispatch",
    "apps.log",
    "apps.environment",
    "apps.ticket",
    "apps.openapi",
    "apps.quality",
    "apps.notify",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "apps.core.middleware.ApplicationErrorMiddleware",
]

ROOT_URLCONF = "devops.urls"
WSGI_APPLICATION = "devops.wsgi.application"
ASGI_APPLICATION = "devops.asgi.application"

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
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'devops.sqlite3'}"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool("DATABASE_POOL", True):
    # ASGI runs each synchronous request in a fresh thread: without a pool every agent call would
    # open a new PostgreSQL connection.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {"min_size": 2, "max_size": 20}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
    # A file, not memory, so the integration tests' server, worker and agents open the test database
    # too; the process id keeps concurrent test runs apart (pytest-xdist adds its own suffix).
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-db-{os.getpid()}.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

# Pipeline bodies larger than this are refused (HTTP 413 over the API).
PIPELINE_MAX_BYTES = 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024

# Build machines: an agent silent this long is offline; the agent file that machines download.
AGENT_OFFLINE_SECONDS = int(os.environ.get("DEVOPS_AGENT_OFFLINE_SECONDS", "30"))
AGENT_HEARTBEAT_SECONDS = 5
DEVOPS_AGENT_FILE = Path(os.environ.get("DEVOPS_AGENT_FILE", BASE_DIR / "agent" / "devops_agent.py"))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.openapi.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.BasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        # Token scopes and a bot token's project: checked for every endpoint here (apps/openapi/scopes.py).
        "apps.openapi.permissions.TokenScopePermission",
    ],
    # Per API token, and per IP for anonymous callers; counters in the cache (Redis with REDIS_URL).
    "DEFAULT_THROTTLE_CLASSES": [
        "apps.openapi.throttling.TokenRateThrottle",
        "apps.openapi.throttling.AnonymousIpRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "token": os.environ.get("DEVOPS_THROTTLE_TOKEN", "1200/minute"),
        "anon": os.environ.get("DEVOPS_THROTTLE_ANON", "120/minute"),
    },
    "DEFAULT_PARSER_CLASSES": [
        "apps.core.api.parsers.BoundedJSONParser",
        "apps.core.api.parsers.BoundedFormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "apps.core.api.exceptions.api_exception_handler",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "DevOps CI API",
    "DESCRIPTION": "Projects, pipelines and builds of the self-hosted CI server.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "ENUM_NAME_OVERRIDES": {
        "RoleEnum": "apps.core.choices.Role",
        "ReviewStatusEnum": "apps.process.models.review.ReviewStatus",
        "StatusEnum": "apps.process.choices.Status",
        "DeliveryStatusEnum": "apps.notify.choices.DeliveryStatus",
        "NotificationEventEnum": "apps.notify.choices.Trigger",
        "GateResultEnum": "apps.quality.choices.GateResult",
    },
}

REDIS_URL = os.environ.get("REDIS_URL", "")
# Start the Celery worker thread and the periodic tasks inside the ASGI process (devops/asgi.py): what
# the embedded default needs when the server runs as `uvicorn devops.asgi:application`.
DEVOPS_EMBEDDED_WORKER = env_bool("DEVOPS_EMBEDDED_WORKER", False)

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = None
# Every broker key in Redis starts with this prefix, so several deployments (or test runs) share one Redis.
if os.environ.get("DEVOPS_BROKER_KEY_PREFIX"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {"global_keyprefix": os.environ["DEVOPS_BROKER_KEY_PREFIX"]}
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_DEFAULT_QUEUE = "engine"
# A queue per concern; a worker started without -Q consumes all of them.
CELERY_TASK_QUEUES = [Queue(name) for name in ("engine", "dispatch", "log", "notify")]
CELERY_TASK_ROUTES = {
    "apps.process.tasks.*": {"queue": "engine"},
    "apps.dispatch.tasks.*": {"queue": "dispatch"},
    "apps.log.tasks.*": {"queue": "log"},
    "apps.notify.tasks.*": {"queue": "notify"},
}
# A running job's lease: its agent's heartbeats extend it; when it expires the job is "agent lost".
DEVOPS_LEASE_SECONDS = int(os.environ.get("DEVOPS_LEASE_SECONDS", "30"))
# A job no agent claims within this time fails with the reason.
DEVOPS_QUEUE_TIMEOUT_SECONDS = int(os.environ.get("DEVOPS_QUEUE_TIMEOUT_SECONDS", str(60 * 60)))
DEVOPS_SWEEP_SECONDS = float(os.environ.get("DEVOPS_SWEEP_SECONDS", "5"))
# Build logs (docs/logs.md): lines kept per job attempt (first and last halves), archiving of finished
# builds' logs after N days (0: never) and their deletion after N days (0: keep forever).
DEVOPS_LOG_LINE_BUDGET = int(os.environ.get("DEVOPS_LOG_LINE_BUDGET", "1000000"))
DEVOPS_LOG_ARCHIVE_AFTER_DAYS = int(os.environ.get("DEVOPS_LOG_ARCHIVE_AFTER_DAYS", "7"))
DEVOPS_LOG_RETENTION_DAYS = int(os.environ.get("DEVOPS_LOG_RETENTION_DAYS", "0"))
DEVOPS_LOG_MAINTAIN_SECONDS = float(os.environ.get("DEVOPS_LOG_MAINTAIN_SECONDS", "3600"))
DEVOPS_LOG_INDEX_SECONDS = float(os.environ.get("DEVOPS_LOG_INDEX_SECONDS", "10"))
# Notifications (apps.notify, docs/notifications.md): links in messages start with DEVOPS_BASE_URL; a
# failed delivery is tried again after DEVOPS_NOTIFY_RETRY_SECONDS, doubling each time, up to
# DEVOPS_NOTIFY_MAX_ATTEMPTS attempts; a periodic sweep sends what a lost message left pending.
DEVOPS_BASE_URL = os.environ.get("DEVOPS_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
DEVOPS_NOTIFY_MAX_ATTEMPTS = int(os.environ.get("DEVOPS_NOTIFY_MAX_ATTEMPTS", "5"))
DEVOPS_NOTIFY_RETRY_SECONDS = float(os.environ.get("DEVOPS_NOTIFY_RETRY_SECONDS", "30"))
DEVOPS_NOTIFY_SWEEP_SECONDS = float(os.environ.get("DEVOPS_NOTIFY_SWEEP_SECONDS", "30"))
# Email through SMTP when EMAIL_HOST is set, else printed on the console.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND", f"django.core.mail.backends.{'smtp' if EMAIL_HOST else 'console'}.EmailBackend"
)
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "10"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "DevOps CI <devops@localhost>")
CELERY_BEAT_SCHEDULE = {
    "jobs-sweep": {"task": "apps.dispatch.tasks.jobs_sweep", "schedule": DEVOPS_SWEEP_SECONDS},
    "agents-offline": {"task": "environment.agent_mark_offline", "schedule": DEVOPS_SWEEP_SECONDS},
    "schedules-run-due": {"task": "apps.process.tasks.schedules_run_due", "schedule": 15.0},
    "logs-maintain": {"task": "apps.log.tasks.logs_maintain", "schedule": DEVOPS_LOG_MAINTAIN_SECONDS},
    "logs-index": {"task": "apps.log.tasks.logs_index", "schedule": DEVOPS_LOG_INDEX_SECONDS},
    "notify-deliveries-retry": {
        "task": "apps.notify.tasks.deliveries_retry_due",
        "schedule": DEVOPS_NOTIFY_SWEEP_SECONDS,
    },
}

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            # Pub/sub: at most once, as live updates are (the database is the record). Each server
            # process holds one subscription and reads a group message once, however many of its
            # sockets follow the group; the list-based layer made three round trips per message
            # per socket, which kept sockets a second behind under load (bench/live.py).
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            # redis-py 8's default socket timeout (5 s) closed connections quiet for longer.
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 15}]},
        }
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"celery": {"level": os.environ.get("CELERY_LOG_LEVEL", "WARNING")}},
}
