"""Settings for Annotator, read from the environment.

Two modes share this one file; only the environment differs (see README):
- embedded default: SQLite under var/, in-memory channel layer, a Celery worker
  inside the web process on kombu's in-memory transport;
- scale-out: DATABASE_URL (PostgreSQL) and REDIS_URL (channel layer, broker, cache),
  with workers started separately by `make worker`.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name: str, default: str) -> list[str]:
    return [part.strip() for part in env_str(name, default).split(",") if part.strip()]


VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept in var/.

    Keeping it on disk means sessions and API keys survive restarts of the
    embedded default without anyone having to invent a key.
    """
    if value := env_str("SECRET_KEY"):
        return value
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(64))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
# PRODUCTION=1: served over HTTPS behind a proxy, so cookies are secure-only, plain HTTP is
# redirected and HSTS is on (`manage.py check --deploy` is clean; a test keeps it so). Each
# setting below can still be set on its own. Off by default: `make run` serves plain HTTP.
PRODUCTION = env_bool("PRODUCTION", False)
DEBUG = env_bool("DEBUG", False) and not PRODUCTION
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "channels",
    "annotator.core",
    "annotator.accounts",
    "annotator.ontologies",
    "annotator.datasets",
    "annotator.annotations",
    "annotator.tasks",
    "annotator.exchange",
]

MIDDLEWARE = [
    "annotator.core.pages.NulCharacterMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "annotator.core.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "annotator.accounts.visibility.UrlEntitiesVisibleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "annotator.core.events.SocketOriginMiddleware",
    "annotator.core.pages.ServiceErrorPageMiddleware",
]

ROOT_URLCONF = "annotator.urls"
ASGI_APPLICATION = "annotator.asgi.application"

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

# --- database -------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
    # No JIT: our queries are short, and PostgreSQL compiled one whenever its estimates ran
    # high (right after a bulk import), spending 60 ms on a query that runs in 4.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
    # Parameters bound by the server, so a query's text repeats and psycopg prepares it after
    # its fifth run on a connection: planning was most of a short query's time (the item
    # lookup with its dataset, project and people: ~1.5-2 ms to plan, 0.1 ms to run).
    # Django turns preparing off by default for the sake of external poolers (PgBouncer in
    # transaction mode); our pool is in process, so a connection keeps its prepared statements.
    if env_bool("DATABASE_PREPARED_STATEMENTS", True):
        DATABASES["default"]["OPTIONS"]["server_side_binding"] = True
        DATABASES["default"]["OPTIONS"]["prepare_threshold"] = 5
    # Without a pool each request connects to PostgreSQL anew (a pull took 34 ms instead of
    # 22 under Django's ASGI handler, which ran every request on a new thread), and a burst
    # of requests can exhaust max_connections. On by default.
    if env_bool("DATABASE_POOL", True):
        DATABASES["default"]["OPTIONS"]["pool"] = {
            "min_size": 2,
            "max_size": env_int("DATABASE_POOL_SIZE", 20),
            # How long a request waits for a connection; while the database is unreachable
            # each request waits this long before its 503.
            "timeout": env_int("DATABASE_POOL_TIMEOUT", 10),
        }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            "OPTIONS": {
                # WAL lets readers run beside the one writer; IMMEDIATE takes the write
                # lock when a transaction starts, so concurrent writers queue on the busy
                # timeout instead of failing when a read lock cannot be upgraded.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
            },
            # A file, not :memory:, so that the live server, the embedded worker and
            # the test thread all see one database during tests; one per test run.
            "TEST": {"NAME": str(VAR_DIR / f"test-db-{os.getpid()}.sqlite3")},
            "CONN_MAX_AGE": 600,
            "CONN_HEALTH_CHECKS": True,
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# HTTP requests run on this many reused threads per server process (core/sync_http.py); a
# download holds one while it is written out. Fewer than the connection pool's size, so the
# worker and the event sender always find a connection.
HTTP_THREADS = env_int("HTTP_THREADS", 16)

