from __future__ import annotations

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
