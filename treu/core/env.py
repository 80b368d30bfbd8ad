"""Typed readers for settings from the environment.

Each reader fails loudly with a message a shop owner can act on, because a
half-understood setting is worse than none.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a yes/no value; use 1 or 0.")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def secret_key(var_dir: Path) -> str:
    """SECRET_KEY from the environment, else one generated once into var/."""
    from_env = env_str("SECRET_KEY")
    if from_env:
        return from_env
    key_file = var_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def database_config(url: str, *, default_sqlite: Path) -> dict:
    """Django DATABASES['default'] from DATABASE_URL (sqlite:/// or postgres://)."""
    if not url:
        return _sqlite(default_sqlite)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "sqlite":
        path = unquote(parts.path)
        if parts.netloc:
            raise ImproperlyConfigured(
                f"DATABASE_URL={url!r}: write sqlite:///relative/path or sqlite:////absolute/path."
            )
        path = path[1:] if path.startswith("/") else path
        if not path:
            raise ImproperlyConfigured(f"DATABASE_URL={url!r} names no SQLite file.")
        return _sqlite(Path(path))
    if scheme in {"postgres", "postgresql", "pgsql"}:
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise ImproperlyConfigured(
                f"DATABASE_URL={_redact(url)!r} names no database: add /name after the host."
            )
        try:
            port = parts.port
        except ValueError:
            raise ImproperlyConfigured(
                f"DATABASE_URL={_redact(url)!r} has a port that is not a number."
            ) from None
        options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(port or ""),
            "CONN_MAX_AGE": env_int("DATABASE_CONN_MAX_AGE", 60),
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": options,
        }
    raise ImproperlyConfigured(
        f"DATABASE_URL={_redact(url)!r}: unknown database {scheme!r}; "
        "treu runs on sqlite:/// or postgres://."
    )


def _sqlite(path: Path) -> dict:
    path.parent.mkdir(parents=True, exist_ok=True)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "OPTIONS": {
            # WAL lets the web process read while the worker writes; IMMEDIATE
            # takes the write lock at BEGIN so two writers queue instead of
            # failing with "database is locked" halfway through a transaction.
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            ),
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        },
        "TEST": {"NAME": None},
    }


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


def email_config(url: str) -> dict:
    """Email settings from EMAIL_URL.

    Empty: mails are captured in the database and shown in the back office.
    smtp://user:pass@host:587 (STARTTLS), smtps://…:465 (TLS), console://, or a
    django-anymail provider: anymail+postmark://TOKEN, anymail+mailgun://KEY@domain …
    (see ANYMAIL_PROVIDERS). A provider's settings come back under "ANYMAIL".
    """
    if not url or url == "capture://":
        return {"EMAIL_BACKEND": "treu.core.mail.CapturingBackend"}
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if not sep:
        raise ImproperlyConfigured(
            f"EMAIL_URL={_redact_email(url)!r} is not a URL; write e.g. smtp://user:pass@host:587."
        )
    if scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if scheme in {"smtp", "smtps"}:
        return _smtp_config(url, scheme)
    if scheme.startswith("anymail+"):
        return _anymail_config(url, scheme.removeprefix("anymail+"), rest)
    raise ImproperlyConfigured(
        f"EMAIL_URL={_redact_email(url)!r}: use smtp://, smtps://, anymail+<provider>:// "
        f"({', '.join(sorted(ANYMAIL_PROVIDERS))}), console:// or leave it empty."
    )


def _smtp_config(url: str, scheme: str) -> dict:
    parts = urlsplit(url)
    options = _url_options(url, parts.query, allowed={"tls", "timeout"})
    if not parts.hostname:
        raise ImproperlyConfigured(f"EMAIL_URL={_redact_email(url)!r} names no host.")
    try:
        port = parts.port
    except ValueError:
        raise ImproperlyConfigured(
            f"EMAIL_URL={_redact_email(url)!r} has a port that is not a number."
        ) from None
    port = port or (465 if scheme == "smtps" else 587)
    tls = scheme == "smtp" and port != 25
    if "tls" in options:
        if scheme == "smtps":
            raise ImproperlyConfigured(
                f"EMAIL_URL={_redact_email(url)!r}: smtps:// is TLS from the start; "
                "tls= belongs to smtp:// (STARTTLS)."
            )
        tls = _url_flag(url, "tls", options["tls"])
    return {
        "EMAIL_BACKEND": "treu.core.mail.SmtpBackend",
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": port,
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_TLS": tls,
        "EMAIL_USE_SSL": scheme == "smtps",
        "EMAIL_TIMEOUT": _url_seconds(url, options.get("timeout", "20")),
    }


