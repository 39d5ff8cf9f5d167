"""Settings for the whole platform.

Every knob comes from the environment. With nothing set, the project runs the embedded default
(SQLite, local-memory cache, in-memory channel layer, Celery tasks in-process). Setting
``DATABASE_URL`` and ``REDIS_URL`` switches the same code to the full stack.
"""

import socket
from datetime import timedelta
from pathlib import Path

import environ
from corsheaders.defaults import default_headers

from config.keys import key_from_file, random_fernet_key

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

# Runtime files: the embedded SQLite database, media and collected static files.
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))

# Three modes, one variable (README "Configuration"):
# - unset: a local server (`make run`): no debug pages, keys generated into VAR_DIR/keys on first start;
# - DJANGO_DEBUG=1: development mode, Django's debug pages on (never for a server others can reach);
# - DJANGO_DEBUG=0: production: every key from the environment, HTTPS, HSTS, secure cookies.
# ENVIRONMENT=production|development says the same explicitly.
DEBUG = env.bool("DJANGO_DEBUG", default=False)
_DEBUG_SET_OFF = env.str("DJANGO_DEBUG", default="").strip().lower() in {"0", "false", "no", "off"}
ENVIRONMENT = env.str("ENVIRONMENT", default="production" if _DEBUG_SET_OFF else "development")
PRODUCTION = ENVIRONMENT == "production"
if PRODUCTION and DEBUG:
    raise environ.ImproperlyConfigured("DJANGO_DEBUG=1 is for development; production never shows debug pages")
KEYS_DIR = VAR_DIR / "keys"

# Production refuses to start without a real key; elsewhere each server generates its own.
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY and not PRODUCTION:
    SECRET_KEY = key_from_file(KEYS_DIR, "secret_key")
if not SECRET_KEY:
    raise environ.ImproperlyConfigured("SECRET_KEY must be set in production (DJANGO_DEBUG=0)")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "channels",
    "axes",
    "core",
    "accounts",
    "telemetry",
    "coder",
    "marketplace",
    "analytics",
    "cerebro",
    "ledger",
]

