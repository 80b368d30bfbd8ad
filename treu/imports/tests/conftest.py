from __future__ import annotations

import shutil
from pathlib import Path

import pytest

FILES = Path(__file__).parent / "files"


@pytest.fixture(autouse=True)
def _var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"


@pytest.fixture
def store(db):
    """The demo's two shops: the online shop (Shopify) and the store's till."""
    from treu.commerce.models import ShopKind
    from treu.commerce.tests.factories import ShopFactory

    ShopFactory(code="laden", name="Laden Röstkontor", kind=ShopKind.POS, is_store=True)
    return ShopFactory(code="online", name="Onlineshop", kind=ShopKind.SHOPIFY)


@pytest.fixture
def fixture_file(tmp_path):
    """fixture_file("name.csv") -> a private copy of a test file (imports may delete theirs)."""

    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copyfile(FILES / name, target)
        return target

    return copy


@pytest.fixture
def write_file(tmp_path):
    def write(content: str | bytes, *, name: str = "upload.csv", encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
        return path

    return write


@pytest.fixture
def run_file(store):
    """run_file(path, format="auto", dry_run=False, shop=store) -> the finished ImportJob."""
    from treu.imports import services

    def run(path, *, format="auto", dry_run=False, shop=None):
        job = services.create_import_job(
            path=path, shop=shop or store, requested_format=format, dry_run=dry_run
        )
        return services.run_import(job.pk)

    return run
