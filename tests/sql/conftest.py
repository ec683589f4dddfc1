"""A seeded chdb store per test module (a chdb path belongs to one process, one path at a time)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench._seed_store import Seeded, seed_store
from collector._store._client import Store


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    dsn = f"chdb://{tmp_path_factory.mktemp('sqlstore')}"
    store = Store.open(dsn)
    summary = seed_store(store, events=50_000, tasks=500)
    yield Seeded(store, summary, dsn)
    store.close()