MIDDLEWARE = [
    "core.middleware.RequestIdMiddleware",
    # Under ASGI, files and other synchronous streams are sent part by part (core/middleware.py).
    "core.middleware.AsyncStreamingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # WhiteNoise's static files, async-capable (core/middleware.py).
    "core.middleware.StaticFilesMiddleware",
    "core.middleware.BodySizeLimitMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.middleware.ApiErrorMiddleware",
    # Last, as django-axes asks: turns a locked-out admin log-in into its lockout answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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

# --- Database ---------------------------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# A pool of at most DATABASE_POOL_MAX_SIZE connections per process (Django's pool for psycopg 3), for
# the ASGI servers: Django runs each sync view of an ASGI request on a thread of its own, so a
# persistent connection (kept per thread) would exhaust PostgreSQL and none at all costs a connect
# per request. gunicorn's sync workers (one request at a time) keep one persistent connection.
DATABASE_POOL_MAX_SIZE = env.int("DATABASE_POOL_MAX_SIZE", default=0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = 5
    # The fixed statements of the hot paths (core.db.prepared_cursor: the session check, cerebro's
    # search and working set, the ledger append) are prepared on their first execution on a
    # connection, so PostgreSQL plans each once per connection. Django's own queries bind on the
    # client and are never prepared. Off behind a pooler that cannot keep prepared statements
    # (PgBouncer in transaction mode before 1.21, or without max_prepared_statements).
    DATABASE_PREPARED_STATEMENTS = env.bool("DATABASE_PREPARED_STATEMENTS", default=True)
    DATABASES["default"]["OPTIONS"]["prepare_threshold"] = 0 if DATABASE_PREPARED_STATEMENTS else None
    if DATABASE_POOL_MAX_SIZE > 0:
        DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps the connections; Django returns them
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
        DATABASES["default"]["OPTIONS"]["pool"] = {
            "min_size": DATABASE_POOL_MAX_SIZE,
            "max_size": DATABASE_POOL_MAX_SIZE,
            "timeout": env.float("DATABASE_POOL_TIMEOUT", default=10.0),
        }
else:
    # WAL lets the embedded server read while a job (on a thread of its own) writes; the timeout
    # waits out short locks. Transactions take the write lock when they begin (IMMEDIATE): one that
    # read first and then wrote while a job wrote would fail at once ("database is locked").
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
USING_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
# cerebro's working-set indexes INCLUDE extra columns so PostgreSQL answers them with index-only
# scans; SQLite builds the same indexes on their key columns alone, which is all it needs there.
SILENCED_SYSTEM_CHECKS = [] if USING_POSTGRES else ["models.W040"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# django-axes first: it refuses a locked-out log-in before any password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Cache, channel layer, Celery -----------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")

# Connection options of every redis.asyncio client (the channel layer, cerebro's resumable chat
# streams): no socket timeout. With one, redis-py (8.x) sends each command through
# asyncio.wait_for, which on Python 3.11 swallows a cancellation that lands as the send
# completes: a closed WebSocket's consumer then keeps receiving for ever, holding the layer's
# receive lock, and later receives of that process (other sockets, /health) can wait for good.
# Blocking reads end on their own (BZPOPMIN 5 s, XREAD's block); a peer that vanished is found
# by TCP keepalive instead (tests/integration/test_channel_layer.py).
REDIS_ASYNCIO_OPTIONS = {
    "socket_timeout": None,
    "socket_connect_timeout": 5,
    "socket_keepalive": True,
    "socket_keepalive_options": {
        getattr(socket, name): value
        for name, value in (("TCP_KEEPIDLE", 30), ("TCP_KEEPINTVL", 10), ("TCP_KEEPCNT", 3))
        if hasattr(socket, name)  # Linux names; macOS has no TCP_KEEPIDLE
    },
}

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": 2,
                "SOCKET_TIMEOUT": 2,
                # A Redis outage degrades the cache to misses (logged) instead of failing requests;
                # the rate limiter fails open on its own (core/ratelimit.py). docs/quality.md.
                "IGNORE_EXCEPTIONS": True,
            },
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="platform"),
        }
    }
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, **REDIS_ASYNCIO_OPTIONS}],
                "prefix": env.str("CHANNEL_LAYER_PREFIX", default="asgi"),
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# Without REDIS_URL: kombu's in-memory transport, named in full. Celery opens a (local, in-memory)
# connection even to run a task in-process, and a URL without a host made kombu warn "No hostname
# was supplied" on the first job of every process.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://localhost//")
CELERY_RESULT_BACKEND = None
# Without a broker the embedded default runs every task in the calling process.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = env.bool("CELERY_TASK_EAGER_PROPAGATES", default=False)
# How the embedded default runs a job: "thread", on one of JOBS_IN_PROCESS_THREADS threads of its
# own, after the request that asked for it has been answered; "inline", in the calling thread (the
# unit tests, which read a job's effects right after the request).
JOBS_IN_PROCESS = env.str("JOBS_IN_PROCESS", default="thread")
JOBS_IN_PROCESS_THREADS = env.int("JOBS_IN_PROCESS_THREADS", default=2)
if JOBS_IN_PROCESS not in ("thread", "inline"):
    raise environ.ImproperlyConfigured("JOBS_IN_PROCESS must be 'thread' or 'inline'")
# The queue every task goes to unless routed elsewhere (CODER_TASK_QUEUE routes coder's runs).
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
# RabbitMQ hands a worker's unacknowledged messages to another worker the moment its connection
# drops, so a worker that lost its connection stops its running tasks rather than run them twice.
# On Redis nothing is handed out again before the visibility timeout: running tasks carry on.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = CELERY_BROKER_URL.startswith(("amqp", "pyamqp"))

# Jobs (core/jobs.py, docs/conventions.md "Jobs"): a running job's heartbeat is beaten every
# JOBS_HEARTBEAT_SECONDS; the watchdog (beat, every JOBS_WATCHDOG_SECONDS) sends again a job whose
# heartbeat is JOBS_HEARTBEAT_STALE_SECONDS old (its worker died) or that waited
# JOBS_QUEUED_RESEND_SECONDS for a worker (its send failed). Runs keep temporary files in JOBS_TEMP_DIR.
JOBS_HEARTBEAT_SECONDS = env.float("JOBS_HEARTBEAT_SECONDS", default=10.0)
JOBS_HEARTBEAT_STALE_SECONDS = env.float("JOBS_HEARTBEAT_STALE_SECONDS", default=60.0)
JOBS_QUEUED_RESEND_SECONDS = env.float("JOBS_QUEUED_RESEND_SECONDS", default=300.0)
JOBS_WATCHDOG_SECONDS = env.float("JOBS_WATCHDOG_SECONDS", default=30.0)
JOBS_TEMP_DIR = env.path("JOBS_TEMP_DIR", default=str(VAR_DIR / "tmp" / "jobs"))
if JOBS_HEARTBEAT_STALE_SECONDS < 3 * JOBS_HEARTBEAT_SECONDS:
    raise environ.ImproperlyConfigured("JOBS_HEARTBEAT_STALE_SECONDS must be at least 3 x JOBS_HEARTBEAT_SECONDS")

