"""Fixtures shared by every test package: real Presidio, real chdb, real AutoGen runtime."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")


@pytest.fixture(scope="session")
def redactor():  # type: ignore[no-untyped-def]
    """One real Presidio redactor (NER on, as in production) for the whole run: it takes ~1 s to build."""
    from redaction import Redactor

    return Redactor()


@pytest.fixture
def store_dsn(tmp_path: Path) -> str:
    return f"chdb://{tmp_path / 'store'}"


@pytest.fixture
def store(store_dsn: str) -> Iterator[object]:
    """A fresh chdb store, closed at teardown: chdb serves one path per process at a time."""
    from collector import Store

    opened = Store.open(store_dsn)
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def module_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A chdb store shared by the tests of one module (a chdb path has one owner process)."""
    from collector import Store

    store = Store.open(f"chdb://{tmp_path_factory.mktemp('store') / 'data'}")
    yield store
    store.close()
