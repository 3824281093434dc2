"""Saferhub settings: one module, driven by environment variables (SAFERHUB_*)."""
from pathlib import Path
import os

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

PACKAGE_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = PACKAGE_DIR.parent.parent
DATA_DIR = Path(os.environ.get("SAFERHUB_DATA_DIR", REPO_DIR / "var"))
NODE_MODULES = Path(os.environ.get("SAFERHUB_NODE_MODULES", REPO_DIR / "node_modules"))


def _flag(name: str, default: bool = False) -> bool:
    return os.environ.get(name, "1" if default else "0").lower() in {"1", "true", "yes", "on"}


DEBUG = _flag("SAFERHUB_DEBUG")
SECRET_KEY = os.environ.get("SAFERHUB_SECRET_KEY") or (
    "insecure-development-key-only-for-local-demo" if DEBUG or "SAFERHUB_SECRET_KEY" not in os.environ else ""
)
ALLOWED_HOSTS = os.environ.get("SAFERHUB_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    # Only for its templates and static files: the API docs page serves Swagger UI from here, not a CDN.
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "saferhub.core",
    "saferhub.accounts",
    "saferhub.partners",
    "saferhub.audit",
    "saferhub.people",
    "saferhub.strategy",
    "saferhub.commissioning",
    "saferhub.performance",
    "saferhub.publishing",
    "saferhub.marac",
    "saferhub.matac",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "saferhub.audit.context.RequestContextMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "saferhub.accounts.middleware.SessionIdleMiddleware",
    "saferhub.accounts.middleware.SecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
]

ROOT_URLCONF = "saferhub.config.urls"
WSGI_APPLICATION = "saferhub.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "environment": "saferhub.config.jinja2.environment",
            "autoescape": True,
            "context_processors": ["saferhub.core.context_processors.govuk_template"],
        },
    },
    {
        # Django's own admin pages keep the Django template language.
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    },
]

DATA_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("SAFERHUB_DATABASE_URL", f"sqlite:///{DATA_DIR / 'saferhub.sqlite3'}"),
        conn_max_age=60,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "partners.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "saferhub.accounts.validators.NoUsernameOrOrganisationValidator"},
]

# Accounts (saferhub.accounts): two-factor, idle sessions, single sign-on.
OTP_TOTP_ISSUER = "Saferhub"
# The Django admin lists devices but never shows their secret keys.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# A session ends after this long without a request, and in any case this long after signing in.
SAFERHUB_SESSION_IDLE_MINUTES = int(os.environ.get("SAFERHUB_SESSION_IDLE_MINUTES", "30"))
SAFERHUB_SESSION_MAX_HOURS = 12
SESSION_COOKIE_AGE = SAFERHUB_SESSION_MAX_HOURS * 3600
# Behind a reverse proxy, the client's address is the last one the proxy added to X-Forwarded-For
# (sign-in throttling counts failures per address), and the proxy says whether the request came by HTTPS.
SAFERHUB_BEHIND_PROXY = _flag("SAFERHUB_BEHIND_PROXY")

# Single sign-on through a council's or force's identity provider (OpenID Connect), only when configured.
# Accounts are never created by signing in: the IdP's email must match an active Saferhub account.
SAFERHUB_OIDC_ENABLED = bool(os.environ.get("SAFERHUB_OIDC_RP_CLIENT_ID"))
SAFERHUB_OIDC_PROVIDER_NAME = os.environ.get("SAFERHUB_OIDC_PROVIDER_NAME", "your organisation's account")
# Set when the identity provider itself requires multi-factor sign-in: Saferhub then asks for no code of its own.
SAFERHUB_OIDC_TRUSTS_MFA = _flag("SAFERHUB_OIDC_TRUSTS_MFA")
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
if SAFERHUB_OIDC_ENABLED:
    OIDC_RP_CLIENT_ID = os.environ["SAFERHUB_OIDC_RP_CLIENT_ID"]
    OIDC_RP_CLIENT_SECRET = os.environ.get("SAFERHUB_OIDC_RP_CLIENT_SECRET", "")
    OIDC_OP_AUTHORIZATION_ENDPOINT = os.environ.get("SAFERHUB_OIDC_OP_AUTHORIZATION_ENDPOINT", "")
    OIDC_OP_TOKEN_ENDPOINT = os.environ.get("SAFERHUB_OIDC_OP_TOKEN_ENDPOINT", "")
    OIDC_OP_USER_ENDPOINT = os.environ.get("SAFERHUB_OIDC_OP_USER_ENDPOINT", "")
    OIDC_OP_JWKS_ENDPOINT = os.environ.get("SAFERHUB_OIDC_OP_JWKS_ENDPOINT") or None
    OIDC_RP_SIGN_ALGO = os.environ.get("SAFERHUB_OIDC_RP_SIGN_ALGO", "RS256")
    OIDC_RP_SCOPES = "openid email"
    OIDC_CREATE_USER = False
    OIDC_USE_PKCE = True
    OIDC_CALLBACK_CLASS = "saferhub.accounts.oidc.SaferhubOIDCCallbackView"
    LOGIN_REDIRECT_URL_FAILURE = "/sign-in/?sso=failed"
    missing = [name for name in ("OIDC_OP_AUTHORIZATION_ENDPOINT", "OIDC_OP_TOKEN_ENDPOINT", "OIDC_OP_USER_ENDPOINT")
               if not globals()[name]]
    if missing:
        raise ImproperlyConfigured("Single sign-on needs " + ", ".join("SAFERHUB_" + name for name in missing))
    AUTHENTICATION_BACKENDS = ["saferhub.accounts.oidc.SaferhubOIDCBackend", *AUTHENTICATION_BACKENDS]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/assets/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# GOV.UK Frontend's compiled CSS refers to /assets/fonts and /assets/images, so its assets folder
