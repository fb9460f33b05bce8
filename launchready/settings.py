"""Settings for Launch Ready.

All configuration comes from the environment through one django-environ ``env``;
every variable is listed in the README with its purpose and default. Defaults run
the whole product on a laptop (SQLite and kombu's filesystem broker under ``var/``);
production (``DEBUG=false``) refuses to start without a ``SECRET_KEY`` and
``LAUNCHREADY_ENCRYPTION_KEYS`` of its own (the published development keys are refused).
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    # A local .env (never committed) for development; real environment variables win.
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
VAR_DIR = Path(env("LAUNCHREADY_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

# Development keys, published with the code: DEBUG=true falls back to them and
# production refuses them, so a copied development .env cannot sign real sessions
# or encrypt real credentials.
DEVELOPMENT_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"  # noqa: S105
DEVELOPMENT_ENCRYPTION_KEY = "ZGV2LW9ubHktaW5zZWN1cmUtZW5jcnlwdGlvbi1rZXk="
_MAKE_SIGNING_KEY = (
    "python -c 'from django.core.management.utils import get_random_secret_key; "
    "print(get_random_secret_key())'"
)
_MAKE_FERNET_KEY = "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"

SECRET_KEY = env("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Production (DEBUG=false) needs a long random "
            f"SECRET_KEY ({_MAKE_SIGNING_KEY}); for development set DEBUG=true."
        )
    SECRET_KEY = DEVELOPMENT_SECRET_KEY
if SECRET_KEY.strip() == DEVELOPMENT_SECRET_KEY and not DEBUG:
    raise ImproperlyConfigured(
        "SECRET_KEY is the development key published with Launch Ready's source code, so anyone "
        "could forge sessions and signed links. Production (DEBUG=false) needs its own: generate one "
        f"with {_MAKE_SIGNING_KEY} and set SECRET_KEY to it (everyone is logged out once)."
    )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[SITE_URL])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "ninja",  # the API's reference page: Swagger UI from ninja's bundled static files, no CDN
    "launchready",
    "audits",
    "monitoring",
    "handover",
    "reports",
]

MIDDLEWARE = [
    "launchready.observability.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "launchready.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Pages and API answers gzipped when the client accepts it, whatever proxy is in front
    # (static files are already compressed by whitenoise, which answers before this). Django's
    # GZipMiddleware pads each response with random bytes against BREACH.
    "django.middleware.gzip.GZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # A successful write drops the cached pages of its workspace and user (launchready/pagecache.py).
    "launchready.pagecache.WritesShowMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "launchready.urls"
WSGI_APPLICATION = "launchready.wsgi.application"

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
                "launchready.context_processors.workspaces",
                "launchready.devmail.context",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=0))
# A kept connection is tested before each request or task reuses it, so a restarted
# database costs one reconnect, not errors until the process is restarted.
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web process, the worker and beat share the file.
    # IMMEDIATE transactions take the write lock at BEGIN, so a transaction that reads
    # then writes waits its turn instead of failing with "database is locked" when
    # another process wrote in between (SQLite cannot upgrade a stale read snapshot).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# A shared cache (Redis in production) makes allauth's rate limits hold across
# processes; the default is per-process memory.
# Without CACHE_URL, a file cache in the var folder: `make run` starts the web app, the worker
# and beat as separate processes, and a kept page the worker invalidates (an audit that ends)
# must be dropped for the web app too, which a per-process memory cache cannot do.
CACHES = {"default": env.cache("CACHE_URL", default=f"filecache://{VAR_DIR / 'cache'}")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # The cache holds nothing the database does not: with Redis down, pages are drawn
    # from the database and the warning is logged (launchready/cache.py).
    CACHES["default"]["BACKEND"] = "launchready.cache.TolerantRedisCache"
    CACHES["default"].setdefault("OPTIONS", {}).setdefault("socket_connect_timeout", 1)
    CACHES["default"]["OPTIONS"].setdefault("socket_timeout", 2)
    # Sessions read from Redis (a query saved on every request), written to the database too:
    # with Redis down they are read from the database, nobody is logged out.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# Who the client is behind our reverse proxy (launchready/clientip.py): without this,
# every request comes from the proxy and one visitor's failed logins lock out everyone.
# Count the proxies that append to X-Forwarded-For, or name the one header the proxy
# overwrites with the client address; never both.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
TRUSTED_CLIENT_IP_HEADER = env("TRUSTED_CLIENT_IP_HEADER", default="").strip()
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 (no proxy) or the number of proxies in front.")
if TRUSTED_PROXY_COUNT and TRUSTED_CLIENT_IP_HEADER:
    raise ImproperlyConfigured(
        "Set either TRUSTED_PROXY_COUNT (proxies appending to X-Forwarded-For) or "
        "TRUSTED_CLIENT_IP_HEADER (one header the proxy overwrites with the client address), not both."
    )
# The same values for allauth; its rate limits ask AccountAdapter.get_client_ip, which uses ours.
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
ALLAUTH_TRUSTED_CLIENT_IP_HEADER = TRUSTED_CLIENT_IP_HEADER or None

# Invitation emails (launchready/tenancy.py), counted in the shared cache. A consultant
# inviting a client's team sends a handful at once; these stop a workspace, or one
# account across all its workspaces, from mailing strangers in bulk.
INVITATION_LIMIT_PER_WORKSPACE_PER_HOUR = env.int("INVITATION_LIMIT_PER_WORKSPACE_PER_HOUR", default=20)
INVITATION_LIMIT_PER_INVITER_PER_HOUR = env.int("INVITATION_LIMIT_PER_INVITER_PER_HOUR", default=10)
INVITATION_RESEND_INTERVAL_MINUTES = env.int("INVITATION_RESEND_INTERVAL_MINUTES", default=5)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

# Accounts (django-allauth): email only, mandatory verification, built-in rate limits on.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Launch Ready] "
ACCOUNT_ADAPTER = "launchready.adapters.AccountAdapter"
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if SITE_URL.startswith("https") else "http"
LOGIN_REDIRECT_URL = "home"
# Flash messages live in the session, not in a readable cookie: some carry a secret
# shown once (a new API token).
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
LOGIN_URL = "account_login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# Dates read the same everywhere, admin included: "5 December 2026, 14:30" (launchready/formats).
FORMAT_MODULE_PATH = ["launchready.formats"]

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Email: console in development (the verification link is printed by the web
# process), SMTP in production through EMAIL_URL.
EMAIL_URL = env("EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25")
vars().update(env.email_url_config(EMAIL_URL))
if DEBUG and EMAIL_BACKEND == "django.core.mail.backends.console.EmailBackend":  # noqa: F821 - set just above
    # Development: each email as a short framed block, its links easy to find (devmail.py).
    EMAIL_BACKEND = "launchready.devmail.ReadableConsoleBackend"  # also kept for /dev/mail/
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Launch Ready <noreply@launchready.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Security. In production every switch below is on; `manage.py check --deploy` is clean.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
if env.bool("SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'self'; object-src 'none'"
)

# Celery: JSON only, default soft/hard limits, embedded filesystem broker by default.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://localhost//")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    (_broker_dir / "processed").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=None)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 90
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE: dict = {
    "worker-heartbeat": {"task": "launchready.tasks.worker_heartbeat", "schedule": 60.0},
    "monitoring-dispatch": {"task": "monitoring.tasks.dispatch_due_monitors", "schedule": 10.0},
    "monitoring-outbox": {"task": "monitoring.tasks.deliver_due_notifications", "schedule": 30.0},
    "monitoring-escalate": {"task": "monitoring.tasks.escalate_unacknowledged", "schedule": 60.0},
    "monitoring-rollup": {"task": "monitoring.tasks.rollup_and_prune", "schedule": 3600.0},
    "audits-daily": {"task": "audits.tasks.schedule_daily_audits", "schedule": 300.0},
    # Runs whose worker died (or whose message was lost) are marked failed with the reason.
    "audits-reap-stuck": {"task": "audits.tasks.reap_stuck_runs", "schedule": 300.0},
    "deploys-stale-smoke": {"task": "handover.tasks.fail_stale_smoke_tests", "schedule": 300.0},
    # Weekly reports and digests due now (each claimed once), then retries of failed sends.
    "reports-send-due": {"task": "reports.tasks.send_due_reports", "schedule": 60.0},
}
CELERY_TIMEZONE = "UTC"

# The network layer (launchready/net). Production leaves all of these unset.
LAUNCHREADY_DNS_SERVERS = env.list("LAUNCHREADY_DNS_SERVERS", default=[])
LAUNCHREADY_CA_BUNDLE = env("LAUNCHREADY_CA_BUNDLE", default="")
LAUNCHREADY_ALLOWED_TARGET_NETWORKS = env.list("LAUNCHREADY_ALLOWED_TARGET_NETWORKS", default=[])
LAUNCHREADY_PORT_MAP = env("LAUNCHREADY_PORT_MAP", default="")
LAUNCHREADY_RDAP_URL = env("LAUNCHREADY_RDAP_URL", default="")
# A crt.sh-style certificate-transparency source ("{domain}" is replaced); empty: not used.
LAUNCHREADY_CT_URL = env("LAUNCHREADY_CT_URL", default="")
# Lighthouse scores come from PageSpeed Insights when a key is set; otherwise the check is skipped.
LAUNCHREADY_PAGESPEED_API_KEY = env("LAUNCHREADY_PAGESPEED_API_KEY", default="")
LAUNCHREADY_PAGESPEED_URL = env(
    "LAUNCHREADY_PAGESPEED_URL", default="https://www.googleapis.com/pagespeedonline/v5/runPagespeed"
)
LAUNCHREADY_MAX_BODY_BYTES = env.int("LAUNCHREADY_MAX_BODY_BYTES", default=2 * 1024 * 1024)
LAUNCHREADY_USER_AGENT = env(
    "LAUNCHREADY_USER_AGENT",
    default=f"LaunchReadyBot/1.0 (+{SITE_URL}/about/scanner)",
)

# Monitoring (monitoring/). Channel credentials are encrypted at rest with their own
# Fernet key list (first encrypts, any decrypts), never derived from SECRET_KEY.
LAUNCHREADY_ENCRYPTION_KEYS = env.list("LAUNCHREADY_ENCRYPTION_KEYS", default=[])
if not LAUNCHREADY_ENCRYPTION_KEYS:
    if not DEBUG:
        raise ImproperlyConfigured(
            "LAUNCHREADY_ENCRYPTION_KEYS is not set. Production (DEBUG=false) needs at least one "
            f"Fernet key ({_MAKE_FERNET_KEY})."
        )
    LAUNCHREADY_ENCRYPTION_KEYS = [DEVELOPMENT_ENCRYPTION_KEY]
# Only the first key encrypts. The development key may stay behind a new one while
# `reencrypt_secrets` moves credentials saved under it to the new key; then drop it.
if LAUNCHREADY_ENCRYPTION_KEYS[0].strip() == DEVELOPMENT_ENCRYPTION_KEY and not DEBUG:
    raise ImproperlyConfigured(
        "LAUNCHREADY_ENCRYPTION_KEYS starts with the development key published with Launch Ready's "
        "source code, so anyone could decrypt the alert-channel credentials it protects. Production "
        f"(DEBUG=false) needs its own: generate one with {_MAKE_FERNET_KEY}. If credentials "
        "were already saved under the development key, set LAUNCHREADY_ENCRYPTION_KEYS=<new key>,"
        f"{DEVELOPMENT_ENCRYPTION_KEY}, run `python manage.py reencrypt_secrets`, then remove the "
        "development key from the list."
    )
LAUNCHREADY_TWILIO_BASE_URL = env("LAUNCHREADY_TWILIO_BASE_URL", default="https://api.twilio.com").rstrip("/")
MONITORING_RESULT_RETENTION_DAYS = env.int("MONITORING_RESULT_RETENTION_DAYS", default=7)
MONITORING_HOURLY_RETENTION_DAYS = env.int("MONITORING_HOURLY_RETENTION_DAYS", default=90)
MONITORING_BATCH_SIZE = env.int("MONITORING_BATCH_SIZE", default=200)
MONITORING_ESCALATE_AFTER_MINUTES = env.int("MONITORING_ESCALATE_AFTER_MINUTES", default=15)
MONITORING_ACK_LINK_MAX_AGE_HOURS = env.int("MONITORING_ACK_LINK_MAX_AGE_HOURS", default=72)
MONITORING_PING_LIMIT_PER_MINUTE = env.int("MONITORING_PING_LIMIT_PER_MINUTE", default=60)
MONITORING_TEST_ALERTS_PER_HOUR = env.int("MONITORING_TEST_ALERTS_PER_HOUR", default=10)
# "Send me a preview now" of the weekly report: emails one member may ask for per hour.
REPORTS_PREVIEWS_PER_HOUR = env.int("REPORTS_PREVIEWS_PER_HOUR", default=3)
# Requests one API token may make per minute (then 429 with Retry-After).
API_RATE_LIMIT_PER_MINUTE = env.int("API_RATE_LIMIT_PER_MINUTE", default=120)

# Our own observability: Sentry only when SENTRY_DSN is set, logs to stdout.
SENTRY_DSN = env("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env("SENTRY_ENVIRONMENT", default="development" if DEBUG else "production")
RELEASE = env("RELEASE", default="")
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
# The one-line-per-request logs (our access log and runserver's): make run sets WARNING
# so that a page's progress polling does not bury its banner and the emails.
REQUEST_LOG_LEVEL = env("REQUEST_LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "launchready.observability.RequestIdFilter"}},
    "formatters": {
        "line": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        }
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "line",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # aiosmtpd logs every SMTP command line at INFO, RCPT TO included: the inbound
        # check/report addresses are secrets, so only its warnings reach the log.
        "mail.log": {"level": "WARNING"},
        # httpx logs every request's full URL at INFO: a Slack or webhook URL is a secret.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        "django.server": {"level": REQUEST_LOG_LEVEL},
        "launchready.access": {"level": REQUEST_LOG_LEVEL},
    },
}

# Inbound mail (audits/inbound): the SMTP receiver for live test messages and DMARC
# aggregate reports. Its MX must point at the host running the "smtp" process.
INBOUND_DOMAIN = env("INBOUND_DOMAIN", default="inbound.launchready.localhost")
INBOUND_SMTP_HOST = env("INBOUND_SMTP_HOST", default="127.0.0.1")
INBOUND_SMTP_PORT = env.int("INBOUND_SMTP_PORT", default=2525)
INBOUND_MAX_MESSAGE_BYTES = env.int("INBOUND_MAX_MESSAGE_BYTES", default=5 * 1024 * 1024)
INBOUND_MAX_REPORT_BYTES = env.int("INBOUND_MAX_REPORT_BYTES", default=20 * 1024 * 1024)  # decompressed
INBOUND_RETENTION_DAYS = env.int("INBOUND_RETENTION_DAYS", default=3)
INBOUND_RATE_LIMIT_PER_HOUR = env.int("INBOUND_RATE_LIMIT_PER_HOUR", default=20)
# Unknown recipients one client may ask for per hour before it is turned away (guessing).
INBOUND_UNKNOWN_RECIPIENTS_PER_HOUR = env.int("INBOUND_UNKNOWN_RECIPIENTS_PER_HOUR", default=30)
# Refused DMARC reports one client may send per hour before it is turned away (bombs).
INBOUND_REFUSED_REPORTS_PER_HOUR = env.int("INBOUND_REFUSED_REPORTS_PER_HOUR", default=10)
# Report messages are read in worker processes, each within this much CPU time.
INBOUND_REPORT_WORKERS = env.int("INBOUND_REPORT_WORKERS", default=1)
INBOUND_REPORT_CPU_SECONDS = env.float("INBOUND_REPORT_CPU_SECONDS", default=2.0)
# Tests only: take the SPF client address from an XCLIENT ADDR= command (the sandbox
# sends from 127.0.0.1). Never enable in production: any client could claim any address.
INBOUND_TRUST_XCLIENT = env.bool("INBOUND_TRUST_XCLIENT", default=False)
CELERY_IMPORTS = [
    *globals().get("CELERY_IMPORTS", []),
    "audits.inbound.tasks",
]  # not an app: import its tasks
CELERY_BEAT_SCHEDULE["inbound-purge"] = {
    "task": "audits.inbound.tasks.purge_expired_inbound",
    "schedule": 3600.0,
}

if SENTRY_DSN:
    from launchready.observability import init_sentry

    init_sentry(SENTRY_DSN, environment=SENTRY_ENVIRONMENT, release=RELEASE or None)