# Periodic jobs; every task name is <app>.<entity>_<action>_task (core.jobs.job_task).
CELERY_BEAT_SCHEDULE: dict = {}
# every app: send again jobs whose send failed or whose worker died; remove dead runs' files.
CELERY_BEAT_SCHEDULE["core-jobs-watchdog"] = {
    "task": "core.jobs_watchdog_sweep_task",
    "schedule": JOBS_WATCHDOG_SECONDS,
}
# marketplace: trending scores, used SIWE nonces, overdue purchase checks, webhook and pin tries.
CELERY_BEAT_SCHEDULE["marketplace-upkeep"] = {
    "task": "marketplace.marketplace_upkeep_task",
    "schedule": env.int("MARKETPLACE_UPKEEP_SECONDS", default=900),
}
# telemetry: publish pairs changed since the last rebuild (uploads also ask for one, coalesced).
CELERY_BEAT_SCHEDULE["telemetry-pattern-set-rebuild"] = {
    "task": "telemetry.pattern_set_rebuild_task",
    "schedule": env.int("TELEMETRY_REBUILD_SECONDS", default=300),
}
# analytics: delete raw records older than ANALYTICS_RETENTION_DAYS (default 365), once a day.
CELERY_BEAT_SCHEDULE["analytics-retention-purge"] = {
    "task": "analytics.retention_purge_task",
    "schedule": env.int("ANALYTICS_RETENTION_PURGE_SECONDS", default=86400),
}
# cerebro: delete expired memories (they are never returned meanwhile), every five minutes.
CELERY_BEAT_SCHEDULE["cerebro-memory-purge-expired"] = {
    "task": "cerebro.memory_purge_expired_task",
    "schedule": env.int("CEREBRO_PURGE_SECONDS", default=300),
}
# coder: fail and refund tasks stuck pending or running longer than CODER_STALE_TASK_SECONDS.
CELERY_BEAT_SCHEDULE["coder-fail-stale-tasks"] = {
    "task": "coder.tasks_fail_stale_task",
    "schedule": env.int("CODER_STALE_SWEEP_SECONDS", default=600),
}

# --- REST framework and OpenAPI ---------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["core.renderers.FastJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.JsonParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "core.openapi.PlatformAutoSchema",
    "EXCEPTION_HANDLER": "core.exceptions.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_THROTTLE_CLASSES": [],
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Platform APIs",
    "DESCRIPTION": "Every product API of the platform in one document.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/(telemetry|coder|marketplace/v1|analytics/api/v1|cerebro)/",
    "SCHEMA_PATH_PREFIX_TRIM": False,
    "ENUM_NAME_OVERRIDES": {},
    # bearerAuth says how to get a token of each API in the document (core/openapi.py).
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "core.openapi.describe_bearer_sign_in"],
}
# marketplace: its enums share field names (visibility, status) with other APIs' enums.
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].update(
    {
        "MarketplaceDatasetVisibilityEnum": "marketplace.models.Dataset.Visibility",
        "MarketplaceListVisibilityEnum": ["public", "private", "all"],
        "MarketplaceDatasetStatusEnum": "marketplace.models.Dataset.Status",
        "MarketplaceModelStatusEnum": "marketplace.models.TrainedModel.Status",
        "MarketplacePurchaseStatusEnum": "marketplace.models.Purchase.Status",
        # cerebro's chat visibility, named so it no longer collides with the marketplace's.
        "ChatVisibilityEnum": "cerebro.models.Chat.Visibility",
    }
)

# --- Authentication ---------------------------------------------------------------------------------
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=30)),
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY", default=SECRET_KEY),
    "ISSUER": env.str("JWT_ISSUER", default="platform"),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "sub",
    "AUTH_HEADER_TYPES": ("Bearer",),
    "LEEWAY": 5,
}

