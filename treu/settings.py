"""treu's one settings module: what differs between machines comes from the environment."""

from __future__ import annotations

from pathlib import Path

from django.utils.translation import gettext_lazy as _

from treu.core.env import (
    database_config,
    email_config,
    env_bool,
    env_int,
    env_list,
    env_str,
    secret_key,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("TREU_VAR_DIR") or BASE_DIR / "var").resolve()

DEBUG = env_bool("DEBUG", default=False)
SECRET_KEY = secret_key(VAR_DIR)
ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else ["localhost", "127.0.0.1"]
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://localhost:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "huey.contrib.djhuey",
    "treu.core",
    "treu.customers",
    "treu.commerce",
    "treu.api",
    "treu.connectors",
    "treu.imports",
    "treu.webhooks",
    "treu.loyalty",
    "treu.analytics",
    "treu.messaging",
    "treu.demo",
    # Last, so that its post_migrate role sync sees every other app's permissions.
    "treu.backoffice",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "treu.urls"
WSGI_APPLICATION = "treu.wsgi.application"

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
                "treu.backoffice.context_processors.navigation",
            ],
        },
    }
]

DATABASES = {
    "default": database_config(env_str("DATABASE_URL"), default_sqlite=VAR_DIR / "treu.sqlite3")
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "backoffice:login"
LOGIN_REDIRECT_URL = "backoffice:overview"
LOGOUT_REDIRECT_URL = "backoffice:login"

LANGUAGE_CODE = "de"
LANGUAGES = [("de", _("German")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "treu" / "locale"]
TIME_ZONE = "Europe/Berlin"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise expects it, even before collectstatic
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
WHITENOISE_USE_FINDERS = True
WHITENOISE_MANIFEST_STRICT = False

# Mail: captured into the database unless EMAIL_URL points at a mail server (smtp://) or a
# django-anymail provider (anymail+postmark://…, whose keys land in ANYMAIL below).
_email = email_config(env_str("EMAIL_URL"))
_anymail_sending = _email.pop("ANYMAIL", {})
_marketing_esp_extra = _email.pop("MESSAGING_MARKETING_ESP_EXTRA", {})
globals().update(_email)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "treu <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The outbox: at most this many mails a minute across all workers (0: no limit), sent by
# this many sender tasks at once (each claims its own rows).
MESSAGING_RATE_PER_MINUTE = env_int("MESSAGING_RATE_PER_MINUTE", 600)
MESSAGING_SENDERS = env_int("MESSAGING_SENDERS", 2)
# What a marketing mail tells a django-anymail provider besides (EMAIL_URL's broadcast= for
# Postmark's broadcast stream).
MESSAGING_MARKETING_ESP_EXTRA = _marketing_esp_extra
# An order counts for the last marketing mail sent to its customer within this many days.
MESSAGING_ATTRIBUTION_DAYS = env_int("MESSAGING_ATTRIBUTION_DAYS", 5)
# Mail providers' tracking webhooks (/hooks/anymail/<provider>/tracking/) need HTTP basic
# auth "user:password"; while it is empty they are switched off (404).
ANYMAIL = {**_anymail_sending, "WEBHOOK_SECRET": env_str("ANYMAIL_WEBHOOK_SECRET") or None}

# Background jobs: SqliteHuey by default, RedisHuey when REDIS_URL is set.
REDIS_URL = env_str("REDIS_URL")
HUEY = {
    "name": env_str("HUEY_NAME", "treu"),
    "immediate": env_bool("HUEY_IMMEDIATE", default=False),
    "utc": True,
    "consumer": {"workers": env_int("HUEY_WORKERS", 2), "worker_type": "thread"},
}
if REDIS_URL:
    HUEY.update({"huey_class": "huey.RedisHuey", "url": REDIS_URL})
else:
    HUEY.update({"huey_class": "huey.SqliteHuey", "filename": str(VAR_DIR / "huey.sqlite3")})

# Outbound webhooks: an endpoint is switched off after this many failed attempts in a row.
TREU_WEBHOOK_DISABLE_AFTER = env_int("TREU_WEBHOOK_DISABLE_AFTER", 10)

# Newsletter consent: unconfirmed sign-ups (and their confirmation links) expire after this
# many days; the public forms accept at most this many sign-ups per IP address and hour.
TREU_CONSENT_PENDING_DAYS = env_int("TREU_CONSENT_PENDING_DAYS", 30)
TREU_CONSENT_SIGNUPS_PER_IP_HOUR = env_int("TREU_CONSENT_SIGNUPS_PER_IP_HOUR", 20)
# Mail templates: the name under the mails (default: the name in DEFAULT_FROM_EMAIL) and the
# online shop their links may point to (`shop:/path`; default: SITE_URL).
TREU_SHOP_NAME = env_str("TREU_SHOP_NAME", "")
TREU_SHOP_URL = env_str("TREU_SHOP_URL", "").rstrip("/")

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # huey adds its own handler; without propagate=False each line shows twice.
        "huey": {"level": "INFO", "handlers": ["console"], "propagate": False},
        "django.db.backends": {"level": "INFO"},
    },
}
