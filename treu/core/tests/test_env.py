from __future__ import annotations

import importlib
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from treu.core import env


def test_it_defaults_to_a_sqlite_file_in_wal_mode(tmp_path):
    config = env.database_config("", default_sqlite=tmp_path / "treu.sqlite3")
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == str(tmp_path / "treu.sqlite3")
    assert "journal_mode=WAL" in config["OPTIONS"]["init_command"]


def test_it_reads_a_postgres_url(tmp_path):
    config = env.database_config(
        "postgres://shop:g%40heim@db.local:5433/treu?sslmode=require", default_sqlite=tmp_path / "x"
    )
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["NAME"], config["USER"], config["PASSWORD"]) == ("treu", "shop", "g@heim")
    assert (config["HOST"], config["PORT"]) == ("db.local", "5433")
    assert config["OPTIONS"] == {"sslmode": "require"}


@pytest.mark.parametrize(
    "url",
    [
        "mysql://root@localhost/treu",
        "postgres://localhost",
        "postgres://h:notaport/db",
        "sqlite://host/x",
    ],
)
def test_it_explains_a_broken_database_url(url, tmp_path):
    with pytest.raises(ImproperlyConfigured) as excinfo:
        env.database_config(url, default_sqlite=tmp_path / "x")
    assert "DATABASE_URL" in str(excinfo.value)


def test_it_hides_the_password_in_errors(tmp_path):
    with pytest.raises(ImproperlyConfigured) as excinfo:
        env.database_config("oracle://u:geheim@h/db", default_sqlite=tmp_path / "x")
    assert "geheim" not in str(excinfo.value)


def test_it_generates_a_secret_key_once(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = env.secret_key(tmp_path)
    assert len(first) >= 50
    assert env.secret_key(tmp_path) == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_the_environment_secret_key_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "from-env")
    assert env.secret_key(tmp_path) == "from-env"
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize(
    ("raw", "value"), [("1", True), ("yes", True), ("0", False), ("off", False)]
)
def test_it_reads_yes_no_values(raw, value, monkeypatch):
    monkeypatch.setenv("SOME_FLAG", raw)
    assert env.env_bool("SOME_FLAG") is value


def test_it_refuses_an_unclear_flag(monkeypatch):
    monkeypatch.setenv("SOME_FLAG", "vielleicht")
    with pytest.raises(ImproperlyConfigured):
        env.env_bool("SOME_FLAG")


def test_it_captures_mail_by_default_and_reads_smtp_urls():
    assert env.email_config("")["EMAIL_BACKEND"] == "treu.core.mail.CapturingBackend"
    smtp = env.email_config("smtp://user:pw@mail.example.de:587")
    assert smtp["EMAIL_HOST"] == "mail.example.de"
    assert smtp["EMAIL_USE_TLS"] is True
    smtps = env.email_config("smtps://user:pw@mail.example.de")
    assert (smtps["EMAIL_PORT"], smtps["EMAIL_USE_SSL"]) == (465, True)
    with pytest.raises(ImproperlyConfigured):
        env.email_config("pigeon://coop")


def test_smtp_urls_take_tls_and_timeout_options():
    relay = env.email_config("smtp://relay.example.de:25")
    assert (relay["EMAIL_PORT"], relay["EMAIL_USE_TLS"]) == (25, False)
    starttls = env.email_config("smtp://user:pass@relay.example.de:25?tls=1&timeout=5")
    assert (starttls["EMAIL_USE_TLS"], starttls["EMAIL_TIMEOUT"]) == (True, 5)
    assert env.email_config("smtp://user:pass@host:587?tls=0")["EMAIL_USE_TLS"] is False
    assert env.email_config("smtp://user:p%40ss@host")["EMAIL_HOST_PASSWORD"] == "p@ss"


