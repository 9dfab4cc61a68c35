"""MissionOS settings, read from the environment.

Zero-setup mode (no variables set): SQLite file, DEBUG on, no Redis. Production sets
DATABASE_URL (Postgres), REDIS_URL, SECRET_KEY, DEBUG=0 and ALLOWED_HOSTS.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)

# A fixed development key keeps `make run` zero-setup; production must bring its own.
_DEV_SECRET_KEY = "django-insecure-missionos-local-development-only"
SECRET_KEY = os.environ.get("SECRET_KEY", _DEV_SECRET_KEY if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",  # pg_trgm lookups for the search (okrs.selectors.search)
    "django_htmx",
    "template_partials",
    "django_celery_beat",
    "csp",
    "axes",
    "orgs",
    "okrs",
    "sync",
    "health",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Permissions-Policy everywhere, private/no-store on personal responses; then the CSP
    # (missionos/headers.py: the event stream asks these classes for the same headers)
    "missionos.headers.SecurityHeadersMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "orgs.middleware.OrganizationMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks: turns a lockout into its page
]

# --- Response headers (missionos/headers.py) -------------------------------------------------
# No inline script, no inline event handler, no outside origin. Inline style attributes only
# (style-src-attr), for the widths the server computes (progress bars, chart margins); htmx's
# own injected indicator style is off (templates/base.html) and lives in app.css instead.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'none'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "manifest-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
)
X_FRAME_OPTIONS = "DENY"

# --- Login throttling (django-axes; orgs/throttle.py) ----------------------------------------
# Per address first: 5 failed sign-ins from one address lock that address; 20 failures for one
# account, from anywhere, lock the account. Either lock lifts by itself after the cool-off (and
# a failure while locked is not counted, so the lock does not grow); a successful sign-in resets
# the count. Magic links and codes are single-use and rate-limited by Supabase itself.
LOGIN_FAILURES_PER_ADDRESS = 5
LOGIN_FAILURES_PER_ACCOUNT = 20
AXES_FAILURE_LIMIT = LOGIN_FAILURES_PER_ADDRESS
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # axes' default would let guessing extend it
# masked in what axes keeps and logs
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "password", "csrfmiddlewaretoken"]
AXES_DISABLE_ACCESS_LOG = True  # failures are what is counted; successes are not kept
AXES_HANDLER = "orgs.throttle.AddressFirstHandler"
AXES_LOCKOUT_CALLABLE = "orgs.throttle.locked_out"
AXES_CLIENT_IP_CALLABLE = "orgs.throttle.client_address"
AXES_USERNAME_CALLABLE = "orgs.throttle.account_name"
AXES_VERBOSE = False
# Behind a proxy that appends the client's address to X-Forwarded-For, how many such proxies:
# the address counted is the one the outermost trusted proxy saw. 0: REMOTE_ADDR.
TRUSTED_PROXY_HOPS = int(os.environ.get("TRUSTED_PROXY_HOPS", "0"))

# ModelBackend that loads the user's memberships with the user: one query per page for both.
AUTHENTICATION_BACKENDS = ["orgs.throttle.ThrottleBackend", "orgs.auth.MembershipsBackend"]

# --- Supabase Auth (orgs/supabase/) ---------------------------------------------------------
# With SUPABASE_URL and SUPABASE_ANON_KEY set, the login page signs in through Supabase Auth and
# passwords are checked there, not locally; SUPABASE_JWT_SECRET only for projects still on the
# legacy shared HS256 secret (asymmetric keys come from the project's JWKS). Unset: Django's
# own accounts, as before. The backend answers only when Supabase is configured.
SUPABASE_URL = os.environ.get("SUPABASE_URL", "").rstrip("/")
SUPABASE_ANON_KEY = os.environ.get("SUPABASE_ANON_KEY", "")
SUPABASE_JWT_SECRET = os.environ.get("SUPABASE_JWT_SECRET", "")
AUTHENTICATION_BACKENDS = [*AUTHENTICATION_BACKENDS, "orgs.supabase.backend.SupabaseBackend"]
# --- end Supabase Auth ---------------------------------------------------------------------

ROOT_URLCONF = "missionos.urls"

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
                "orgs.context_processors.organization_switcher",
            ],
            "builtins": ["template_partials.templatetags.partials"],
        },
    },
]

WSGI_APPLICATION = "missionos.wsgi.application"
ASGI_APPLICATION = "missionos.asgi.application"

DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "0")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # `make run` writes from three processes (web, worker, beat): readers do not block the
    # writer in WAL mode, a write transaction takes its lock up front (no deadlock between two
    # that both read first), and one waits up to 20 s for another to finish.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
# missionos.prepared: the search prepares its statements (Postgres, not behind a pooler).
DB_PREPARED_STATEMENTS = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Supabase's transaction pooler (port 6543) cannot hold a server-side cursor across
    # statements; set DB_TRANSACTION_POOLER=1 when DATABASE_URL points at it.
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env_bool("DB_TRANSACTION_POOLER", False)
    # Under ASGI every request runs in a thread of its own, so a per-thread connection
    # (CONN_MAX_AGE) is never reused: without a pool each request connects anew. The pool is
    # per process; DB_POOL_MAX_SIZE bounds the connections one process holds.
    if DB_POOL_MAX_SIZE := int(os.environ.get("DB_POOL_MAX_SIZE", "8")):
        DATABASES["default"]["CONN_MAX_AGE"] = 0  # Django refuses persistent pooled connections
        # A check costs every request a round trip; without it a connection the server dropped
        # (a restart, a failover) fails one request and leaves the pool. DB_POOL_CHECK=1 for
        # networks that drop idle connections often.
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = env_bool("DB_POOL_CHECK", False)
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": min(2, DB_POOL_MAX_SIZE),
            "max_size": DB_POOL_MAX_SIZE,
            "timeout": 10,  # seconds a request waits for a connection before it errs
            "max_idle": 120,  # seconds: idle connections close before servers time them out
        }
    # No JIT compilation: the pages' queries (progress and health as nested subqueries) cost
    # past jit_above_cost at 100x the demo's data, and compiling them took 320 ms of a 360 ms
    # query (bench/scale.py); they run in milliseconds without. A transaction pooler may refuse
    # startup options: there, `ALTER ROLE ... SET jit = off` does the same.
    # The few statements missionos.prepared runs are prepared (Django's own never are). A
    # transaction pooler may hand the next transaction another server session, where the
    # statement does not exist: none there.
    DB_PREPARED_STATEMENTS = not env_bool("DB_TRANSACTION_POOLER", False)
    if env_bool("DB_JIT_OFF", True) and not env_bool("DB_TRANSACTION_POOLER", False):
        DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
    if ssl_root_cert := os.environ.get("DB_SSLROOTCERT"):
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            {"sslmode": "verify-full", "sslrootcert": ssl_root_cert}
        )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Requests one ASGI process runs through Django at once (missionos/asgi.py); event streams are
# not counted. Under one GIL a second thread buys overlap of database and outside-service waits
# and more cost the CPU they contend with (bench/dashboard.py on 2 cores, cached dashboard
# req/s: 1 → 45%, 2 → 40%, 3 → 36%, 8 → 31% of a trivial view's). Scale with processes.
DJANGO_CONCURRENCY = int(os.environ.get("DJANGO_CONCURRENCY", "2"))

REDIS_URL = os.environ.get("REDIS_URL", "")
# How often an open event stream checks again that its viewer is still a member with the same
# role (orgs/live.py); a membership change also tells the stream at once, this is the backstop.
EVENT_STREAM_RECHECK_SECONDS = float(os.environ.get("EVENT_STREAM_RECHECK_SECONDS", "5"))
if REDIS_URL:
    CACHES = {
        "default": {
            # django-redis keeps one connection pool per URL for the whole process (under ASGI
            # every request runs in a thread of its own, and Django's own backend opened
            # connections per thread), and this factory one client per URL.
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "CONNECTION_FACTORY": "missionos.redis_clients.ProcessClientConnectionFactory"
            },
        }
    }
    # Sessions are read from the cache and written through to the database: a page view
    # costs no session query, and a cache flush logs nobody out.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# Airtable: the API root (the demo and tests point it at a fake on 127.0.0.1) and the Fernet
# keys that encrypt stored tokens (sync.crypto): the first encrypts, all decrypt; rotate with
# `manage.py reencrypt_secrets`. TOKEN_ENCRYPTION_KEY (one key) is the older spelling. Neither
# set: derived from SECRET_KEY (and SECRET_KEY_FALLBACKS decrypt), which `check --deploy` flags.
AIRTABLE_API_URL = os.environ.get("AIRTABLE_API_URL", "https://api.airtable.com")
TOKEN_ENCRYPTION_KEYS = env_list("TOKEN_ENCRYPTION_KEYS")
TOKEN_ENCRYPTION_KEY = os.environ.get("TOKEN_ENCRYPTION_KEY", "")
# Requests per second per base, shared by every worker (Airtable allows 5, strictly). 4.9 leaves
# 20 ms over every five gaps, and the limiter never lets six actual sends come within 1.015 s
# (sync/airtable/ratelimit.py); on a network with more jitter, set 4.8.
AIRTABLE_REQUESTS_PER_SECOND = float(os.environ.get("AIRTABLE_REQUESTS_PER_SECOND", "4.9"))
# A run holds its connection's lock this long between pages; a run silent for longer than
# SYNC_STALE_AFTER_SECONDS whose lock has lapsed is presumed dead (its worker was killed).
SYNC_LOCK_TIMEOUT_SECONDS = int(os.environ.get("SYNC_LOCK_TIMEOUT_SECONDS", "120"))
SYNC_STALE_AFTER_SECONDS = int(os.environ.get("SYNC_STALE_AFTER_SECONDS", "600"))

# The broker: Redis when there is one. `make run` (no Redis) sets CELERY_BROKER_URL to
# `filesystem://`: kombu's transport on files under CELERY_FILESYSTEM_DIR, which needs no server
# and answers control commands (a worker's ping). Without either, `memory://` (the tests).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 6 * 3600}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = Path(os.environ.get("CELERY_FILESYSTEM_DIR") or BASE_DIR / ".celery")
    for _folder in ("messages", "processed", "control"):
        (_queue_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir / "messages"),
        "data_folder_out": str(_queue_dir / "messages"),
        "processed_folder": str(_queue_dir / "processed"),
        "control_folder": str(_queue_dir / "control"),
        "store_processed": False,
        # Look for new files this often (kombu's default is 1 s): a ping's answer must come
        # back within WORKER_PING_SECONDS.
        "polling_interval": 0.1,
    }
# How long "is a worker there?" (missionos.workers) waits for an answer when none comes (a
# loaded machine answers a ping over the filesystem broker in well over a second).
WORKER_PING_SECONDS = float(os.environ.get("WORKER_PING_SECONDS", "3.0"))
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"

# The change feed (sync.services.feed): Airtable's webhooks report edits within seconds.
# With AIRTABLE_WEBHOOK_URL (this deployment's public base URL, e.g. https://okr.example.org)
# Airtable pings /sync/airtable/notify/ after each change; without it the feed is polled, one
# request per base every AIRTABLE_FEED_POLL_SECONDS, which works behind a firewall. Pinged
# feeds are polled too, every AIRTABLE_FEED_BACKUP_POLL_SECONDS, in case pings stop.
AIRTABLE_WEBHOOK_URL = os.environ.get("AIRTABLE_WEBHOOK_URL", "").rstrip("/")
AIRTABLE_FEED_POLL_SECONDS = float(os.environ.get("AIRTABLE_FEED_POLL_SECONDS", "5"))
AIRTABLE_FEED_BACKUP_POLL_SECONDS = float(os.environ.get("AIRTABLE_FEED_BACKUP_POLL_SECONDS", "60"))
# django-celery-beat's DatabaseScheduler installs these next to the per-connection schedules.
CELERY_BEAT_SCHEDULE = {
    "sync:feed-poll": {
        "task": "sync.feed_poll_all",
        "schedule": AIRTABLE_FEED_POLL_SECONDS,
        # A tick not picked up before the next one is worthless: the next one polls anyway.
        "options": {"expires": AIRTABLE_FEED_POLL_SECONDS},
    },
    "sync:feed-check": {"task": "sync.feed_check_all", "schedule": 24 * 3600.0},
    # Write-back retries after a back-off, and writes whose push request died with a worker.
    "sync:push-due": {"task": "sync.push_due", "schedule": 15.0},
    # Data health's email to each organization's admins, Monday mornings.
    "health:weekly-digest": {
        "task": "health.send_digests",
        "schedule": crontab(minute=0, hour=7, day_of_week=1),
    },
    # Each person's check-ins due, Monday mornings (sent once a week whatever beat does).
    "okrs:weekly-check-in-reminders": {
        "task": "okrs.send_check_in_reminders",
        "schedule": crontab(minute=30, hour=7, day_of_week=1),
    },
}

# Where this deployment is reached, for links in emails (the data health digest).
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "MissionOS <missionos@localhost>")
# Locally (DEBUG) emails are printed by the web server and worker; set EMAIL_BACKEND and
# Django's EMAIL_* settings to send them.
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
# How long an emailed invitation to an organization stays valid (orgs.invitations).
INVITATION_EXPIRY_DAYS = int(os.environ.get("INVITATION_EXPIRY_DAYS", "7"))
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
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

if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]  # plain-http probes from the load balancer
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True

# Error reports (the debug page too) never show sensitive POST fields or variables.
DEFAULT_EXCEPTION_REPORTER_FILTER = "missionos.error_reports.SecretsHiddenFilter"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # A 403/404 a view raised is logged as its one line, without a traceback.
    "filters": {
        "expected_refusals": {"()": "missionos.headers.ExpectedRefusalFilter"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        "mail_admins": {
            "level": "ERROR",
            "filters": ["require_debug_false"],
            "class": "django.utils.log.AdminEmailHandler",
        },
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own default gives "django" a console handler of its own (with DEBUG on) and
        # lets it propagate to the root's too: every line, a 403's included, printed twice.
        # Here it prints once, through the root; errors still mail the admins.
        "django": {"handlers": ["mail_admins"], "level": "INFO"},
        "django.request": {"filters": ["expected_refusals"]},
        "axes": {"level": "WARNING"},  # it narrates every sign-in at INFO
    },
}