@dataclass(frozen=True)
class AnymailProvider:
    """What EMAIL_URL=anymail+<name>://… carries for one django-anymail provider."""

    backend: str
    credentials: tuple[str, ...]  # ANYMAIL settings filled from the URL's user:password part
    host: str = ""  # the ANYMAIL setting the host part fills (Mailgun's sending domain)
    example: str = ""
    eu_api_url: str = ""  # where ?region=eu sends the mails


ANYMAIL_PROVIDERS: dict[str, AnymailProvider] = {
    "amazon_ses": AnymailProvider(
        "anymail.backends.amazon_ses.EmailBackend",
        (),
        example="anymail+amazon_ses://ACCESS_KEY_ID:SECRET@eu-central-1",
    ),
    "brevo": AnymailProvider(
        "anymail.backends.brevo.EmailBackend", ("BREVO_API_KEY",), example="anymail+brevo://KEY"
    ),
    "mailersend": AnymailProvider(
        "anymail.backends.mailersend.EmailBackend",
        ("MAILERSEND_API_TOKEN",),
        example="anymail+mailersend://TOKEN",
    ),
    "mailgun": AnymailProvider(
        "anymail.backends.mailgun.EmailBackend",
        ("MAILGUN_API_KEY",),
        host="MAILGUN_SENDER_DOMAIN",
        example="anymail+mailgun://KEY@mg.example.de?region=eu",
        eu_api_url="https://api.eu.mailgun.net/v3",
    ),
    "mailjet": AnymailProvider(
        "anymail.backends.mailjet.EmailBackend",
        ("MAILJET_API_KEY", "MAILJET_SECRET_KEY"),
        example="anymail+mailjet://KEY:SECRET",
    ),
    "postmark": AnymailProvider(
        "anymail.backends.postmark.EmailBackend",
        ("POSTMARK_SERVER_TOKEN",),
        example="anymail+postmark://TOKEN",
    ),
    "resend": AnymailProvider(
        "anymail.backends.resend.EmailBackend", ("RESEND_API_KEY",), example="anymail+resend://KEY"
    ),
    "sendgrid": AnymailProvider(
        "anymail.backends.sendgrid.EmailBackend",
        ("SENDGRID_API_KEY",),
        example="anymail+sendgrid://KEY",
    ),
    "sparkpost": AnymailProvider(
        "anymail.backends.sparkpost.EmailBackend",
        ("SPARKPOST_API_KEY",),
        example="anymail+sparkpost://KEY?region=eu",
        eu_api_url="https://api.eu.sparkpost.com/api/v1/",
    ),
}


def _anymail_config(url: str, name: str, rest: str) -> dict:
    shown = _redact_email(url)
    name = name.replace("-", "_")
    provider = ANYMAIL_PROVIDERS.get(name)
    if provider is None:
        raise ImproperlyConfigured(
            f"EMAIL_URL={shown!r}: treu knows no mail provider {name!r}; "
            f"use one of {', '.join(sorted(ANYMAIL_PROVIDERS))}."
        )
    parts = urlsplit(f"x://{rest}")
    if parts.path not in ("", "/") or parts.fragment:
        raise ImproperlyConfigured(
            f"EMAIL_URL={shown!r}: a key holding / or # must be written %2F or %23; "
            f"the form is {provider.example}."
        )
    allowed = {"timeout"} | ({"region"} if provider.eu_api_url or name == "amazon_ses" else set())
    if name == "postmark":
        allowed.add("broadcast")
    options = _url_options(url, parts.query, allowed=allowed)
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at and provider.credentials:
        userinfo, host = host, ""  # anymail+postmark://TOKEN: the key is all there is
    secrets_ = [unquote(v) for v in userinfo.split(":", 1)] if userinfo else []
    host = unquote(host)
    settings: dict = {"REQUESTS_TIMEOUT": _url_seconds(url, options.get("timeout", "30"))}
    if name == "amazon_ses":
        return _amazon_ses(url, provider, secrets_, host, options, settings)
    if host and not provider.host:
        raise ImproperlyConfigured(f"EMAIL_URL={shown!r}: write it as {provider.example}.")
    if len(secrets_) != len(provider.credentials) or not all(secrets_):
        what = " and ".join(
            c.split("_", 1)[1].lower().replace("_", " ") for c in provider.credentials
        )
        raise ImproperlyConfigured(
            f"EMAIL_URL={shown!r} lacks the provider's {what}; write it as {provider.example}."
        )
    settings.update(zip(provider.credentials, secrets_, strict=True))
    if provider.host and host:
        settings[provider.host] = host
    if "region" in options:
        if options["region"].lower() != "eu":
            raise ImproperlyConfigured(
                f"EMAIL_URL={shown!r}: region= takes only eu (the default is the US region)."
            )
        settings[f"{name.upper()}_API_URL"] = provider.eu_api_url
    config = {"EMAIL_BACKEND": provider.backend, "ANYMAIL": settings}
    if "broadcast" in options:
        # Postmark sends newsletters apart from transactional mail, through a "Broadcasts"
        # message stream; without one they go through the default transactional stream.
        if not options["broadcast"].strip():
            raise ImproperlyConfigured(
                f"EMAIL_URL={shown!r}: broadcast= names the stream for marketing mails, "
                "the ID Postmark shows under Message Streams (e.g. broadcast)."
            )
        config["MESSAGING_MARKETING_ESP_EXTRA"] = {"MessageStream": options["broadcast"].strip()}
    return config