@pytest.mark.parametrize(
    ("url", "backend", "anymail"),
    [
        ("anymail+brevo://xkeysib-abc", "brevo", {"BREVO_API_KEY": "xkeysib-abc"}),
        ("anymail+postmark://Tok-1", "postmark", {"POSTMARK_SERVER_TOKEN": "Tok-1"}),
        ("anymail+sendgrid://SG.ab.CD", "sendgrid", {"SENDGRID_API_KEY": "SG.ab.CD"}),
        ("anymail+resend://re_x", "resend", {"RESEND_API_KEY": "re_x"}),
        ("anymail+mailersend://mlsn.1", "mailersend", {"MAILERSEND_API_TOKEN": "mlsn.1"}),
        (
            "anymail+mailjet://Key:Se%2Fcret",
            "mailjet",
            {"MAILJET_API_KEY": "Key", "MAILJET_SECRET_KEY": "Se/cret"},
        ),
        ("anymail+mailgun://key-1", "mailgun", {"MAILGUN_API_KEY": "key-1"}),
        (
            "anymail+mailgun://key-1@mg.example.de?region=eu",
            "mailgun",
            {
                "MAILGUN_API_KEY": "key-1",
                "MAILGUN_SENDER_DOMAIN": "mg.example.de",
                "MAILGUN_API_URL": "https://api.eu.mailgun.net/v3",
            },
        ),
        (
            "anymail+sparkpost://k?region=EU&timeout=10",
            "sparkpost",
            {"SPARKPOST_API_KEY": "k", "SPARKPOST_API_URL": "https://api.eu.sparkpost.com/api/v1/"},
        ),
    ],
)
def test_it_reads_anymail_provider_urls(url, backend, anymail):
    config = env.email_config(url)
    assert config["EMAIL_BACKEND"] == f"anymail.backends.{backend}.EmailBackend"
    timeout = 10 if "timeout" in url else 30
    assert config["ANYMAIL"] == {"REQUESTS_TIMEOUT": timeout, **anymail}
    # Every backend named exists in the installed django-anymail.
    module, _cls = config["EMAIL_BACKEND"].rsplit(".", 1)
    assert importlib.import_module(module).EmailBackend


def test_postmark_marketing_mails_can_take_a_broadcast_stream():
    """Postmark wants newsletters in a broadcast stream, apart from transactional mail."""
    config = env.email_config("anymail+postmark://tok?broadcast=newsletter")
    assert config["ANYMAIL"] == {"REQUESTS_TIMEOUT": 30, "POSTMARK_SERVER_TOKEN": "tok"}
    assert config["MESSAGING_MARKETING_ESP_EXTRA"] == {"MessageStream": "newsletter"}
    assert "MESSAGING_MARKETING_ESP_EXTRA" not in env.email_config("anymail+postmark://tok")


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("anymail+pigeon://key", "knows no mail provider 'pigeon'"),
        ("anymail+postmark://", "lacks the provider's server token"),
        ("anymail+mailjet://only-key", "lacks the provider's api key and secret key"),
        ("anymail+postmark://tok@host", "write it as anymail+postmark://TOKEN"),
        ("anymail+postmark://tok?region=eu", "unknown option 'region'"),
        ("anymail+postmark://tok?broadcast=", "broadcast= names the stream"),
        ("anymail+brevo://key?broadcast=news", "unknown option 'broadcast'"),
        ("anymail+mailgun://key@d?region=us", "region= takes only eu"),
        ("anymail+brevo://a/b", "must be written %2F"),
        ("anymail+brevo://key?timeout=lang", "timeout= takes whole seconds"),
        ("smtp://host?tls=vielleicht", "tls= takes 1 or 0"),
        ("smtps://host?tls=1", "smtps:// is TLS from the start"),
        ("smtp://host:abc", "port that is not a number"),
        ("smtp://host?ssl=1", "unknown option 'ssl'"),
        ("mail.example.de", "is not a URL"),
    ],
)
def test_a_bad_email_url_is_refused_without_showing_the_secret(url, says):
    with pytest.raises(ImproperlyConfigured) as error:
        env.email_config(url)
    assert says in str(error.value)
    for secret in ("key", "tok", "only-key", "a/b"):
        if url.startswith("anymail+") and f"://{secret}" in url:
            assert f"://{secret}" not in str(error.value)


