"""Fixtures of the UI tests: one real chdb store per module, seeded, with keys for two tenants."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from audit_ui import UISettings, add_key, create_app
from collector._store._client import Store
from tests.ui._seed import seed


@dataclass(frozen=True)
class Env:
    store: Store
    keys: dict[str, str]
    app: Any


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    path = tmp_path_factory.mktemp("ui-store")
    store = Store.open(f"chdb://{path}")
    seed(store)
    keys = {
        "a": add_key(store, "alice-auditor", ["tenant-a"], admin=False),
        "b": add_key(store, "bob-auditor", ["tenant-b"], admin=False),
        "admin": add_key(store, "root", [], admin=True),
    }
    app = create_app(store, UISettings(cookie_secure=False, key_cache_s=0))
    yield Env(store, keys, app)
    store.close()


@pytest.fixture(scope="module")
def client(env: Env) -> Iterator[TestClient]:
    with TestClient(env.app, base_url="http://127.0.0.1") as c:
        yield c


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