# is served at the root of STATIC_URL; its CSS and JS sit under /assets/govuk/.
STATICFILES_DIRS = [
    NODE_MODULES / "govuk-frontend" / "dist" / "govuk" / "assets",
    ("govuk", NODE_MODULES / "govuk-frontend" / "dist" / "govuk"),
    ("htmx", NODE_MODULES / "htmx.org" / "dist"),
]
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# The hour of the day (local time) `saferhub scheduler` queues the retention run.
SAFERHUB_RETENTION_HOUR = int(os.environ.get("SAFERHUB_RETENTION_HOUR", "2"))
# Days the MATAC incident store keeps a police incident (by its date) before the retention run
# removes it: six years by default, never less than the longest scoring window.
MATAC_INCIDENT_RETENTION_DAYS = int(os.environ.get("SAFERHUB_MATAC_INCIDENT_RETENTION_DAYS", "2192"))
# ...and the hour it queues the reminders of overdue MARAC actions.
SAFERHUB_MARAC_REMINDER_HOUR = int(os.environ.get("SAFERHUB_MARAC_REMINDER_HOUR", "7"))

# Email (MARAC notices, break-glass alerts) by SMTP. Links in emails start with SAFERHUB_SITE_URL.
EMAIL_HOST = os.environ.get("SAFERHUB_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("SAFERHUB_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("SAFERHUB_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("SAFERHUB_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = _flag("SAFERHUB_EMAIL_USE_TLS")
EMAIL_USE_SSL = _flag("SAFERHUB_EMAIL_USE_SSL")
EMAIL_TIMEOUT = int(os.environ.get("SAFERHUB_EMAIL_TIMEOUT", "10"))
DEFAULT_FROM_EMAIL = os.environ.get("SAFERHUB_EMAIL_FROM", "saferhub@localhost")
SAFERHUB_SITE_URL = os.environ.get("SAFERHUB_SITE_URL", "http://127.0.0.1:8000")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("SAFERHUB_LOG_LEVEL", "WARNING")},
}

# Where generated documents (Progress Updates) are kept once published.
MEDIA_ROOT = DATA_DIR / "media"

# Production (SAFERHUB_ENV=production, or DEBUG off with SAFERHUB_SECURE=1): HTTPS only, secure
# cookies, a real secret key and configured field-encryption keys; `saferhub check --deploy` is clean.
SAFERHUB_ENV = os.environ.get("SAFERHUB_ENV", "development")
SAFERHUB_PRODUCTION = SAFERHUB_ENV == "production" or (not DEBUG and _flag("SAFERHUB_SECURE"))
if SAFERHUB_PRODUCTION:
    if DEBUG:
        raise ImproperlyConfigured("SAFERHUB_DEBUG must be off in production: debug pages show settings and code")
    if len(os.environ.get("SAFERHUB_SECRET_KEY", "")) < 50:
        raise ImproperlyConfigured("Set SAFERHUB_SECRET_KEY to a random value of at least 50 characters")
    SAFERHUB_REQUIRE_CONFIGURED_KEYS = True
    SECURE_HSTS_SECONDS = 365 * 24 * 3600
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if SAFERHUB_BEHIND_PROXY:
        # Only behind a proxy that sets this header itself: otherwise a client could claim HTTPS.
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
