"""Django settings. The only module that reads the environment.

Every knob an operator may turn is an environment variable named here; the
defaults give a zero-setup SQLite install under ``var/`` in the project root.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import dj_database_url
from huey import RedisHuey, SqliteHuey

from ledgerbridge import logging as _logging

BASE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BASE_DIR.parent.parent
VAR_DIR = Path(os.environ.get("LEDGERBRIDGE_VAR_DIR", PROJECT_ROOT / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = _env_bool("LEDGERBRIDGE_DEBUG", False)
# A fixed development key keeps ./run zero-setup; production must set its own
# (with an https public URL nothing starts without it: ledgerbridge/checks.py).
DEVELOPMENT_SECRET_KEY = "dev-only-insecure-key-set-LEDGERBRIDGE_SECRET_KEY-in-production"
SECRET_KEY = os.environ.get("LEDGERBRIDGE_SECRET_KEY", "") or DEVELOPMENT_SECRET_KEY
# Fernet keys for secrets at rest, newest first (see ledgerbridge/secrets.py).
ENCRYPTION_KEYS = [
    k.strip() for k in os.environ.get("LEDGERBRIDGE_ENCRYPTION_KEYS", "").split(",") if k.strip()
]
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("LEDGERBRIDGE_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(
        ","
    )
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip()
    for o in os.environ.get("LEDGERBRIDGE_CSRF_TRUSTED_ORIGINS", "").split(",")
    if o.strip()
]
PUBLIC_URL = os.environ.get("LEDGERBRIDGE_PUBLIC_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "django_htmx",
    "huey.contrib.djhuey",
    "ledgerbridge.companies",
    "ledgerbridge.invoicing",
    "ledgerbridge.accounting",
    "ledgerbridge.xero",
    "ledgerbridge.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "ledgerbridge.web.csp.ContentSecurityPolicyMiddleware",
    # Serves collected static files from gunicorn, with far-future caching.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "ledgerbridge.companies.middleware.CurrentCompanyMiddleware",
    # A button's address opened directly: the site's page in words, not a blank 405.
    "ledgerbridge.web.not_allowed.MethodNotAllowedPageMiddleware",
    "ledgerbridge.web.request_context.RequestContextMiddleware",
    # Last: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ledgerbridge.urls"
WSGI_APPLICATION = "ledgerbridge.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "ledgerbridge.companies.context_processors.current_company",
            ],
        },
    },
]

DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'ledgerbridge.sqlite3'}")
# Kept connections are checked before use: a connection PostgreSQL dropped is
# replaced instead of failing the request or job.
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take the write lock up front, so two writers queue
    # instead of failing mid-transaction; WAL lets readers go on meanwhile.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("LEDGERBRIDGE_TEST_SQLITE_NAME")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "companies.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "invoice_list"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)

MEDIA_ROOT = Path(os.environ.get("LEDGERBRIDGE_MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "media/"

# Cookies, HSTS and TLS follow the public URL: an https one (production, behind
# a TLS-terminating proxy that sets X-Forwarded-Proto) switches them all on;
# ./run's plain http on 127.0.0.1 keeps working with them off.
HTTPS = PUBLIC_URL.lower().startswith("https://")
SESSION_COOKIE_HTTPONLY = True
# Templates send the token from {% csrf_token %}; no script needs the cookie.
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = _env_bool("LEDGERBRIDGE_SECURE_COOKIES", HTTPS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
# How many proxies in front of us append to X-Forwarded-For: the client's address
# (login throttling) is the one the outermost of them saw. An https public URL
# means a TLS-terminating proxy, so one by default.
PROXY_COUNT = int(os.environ.get("LEDGERBRIDGE_PROXY_COUNT", "1" if HTTPS else "0"))
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    # Load balancers probe /health over plain http inside the network.
    # Prometheus scrapes /metrics the same way (with its token).
    SECURE_REDIRECT_EXEMPT = [r"^health$", r"^metrics$"]
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
SILENCED_SYSTEM_CHECKS = [
    # HSTS for every subdomain, or a preload list entry, binds the operator's
    # whole domain to https for a year: their decision, not this app's.
    "security.W005",
    "security.W021",
]

# Login throttling (django-axes, see companies/throttling.py): a username (case
# and spaces ignored) from one address is locked out after AXES_FAILURE_LIMIT
# failed logins, an address after LOGIN_ADDRESS_FAILURE_LIMIT failures over any
# usernames, until the cool-off has passed.
AXES_FAILURE_LIMIT = 5
LOGIN_ADDRESS_FAILURE_LIMIT = 20
AXES_COOLOFF_TIME = dt.timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "ledgerbridge.companies.throttling.throttle_username"
AXES_CLIENT_IP_CALLABLE = "ledgerbridge.companies.throttling.client_address"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "ledgerbridge.web.views.account.login_locked_out"
AXES_VERBOSE = False
AUTHENTICATION_BACKENDS = [
    "ledgerbridge.companies.throttling.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Queue: SQLite file by default (zero setup); Redis when HUEY_URL says so.
# The database is the truth; a queued job is only a nudge to look now.
HUEY_URL = os.environ.get("HUEY_URL", "")
HUEY_IMMEDIATE = _env_bool("LEDGERBRIDGE_HUEY_IMMEDIATE", False)
if HUEY_URL.startswith(("redis://", "rediss://", "unix://")):
    HUEY = RedisHuey("ledgerbridge", url=HUEY_URL, immediate=HUEY_IMMEDIATE)
else:
    _huey_file = HUEY_URL.removeprefix("sqlite:///") if HUEY_URL else str(VAR_DIR / "queue.sqlite3")
    HUEY = SqliteHuey("ledgerbridge", filename=_huey_file, immediate=HUEY_IMMEDIATE)

# Xero roots (real Xero by default; ./run points them at the local sandbox).
XERO_LOGIN_URL = os.environ.get("LEDGERBRIDGE_XERO_LOGIN_URL", "https://login.xero.com").rstrip("/")
XERO_IDENTITY_URL = os.environ.get(
    "LEDGERBRIDGE_XERO_IDENTITY_URL", "https://identity.xero.com"
).rstrip("/")
XERO_API_URL = os.environ.get("LEDGERBRIDGE_XERO_API_URL", "https://api.xero.com").rstrip("/")
# Only for benchmarks against a sandbox on a fast clock: Xero's minute lasts
# 60 / scale real seconds there, and our limiter must count the same way.
XERO_LIMIT_TIME_SCALE = float(os.environ.get("LEDGERBRIDGE_XERO_LIMIT_TIME_SCALE", "1"))
# Where "Open in Xero" links go (Xero's web app).
XERO_GO_URL = os.environ.get("LEDGERBRIDGE_XERO_GO_URL", "https://go.xero.com").rstrip("/")
XERO_CLIENT_ID = os.environ.get("LEDGERBRIDGE_XERO_CLIENT_ID", "")
XERO_CLIENT_SECRET = os.environ.get("LEDGERBRIDGE_XERO_CLIENT_SECRET", "")
XERO_WEBHOOK_KEY = os.environ.get("LEDGERBRIDGE_XERO_WEBHOOK_KEY", "")
# The pages' Content-Security-Policy (web/csp.py adds Xero's login root to
# form-action): everything from our own origin, nothing inline.
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self'",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}
# A worker holds a company (or a poll, an export build) for this long between
# renewals; a worker that dies frees it after this time at most.
WORKER_LEASE_SECONDS = float(os.environ.get("LEDGERBRIDGE_WORKER_LEASE_SECONDS", "120"))
# How often payment status is polled per company, as the safety net for webhooks.
XERO_PAYMENT_POLL_SECONDS = float(os.environ.get("LEDGERBRIDGE_XERO_PAYMENT_POLL_SECONDS", "900"))
# Reading the books for reconciliation and going live uses at most this share of
# each organisation's daily calls; posting and people keep the rest.
RECONCILE_DAILY_SHARE = float(os.environ.get("LEDGERBRIDGE_RECONCILE_DAILY_SHARE", "0.25"))
# Apps created before 2 March 2026 may keep the broad accounting.transactions
# scope until September 2027; new apps must use granular scopes.
XERO_BROAD_SCOPES = _env_bool("LEDGERBRIDGE_XERO_BROAD_SCOPES", False)
# Webhook events older than this are recorded and ignored (replay defence).
# Xero retries a failed delivery for up to 24 hours; 2 more cover its delivery
# lag and clock skew. Polling reads anything ignored here anyway.
XERO_WEBHOOK_MAX_AGE = dt.timedelta(
    hours=float(os.environ.get("LEDGERBRIDGE_XERO_WEBHOOK_MAX_AGE_HOURS", "26"))
)

# GET /metrics answers only a request carrying "Authorization: Bearer <this>";
# unset, /metrics is a 404.
METRICS_TOKEN = os.environ.get("LEDGERBRIDGE_METRICS_TOKEN", "")
# prometheus-client's multiprocess mode: every gunicorn and Huey process writes
# its counters and histograms to files here, and a scrape (answered by any one
# gunicorn process) sums them. The library reads this variable from the
# environment, so it is set here, before anything imports it.
METRICS_DIR = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR", VAR_DIR / "metrics"))
METRICS_DIR.mkdir(parents=True, exist_ok=True)
os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(METRICS_DIR)

LOG_JSON = _env_bool("LEDGERBRIDGE_LOG_JSON", not DEBUG)
LOGGING_CONFIG = "ledgerbridge.logging.setup"
LOGGING = _logging.configure(
    json=LOG_JSON, level=os.environ.get("LEDGERBRIDGE_LOG_LEVEL", "INFO").upper()
)