# Identity providers (accounts/identity/, docs/security.md).
# Clerk (coder): tokens verified by this PEM key or the JWKS, and always for their issuer (`iss`) and
# authorized party (`azp`). Production refuses to start with a Clerk key but without both (check --deploy).
CLERK_JWT_PUBLIC_KEY = env.str("CLERK_JWT_PUBLIC_KEY", default="", multiline=True)
CLERK_JWKS_URL = env.str("CLERK_JWKS_URL", default="")
CLERK_ISSUER = env.str("CLERK_ISSUER", default="")
CLERK_AUTHORIZED_PARTIES = env.list(
    "CLERK_AUTHORIZED_PARTIES", default=env.list("CODER_CLERK_AUTHORIZED_PARTIES", default=[])
)
CLERK_JWKS_CACHE_SECONDS = env.int(
    "CLERK_JWKS_CACHE_SECONDS", default=env.int("CODER_CLERK_JWKS_CACHE_SECONDS", default=3600)
)
CLERK_LEEWAY_SECONDS = env.int("CLERK_LEEWAY_SECONDS", default=env.int("CODER_CLERK_LEEWAY_SECONDS", default=5))
# Outside production, without a Clerk key, tokens of this server's own development key are trusted
# (`manage.py coder_dev_clerk_token` generates it here, mode 0600, and mints with it).
CLERK_DEV_KEY_PATH = Path(
    env.str(
        "CLERK_DEV_KEY_PATH", default=env.str("CODER_DEV_CLERK_KEY_PATH", default=str(KEYS_DIR / "clerk-dev-key.pem"))
    )
)
# NextAuth v4 / Auth.js v5 (cerebro): the app's secret (Auth.js names it AUTH_SECRET). Its sessions'
# addresses count as verified only when the session says so, or when this says the app signs in
# verified addresses only.
NEXTAUTH_SECRET = env.str("NEXTAUTH_SECRET", default=env.str("AUTH_SECRET", default=""))
NEXTAUTH_EMAILS_VERIFIED = env.bool("NEXTAUTH_EMAILS_VERIFIED", default=False)
# Sign-In with Ethereum (marketplace): accepted domains (host, or host:port) and chain ids (EIP-155).
SIWE_DOMAIN = env.list("SIWE_DOMAIN", default=["localhost"])
SIWE_CHAIN_IDS = [int(chain) for chain in env.list("SIWE_CHAIN_IDS", default=["1", "11155111", "31337"])]
# Links that confirm an address typed into a profile (accounts.services.user_email_change).
EMAIL_CONFIRMATION_SECONDS = env.int("EMAIL_CONFIRMATION_SECONDS", default=2 * 86400)

# Admin log-in throttling (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one account, or
# from one client, further attempts of that account or client are refused for AXES_COOLOFF_MINUTES.
# Counters live in the cache (local memory on the embedded default, Redis on the full stack) and are
# keyed by the client's keyed hash (core.ratelimit), so no client address is stored or logged.
AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "core.ratelimit.anonymous_identity"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_TEMPLATE = "admin/lockout.html"
# axes.W001 warns that a local-memory cache counts per process. Without REDIS_URL the platform is one
# process (the embedded default), where it counts exactly, as the rate limiter's counters do.
SILENCED_SYSTEM_CHECKS += [] if REDIS_URL else ["axes.W001"]
GITHUB_CLIENT_ID = env.str("GITHUB_CLIENT_ID", default="")
GITHUB_CLIENT_SECRET = env.str("GITHUB_CLIENT_SECRET", default="")
GITHUB_API_URL = env.str("GITHUB_API_URL", default="https://api.github.com")
GITHUB_OAUTH_URL = env.str("GITHUB_OAUTH_URL", default="https://github.com/login/oauth/access_token")
GITHUB_WEBHOOK_SECRET = env.str("GITHUB_WEBHOOK_SECRET", default="")
ETH_RPC_URL = env.str("ETH_RPC_URL", default="")
# Comma-separated Fernet keys (the first encrypts, all decrypt). Production must set it (check --deploy);
# elsewhere a server generates its own into VAR_DIR/keys.
FIELD_ENCRYPTION_KEY = env.str("FIELD_ENCRYPTION_KEY", default="")
if not FIELD_ENCRYPTION_KEY and not PRODUCTION:
    FIELD_ENCRYPTION_KEY = key_from_file(KEYS_DIR, "field_encryption_key", random_fernet_key)

# --- Language models ----------------------------------------------------------------------------------
LLM_BASE_URL = env.str("LLM_BASE_URL", default="")
LLM_API_KEY = env.str("LLM_API_KEY", default="")
LLM_DEFAULT_MODEL = env.str("LLM_DEFAULT_MODEL", default="gpt-4o-mini")
LLM_TIMEOUT_SECONDS = env.float("LLM_TIMEOUT_SECONDS", default=60.0)
LLM_MAX_RETRIES = env.int("LLM_MAX_RETRIES", default=2)

