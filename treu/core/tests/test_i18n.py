"""German is the default and complete; English is complete by construction (English msgids)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parents[3]
LOCALE = ROOT / "treu" / "locale"
PO = LOCALE / "de" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


def test_the_german_catalog_is_complete():
    catalog = polib.pofile(str(PO))
    untranslated = [e.msgid for e in catalog.untranslated_entries()]
    fuzzy = [e.msgid for e in catalog.fuzzy_entries()]
    assert untranslated == [], f"Untranslated German strings: {untranslated[:20]}"
    assert fuzzy == [], f"Fuzzy German strings need a look: {fuzzy[:20]}"


def test_the_compiled_german_catalog_matches_the_source():
    source = {
        (e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural
        for e in polib.pofile(str(PO)).translated_entries()
    }
    compiled = {(e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural for e in polib.mofile(str(MO))}
    compiled.pop((None, ""), None)
    assert compiled == source, (
        "Run `make messages` to recompile treu/locale/de/LC_MESSAGES/django.mo"
    )


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="gettext tools are not installed")
def test_every_string_in_the_code_is_in_the_catalog(tmp_path):
    copy = tmp_path / "treu"
    shutil.copytree(ROOT / "treu", copy, ignore=shutil.ignore_patterns("__pycache__", "tests"))
    subprocess.run(  # noqa: S603
        [
            # This interpreter's Django: PATH need not contain the venv's bin directory.
            sys.executable,
            "-m",
            "django",
            "makemessages",
            "-l",
            "de",
            "--no-obsolete",
        ],
        cwd=copy,
        check=True,
        capture_output=True,
    )
    fresh = polib.pofile(str(copy / "locale" / "de" / "LC_MESSAGES" / "django.po"))
    missing = [e.msgid for e in fresh.untranslated_entries() + fresh.fuzzy_entries()]
    assert missing == [], (
        f"New strings without German translation (run `make messages`): {missing[:20]}"
    )


@pytest.mark.django_db
def test_pages_are_german_by_default_and_english_on_request(client):
    german = client.get("/login/")
    assert german["Content-Language"] == "de"
    assert "Anmelden" in german.content.decode()
    client.cookies["django_language"] = "en"
    english = client.get("/login/")
    assert english["Content-Language"] == "en"
    assert "Log in" in english.content.decode()