def _amazon_ses(url, provider, secrets_, region, options, settings) -> dict:
    shown = _redact_email(url)
    if importlib.util.find_spec("boto3") is None:
        raise ImproperlyConfigured(
            f"EMAIL_URL={shown!r}: Amazon SES needs the boto3 package; "
            "install it with pip install 'django-anymail[amazon-ses]'."
        )
    if secrets_ and (len(secrets_) != 2 or not all(secrets_)):
        raise ImproperlyConfigured(
            f"EMAIL_URL={shown!r}: give both access key id and secret, or neither "
            f"(then boto3 finds them itself); write it as {provider.example}."
        )
    params = {}
    if region or options.get("region"):
        params["region_name"] = region or options["region"]
    if secrets_:
        params["aws_access_key_id"], params["aws_secret_access_key"] = secrets_
    if params:
        settings["AMAZON_SES_CLIENT_PARAMS"] = params
    return {"EMAIL_BACKEND": provider.backend, "ANYMAIL": settings}


def _url_options(url: str, query: str, *, allowed: set[str]) -> dict[str, str]:
    try:
        options = {
            k: v[-1]
            for k, v in parse_qs(query, keep_blank_values=True, strict_parsing=bool(query)).items()
        }
    except ValueError:
        raise ImproperlyConfigured(
            f"EMAIL_URL={_redact_email(url)!r}: the part after ? must be name=value pairs."
        ) from None
    unknown = set(options) - allowed
    if unknown:
        known = ", ".join(sorted(allowed)) or "none"
        raise ImproperlyConfigured(
            f"EMAIL_URL={_redact_email(url)!r}: unknown option {sorted(unknown)[0]!r} "
            f"(known here: {known})."
        )
    return options


def _url_flag(url: str, name: str, value: str) -> bool:
    if value.lower() in _TRUE - {""}:
        return True
    if value.lower() in _FALSE - {""}:
        return False
    raise ImproperlyConfigured(f"EMAIL_URL={_redact_email(url)!r}: {name}= takes 1 or 0.")


def _url_seconds(url: str, value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 600:
        raise ImproperlyConfigured(
            f"EMAIL_URL={_redact_email(url)!r}: timeout= takes whole seconds from 1 to 600."
        )
    return int(value)


def _redact_email(url: str) -> str:
    """EMAIL_URL without its secrets (passwords and API keys) for error messages."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return "***" if len(url) > 12 else url
    netloc, slash, tail = rest.partition("/")
    netloc, question, query = netloc.partition("?")
    if "@" in netloc:
        userinfo, _at, host = netloc.rpartition("@")
        user, colon, _secret = userinfo.partition(":")
        if scheme.lower().startswith("anymail+"):
            user = "***"
        netloc = f"{user}{colon and ':***'}@{host}"
    elif scheme.lower().startswith("anymail+") and netloc:
        netloc = "***"
    if scheme.lower().startswith("anymail+") and tail:
        tail = "***"
    return f"{scheme}://{netloc}{question}{query}{slash}{tail}"
