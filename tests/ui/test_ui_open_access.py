"""`serve --demo`'s keyless access: only while no key is active, and never for a refused credential.

Each test starts from what `serve --demo` builds on 127.0.0.1 when no key exists yet: open access
on, and the service token the CLI uses (`keys add` goes through the running service).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from audit_ui import UISettings, create_app
from collector._store._client import Store
from tests.ui._seed import seed
from tests.ui.conftest import bearer

SERVICE = bearer("svc-token")


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[TestClient]:
    store = Store.open(f"chdb://{tmp_path / 'store'}")
    try:
        seed(store)
        # A long key cache: whatever ends open access below does so at once, not when the cache expires.
        settings = UISettings(open_access=True, cookie_secure=False, key_cache_s=60)
        app = create_app(store, settings, service_token="svc-token")
        with TestClient(app, base_url="http://127.0.0.1") as client:
            yield client
    finally:
        store.close()


def _tenants(client: TestClient, headers: dict[str, str] | None = None) -> set[str]:
    response = client.get("/api/tasks?limit=500", headers=headers)
    assert response.status_code == 200, response.text
    return {t["tenant_id"] for t in response.json()["tasks"]}


def _login(client: TestClient, key: str) -> None:
    form = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    ok = client.post("/login", data={"key": key, "csrf": csrf, "next": "/tasks"}, follow_redirects=False)
    assert ok.status_code == 303


def test_first_key_created_through_the_service_ends_keyless_access(
    demo: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    assert _tenants(demo) == {"tenant-a", "tenant-b"}  # keyless demo admin while no key exists
    made = demo.post("/api/admin/keys", json={"name": "alice", "tenants": ["tenant-a"]}, headers=SERVICE)
    assert made.status_code == 200
    alice = bearer(made.json()["key"])
    assert _tenants(demo, alice) == {"tenant-a"}
    assert demo.get("/api/tasks/b-task-0", headers=alice).status_code == 404

    # Alice (or anyone) dropping the key is no longer the demo admin: no tenant, no SQL, no keys.
    with caplog.at_level(logging.INFO, logger="audit_ui"):
        assert demo.get("/api/tasks?limit=500").status_code == 401
        assert demo.get("/api/tasks/b-task-0/events").status_code == 401
        page = demo.get("/tasks", follow_redirects=False)
        assert page.status_code == 303
        assert page.headers["location"].startswith("/login?next=")
        sql = {"sql": "SELECT name, key_hash FROM api_keys"}
        assert demo.post("/api/admin/sql", json=sql).status_code == 401
        assert demo.post("/api/admin/keys", json={"name": "root", "admin": True}).status_code == 401
    ended = [r for r in caplog.records if "keyless demo access has ended" in r.getMessage()]
    assert len(ended) == 1  # once, not per request
    assert made.json()["key"] not in caplog.text
    # The CLI's service token still administers the service.
    assert demo.get("/api/admin/keys", headers=SERVICE).status_code == 200


def test_revoked_session_is_refused_not_made_demo_admin(demo: TestClient) -> None:
    key = demo.post("/api/admin/keys", json={"name": "alice", "tenants": ["tenant-a"]}, headers=SERVICE).json()
    _login(demo, key["key"])
    assert "b-task" not in demo.get("/tasks").text
    session = demo.cookies["aa_session"]
    # Revoking the only key does not bring keyless access back, for her cookie or anyone.
    assert demo.post("/api/admin/keys/alice/revoke", headers=SERVICE).status_code == 200
    page = demo.get("/tasks", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"].startswith("/login?next=")
    assert any(c.startswith("aa_session=") and "Max-Age=0" in c for c in page.headers.get_list("set-cookie"))
    assert "aa_session" not in demo.cookies  # cleared, so the browser stops presenting it
    demo.cookies.set("aa_session", session, domain="127.0.0.1")
    assert demo.get("/api/tasks?limit=500").status_code == 401
    assert "aa_session" not in demo.cookies
    # Without a credential neither: once a key existed, every request needs one.
    assert demo.get("/api/tasks?limit=500").status_code == 401
    assert demo.post("/api/admin/sql", json={"sql": "SELECT 1"}).status_code == 401


def test_bad_credentials_are_refused_while_no_key_exists(demo: TestClient) -> None:
    assert demo.get("/api/tasks", headers=bearer("aa_not-a-key")).status_code == 401
    assert demo.get("/api/tasks", headers={"Authorization": "Basic Zm9vOmJhcg=="}).status_code == 401
    demo.cookies.set("aa_session", "Zm9yZ2Vk.0000", domain="127.0.0.1")
    assert demo.get("/api/tasks").status_code == 401
    assert "aa_session" not in demo.cookies
    assert _tenants(demo) == {"tenant-a", "tenant-b"}  # nothing presented: the demo admin


def test_a_key_made_and_revoked_at_once_still_ends_keyless_access(demo: TestClient) -> None:
    assert _tenants(demo) == {"tenant-a", "tenant-b"}
    assert demo.post("/api/admin/keys", json={"name": "leaked", "admin": True}, headers=SERVICE).status_code == 200
    assert demo.post("/api/admin/keys/leaked/revoke", headers=SERVICE).status_code == 200
    assert demo.get("/api/tasks?limit=500").status_code == 401