# --- Rate limits and request bodies --------------------------------------------------------------------
# One table for every limit: scope -> (requests, window in seconds). RATE_LIMIT_MULTIPLIER scales
# every limit at once (load tests, local development).
# Set when the app runs behind the shipped reverse proxy, which appends the client address.
TRUST_X_FORWARDED_FOR = env.bool("TRUST_X_FORWARDED_FOR", default=False)
RATE_LIMIT_MULTIPLIER = env.float("RATE_LIMIT_MULTIPLIER", default=1.0)
RATE_LIMITS = {
    "telemetry.requests": (100, 60),
    "telemetry.daily_free": (100, 86400),
    "telemetry.keys": (10, 3600),
    "telemetry.patterns_daily_free": (1000, 86400),  # patterns downloaded, not requests
    "coder.general": (100, 900),
    "coder.auth": (5, 900),
    "coder.task_create": (10, 3600),
    "coder.webhooks": (1000, 3600),
    "marketplace.auth": (10, 60),
    "marketplace.datasets": (100, 3600),
    "marketplace.uploads": (10, 3600),
    "analytics.ingest": (600, 60),
    "analytics.subject": (20, 3600),
    "cerebro.auth": (5, 60),
    "cerebro.chat": (30, 60),
    "cerebro.general": (100, 60),
    "cerebro.expensive": (20, 60),
}

MEGABYTE = 1024 * 1024
# Longest matching path prefix wins; checked against Content-Length before the body is read.
# A file upload's body is the file and its multipart envelope (boundaries, part headers, the other
# fields): a file of exactly the 50 MB the specs allow must fit, and the app refuses a larger file
# itself, in its own words.
MULTIPART_ALLOWANCE = 64 * 1024
REQUEST_BODY_LIMITS = {
    "": 2 * MEGABYTE,
    "/telemetry/": 10 * MEGABYTE,
    "/analytics/": 1 * MEGABYTE,
    "/cerebro/api/files/upload": 50 * MEGABYTE + MULTIPART_ALLOWANCE,
    "/marketplace/v1/storage/upload": 50 * MEGABYTE + MULTIPART_ALLOWANCE,
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * MEGABYTE
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * MEGABYTE
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000

# --- Static and media files ---------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=str(VAR_DIR / "static"))
Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))
MEDIA_URL = "media/"
# Celery beat's record of when each periodic job last ran: runtime state, so under VAR_DIR too.
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Outside production nothing runs collectstatic first, so the admin's and Swagger UI's files are found in place.
WHITENOISE_USE_FINDERS = not PRODUCTION

# --- Internationalisation ---------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- CORS and security headers ---------------------------------------------------------------------------------
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_ALLOW_CREDENTIALS = True
# X-User-Id: the NextGen client's anonymous id, sent with every telemetry request.
CORS_ALLOW_HEADERS = (*default_headers, "x-user-id")
CORS_EXPOSE_HEADERS = [
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "Retry-After",
    "X-Request-Id",
    "ETag",
]

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    if not SECURE_SSL_REDIRECT:
        # Plain HTTP chosen on purpose (a local production-mode run, or TLS ended by a balancer that
        # redirects by itself): `check --deploy` need not warn about it (security.W008).
        SILENCED_SYSTEM_CHECKS = ["security.W008"]
    SECURE_REDIRECT_EXEMPT = [r"^health$", r"^.+/health$"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# --- E-mail: telemetry e-mails the code that confirms a new API key, analytics its alerts (docs/admin.md) ----
# EMAIL_URL as django-environ reads it (smtp+tls://user:password@host:587); by default messages are
# printed on the console instead of sent.
globals().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="NextGen Cloud <no-reply@localhost>")
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)

# --- Logging: one JSON object per line, with the request id, never secrets or client addresses ----------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_context": {"()": "core.logging.RequestContextFilter"}},
    "formatters": {
        "json": {"()": "core.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_context"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's request logger prints the client address on errors; ours logs requests instead.
        "django.request": {"handlers": [], "level": "ERROR", "propagate": False},
        "django.server": {"handlers": [], "propagate": False},
        # A request naming a host not in ALLOWED_HOSTS is a 400 on the access line; anyone can send
        # one, so Django's ERROR record with its stack trace would let them flood the error level.
        "django.security.DisallowedHost": {"handlers": [], "propagate": False},
        "django.db.backends": {"level": "WARNING"},
        "uvicorn.access": {"handlers": [], "propagate": False},
    },
}

APP_VERSION = "1.0.0"
CSRF_FAILURE_VIEW = "core.views_errors.csrf_failure"