def test_amazon_ses_needs_boto3():
    if importlib.util.find_spec("boto3") is not None:
        pytest.skip("boto3 is installed here")
    with pytest.raises(ImproperlyConfigured, match="needs the boto3 package"):
        env.email_config("anymail+amazon_ses://AKIA:secret@eu-central-1")


def test_a_provider_url_reaches_the_settings_next_to_the_webhook_secret(tmp_path):
    script = (
        "from django.conf import settings as s; from django.core.mail import get_connection; "
        "c = get_connection(); print(type(c).__module__, c.server_token, "
        "sorted(s.ANYMAIL.items()))"
    )
    result = _run_treu(
        ["shell", "-c", script],
        TREU_VAR_DIR=str(tmp_path),
        EMAIL_URL="anymail+postmark://tok-123",
        ANYMAIL_WEBHOOK_SECRET="hook:pw",
    )
    assert result.returncode == 0, result.stderr
    assert "anymail.backends.postmark tok-123" in result.stdout
    assert "('POSTMARK_SERVER_TOKEN', 'tok-123')" in result.stdout
    assert "('WEBHOOK_SECRET', 'hook:pw')" in result.stdout


def test_a_broken_email_url_gives_one_clear_line(tmp_path):
    result = _run_treu(
        ["check"], EMAIL_URL="anymail+postmark://secret-tok@x", TREU_VAR_DIR=str(tmp_path)
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "EMAIL_URL" in result.stderr and "secret-tok" not in result.stderr


def _run_treu(args, **extra_env):
    root = Path(__file__).resolve().parents[3]
    environment = {"PATH": "/usr/bin:/bin", "HOME": str(root), **extra_env}
    return subprocess.run(  # noqa: S603
        [sys.executable, "-m", "treu", *args],
        cwd=root,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_broken_database_url_gives_one_clear_line(tmp_path):
    result = _run_treu(["check"], DATABASE_URL="mysql://x@y/z", TREU_VAR_DIR=str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "DATABASE_URL" in result.stderr and "Traceback" not in result.stderr


def test_an_unreachable_postgres_gives_one_clear_line(tmp_path):
    result = _run_treu(
        ["migrate", "--check"],
        DATABASE_URL="postgres://postgres@127.0.0.1:1/treu",
        TREU_VAR_DIR=str(tmp_path),
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "cannot reach PostgreSQL at 127.0.0.1:1/treu" in result.stderr


def test_production_defaults_are_safe(tmp_path):
    script = (
        "from django.conf import settings as s; "
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0, "
        "s.SECURE_SSL_REDIRECT)"
    )
    result = _run_treu(["shell", "-c", script], TREU_VAR_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-5:] == ["False", "True", "True", "True", "True"]


def test_huey_uses_sqlite_by_default_and_redis_when_configured(tmp_path):
    script = "from huey.contrib.djhuey import HUEY; print(type(HUEY).__name__)"
    default = _run_treu(["shell", "-c", script], TREU_VAR_DIR=str(tmp_path))
    assert default.stdout.split()[-1] == "SqliteHuey", default.stderr
    redis = _run_treu(
        ["shell", "-c", script], TREU_VAR_DIR=str(tmp_path), REDIS_URL="redis://127.0.0.1:6379/15"
    )
    assert redis.stdout.split()[-1] == "RedisHuey", redis.stderr


def test_production_serves_pages_with_hashed_static_files_after_collectstatic(tmp_path):
    production = {"TREU_VAR_DIR": str(tmp_path), "DEBUG": "0", "SECURE_SSL_REDIRECT": "0"}
    collected = _run_treu(["collectstatic", "--noinput", "-v0"], **production)
    assert collected.returncode == 0, collected.stderr
    script = (
        "from django.test import Client; r = Client().get('/login/', HTTP_HOST='localhost'); "
        "print(r.status_code, '/static/treu/treu.' in r.content.decode())"
    )
    result = _run_treu(["shell", "-c", script], **production)
    assert result.stdout.split()[-2:] == ["200", "True"], result.stderr
    css = [p.name for p in (tmp_path / "static" / "treu").iterdir() if p.suffix == ".css"]
    assert any(name != "treu.css" for name in css)  # a content-hashed copy for long caching