# --- redis: channel layer, broker, cache ------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "annotator.core.channel_layer.RedisChannelLayer",
            # No read timeout: channels-redis waits on an idle socket for 5 s at a time, which is
            # exactly redis-py's default socket timeout, so idle sockets' handlers died with it.
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "socket_timeout": None}],
                "prefix": env_str("CHANNELS_PREFIX", "annotator"),
            },
        }
    }
    # Tolerant: while Redis is down the cache misses instead of failing requests (core/cache.py);
    # a short connect timeout keeps a request from hanging on an unreachable host.
    CACHES = {
        "default": {
            "BACKEND": "annotator.core.cache.TolerantRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 5},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "annotator.core.channel_layer.ThreadSafeInMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- celery -----------------------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_BROKER_TRANSPORT_OPTIONS = {} if REDIS_URL else {"polling_interval": 0.05}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# The embedded default runs its worker inside the web process; scale-out runs `make worker`.
CELERY_WORKER_EMBEDDED = env_bool("CELERY_WORKER_EMBEDDED", not REDIS_URL)
CELERY_EMBEDDED_CONCURRENCY = env_int("CELERY_EMBEDDED_CONCURRENCY", 2)
# Jobs `manage.py serve` sends when it starts.
STARTUP_JOBS = ["datasets.thumbnails_backfill"]

# --- auth -------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "project-list"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# JWTs: API keys are long-lived and revocable; login tokens are short id tokens plus a
# refresh token, as the dtlpy SDK expects from POST /token.
JWT_SIGNING_KEY = env_str("JWT_SIGNING_KEY") or SECRET_KEY
JWT_ID_TOKEN_LIFETIME = timedelta(seconds=env_int("JWT_ID_TOKEN_SECONDS", 3600))
JWT_REFRESH_TOKEN_LIFETIME = timedelta(seconds=env_int("JWT_REFRESH_TOKEN_SECONDS", 30 * 24 * 3600))
API_KEY_DEFAULT_DAYS = env_int("API_KEY_DEFAULT_DAYS", 365)

# Failed logins per (email, client address) before further attempts get 429.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_FAILURE_WINDOW_SECONDS = env_int("LOGIN_FAILURE_WINDOW_SECONDS", 900)
# API requests per signed-in user, and per client address for anonymous calls, as
# '<count>/<s|min|hour>' or 'off'. Above it: 429 with Retry-After. The signed-in rate leaves room
# for the SDK's parallel uploads; it is there to stop a runaway script, not a busy team.
API_RATE_LIMIT = env_str("API_RATE_LIMIT", "6000/min")
API_ANON_RATE_LIMIT = env_str("API_ANON_RATE_LIMIT", "120/min")

# --- REST framework -----------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "annotator.accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "annotator.accounts.visibility.UrlEntitiesVisible",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["annotator.accounts.throttling.ApiRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["annotator.core.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "annotator.core.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "annotator.core.exception_handler.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Annotator API",
    "DESCRIPTION": "Dataloop-compatible annotation platform API.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "annotator.core.openapi.add_error_responses",
    ],
}

# --- i18n, static, media --------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "collected-static"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns about a missing root even when it uses finders
# Served straight from static/ (the Vite build lands in static/dist/ with hashed names),
# so no collectstatic step is needed in either mode.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
VITE_MANIFEST = BASE_DIR / "static" / "dist" / ".vite" / "manifest.json"

MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"

# --- security -------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
# No inline scripts or styles anywhere (the studio included); `data:` and `blob:` images are the
# studio's masks and pasted shapes; websockets go back to the same host.
CONTENT_SECURITY_POLICY = env_str(
    "CONTENT_SECURITY_POLICY",
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self' ws: wss:; font-src 'self'; worker-src 'self' blob:; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
)
# What user content (item bytes, exports) is served with: nothing in it may run, even if a
# browser is talked into rendering it.
USER_CONTENT_SECURITY_POLICY = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", PRODUCTION)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", PRODUCTION)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", PRODUCTION)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", PRODUCTION)
# The preload flag alone adds nothing: a domain joins browsers' lists only when submitted.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", PRODUCTION)
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"celery": {"level": env_str("CELERY_LOG_LEVEL", "WARNING")}},
}
API_BASE_PATH = "/api/v1"

# Commands: a worker that has not reported for this long is taken for dead.
COMMAND_LEASE_SECONDS = env_int("COMMAND_LEASE_SECONDS", 120)
COMMAND_MAX_ATTEMPTS = env_int("COMMAND_MAX_ATTEMPTS", 2)

# --- uploads and images -------------------------------------------------------------------
# Bigger uploads get 413; Pillow refuses images above IMAGE_MAX_PIXELS (decompression bombs).
ITEM_MAX_UPLOAD_BYTES = env_int("ITEM_MAX_UPLOAD_BYTES", 200 * 1024 * 1024)
IMAGE_MAX_PIXELS = env_int("IMAGE_MAX_PIXELS", 100_000_000)
THUMBNAIL_SIZE = env_int("THUMBNAIL_SIZE", 256)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 20 * 1024 * 1024)
INSTRUCTIONS_MAX_BYTES = env_int("INSTRUCTIONS_MAX_BYTES", 50 * 1024 * 1024)
MANIFEST_MAX_BYTES = env_int("MANIFEST_MAX_BYTES", 2 * 1024 * 1024 * 1024)
ARCHIVE_MAX_BYTES = env_int("ARCHIVE_MAX_BYTES", 5 * 1024 * 1024 * 1024)
ARCHIVE_MAX_ENTRIES = env_int("ARCHIVE_MAX_ENTRIES", 100_000)
ARCHIVE_MAX_UNCOMPRESSED_BYTES = env_int("ARCHIVE_MAX_UNCOMPRESSED_BYTES", 20 * 1024 * 1024 * 1024)
# Images barely compress; an entry that expands more than this is treated as a bomb.
ARCHIVE_MAX_RATIO = env_int("ARCHIVE_MAX_RATIO", 200)

# --- annotations ---------------------------------------------------------------------------
# Per annotation and per request; bigger bodies are refused with 400 before anything is written.
ANNOTATION_MAX_POINTS = env_int("ANNOTATION_MAX_POINTS", 100_000)
ANNOTATION_MAX_RINGS = env_int("ANNOTATION_MAX_RINGS", 1_000)
ANNOTATION_MASK_MAX_CHARS = env_int("ANNOTATION_MASK_MAX_CHARS", 16 * 1024 * 1024)
ANNOTATIONS_PER_REQUEST = env_int("ANNOTATIONS_PER_REQUEST", 10_000)
NOTE_MESSAGE_MAX = env_int("NOTE_MESSAGE_MAX", 10_000)

# --- tasks ---------------------------------------------------------------------------------------
# A pulled item nobody has touched for this long goes back to the task's queue.
TASK_LEASE_SECONDS = env_int("TASK_LEASE_SECONDS", 30 * 60)
