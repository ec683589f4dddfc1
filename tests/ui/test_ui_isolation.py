"""Tenant isolation: a tenant-A key never sees a tenant-B row, from any page or API route."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.ui.conftest import Env, bearer

B_IDS = [f"b-task-{i}" for i in range(6)]


def _routes(cid: str, tenant: str) -> list[str]:
    q = f"?tenant={tenant}" if tenant else ""
    return [
        f"/tasks/{cid}{q}",
        f"/tasks/{cid}/events/2{q}",
        f"/tasks/{cid}/export.jsonl{q}",
        f"/tasks/{cid}/export.csv{q}",
        f"/api/tasks/{cid}{q}",
        f"/api/tasks/{cid}/events{q}",
        f"/api/tasks/{cid}/events/2{q}",
    ]


@pytest.mark.parametrize("cid", B_IDS[:2])
@pytest.mark.parametrize("tenant", ["", "tenant-b"])
def test_guessed_ids_of_another_tenant_answer_404(client: TestClient, env: Env, cid: str, tenant: str) -> None:
    for route in _routes(cid, tenant):
        response = client.get(route, headers=bearer(env.keys["a"]))
        assert response.status_code == 404, route
        assert "tenant-b" not in response.text, route
        assert "bob" not in response.text, route
    # The same routes answer the owner, so the 404s above are isolation, not broken routes.
    for route in _routes(cid, tenant):
        assert client.get(route, headers=bearer(env.keys["b"])).status_code == 200, route


def test_lists_and_searches_hold_only_own_tenant(client: TestClient, env: Env) -> None:
    key = bearer(env.keys["a"])
    queries = [
        "", "tenant=tenant-b", "q=secret", "q=tenant-b", "user=bob", "agent=assistant",
        "correlation_id=b-", "status=abnormal", "stop_reason=Maximum",
    ]  # fmt: skip
    for query in queries:
        api = client.get(f"/api/tasks?{query}&limit=500", headers=key)
        assert api.status_code == 200, query
        assert {t["tenant_id"] for t in api.json()["tasks"]} <= {"tenant-a"}, query
        page = client.get(f"/tasks?{query}", headers=key)
        assert page.status_code == 200, query
        rows = page.text.split("<tbody>", 1)[1].split("</tbody>", 1)[0]  # the form echoes the query
        for leaked in ("bob", "b-task", "tenant-b"):
            assert leaked not in rows, query
        assert '<option value="tenant-b"' not in page.text, query
    every = client.get("/api/tasks?limit=500", headers=key).json()["tasks"]
    assert len(every) == 7  # six tasks plus the shared id, all of tenant-a


def test_shared_correlation_id_resolves_to_own_tenant(client: TestClient, env: Env) -> None:
    for who, tenant, text in (("a", "tenant-a", "A&#39;s shared"), ("b", "tenant-b", "B&#39;s shared")):
        page = client.get("/tasks/shared-id", headers=bearer(env.keys[who]))
        assert page.status_code == 200
        assert text in page.text
        other = "tenant-b" if tenant == "tenant-a" else "tenant-a"
        assert client.get(f"/tasks/shared-id?tenant={other}", headers=bearer(env.keys[who])).status_code == 404
        events = client.get("/api/tasks/shared-id/events", headers=bearer(env.keys[who])).json()["events"]
        assert events
        assert {e["tenant_id"] for e in events} == {tenant}
    # An admin sees both and must choose.
    assert client.get("/tasks/shared-id", headers=bearer(env.keys["admin"])).status_code == 300
    assert client.get("/api/tasks/shared-id", headers=bearer(env.keys["admin"])).status_code == 404


def test_correlation_lookup_does_not_leak(client: TestClient, env: Env) -> None:
    lookup = client.get("/lookup?correlation_id=b-task-0", headers=bearer(env.keys["a"]), follow_redirects=False)
    assert lookup.status_code == 404
    own = client.get("/lookup?correlation_id=a-task-0", headers=bearer(env.keys["a"]), follow_redirects=False)
    assert own.status_code == 303
    assert own.headers["location"] == "/tasks/a-task-0?tenant=tenant-a"


def test_no_key_no_data(client: TestClient, env: Env) -> None:
    assert client.get("/api/tasks").status_code == 401
    assert client.get("/api/tasks", headers=bearer("aa_not-a-key")).status_code == 401
    page = client.get("/tasks/a-task-0", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"].startswith("/login?next=")
    assert client.get("/tasks/a-task-0/export.jsonl", headers=bearer("nope")).status_code == 401


def test_admin_endpoints_need_admin_bearer(client: TestClient, env: Env) -> None:
    body = {"sql": "SELECT count() FROM events"}
    assert client.post("/api/admin/sql", json=body, headers=bearer(env.keys["a"])).status_code == 403
    assert client.get("/api/admin/keys", headers=bearer(env.keys["a"])).status_code == 403
    ok = client.post("/api/admin/sql", json=body, headers=bearer(env.keys["admin"]))
    assert ok.status_code == 200
    assert ok.json()["rows"][0][0] > 0
    write = client.post("/api/admin/sql", json={"sql": "SELECT 1; DROP TABLE events"},
                        headers=bearer(env.keys["admin"]))  # fmt: skip
    assert write.status_code == 400
    assert client.post("/api/admin/sql", json=body, headers=bearer(env.keys["admin"])).status_code == 200
    keys = client.get("/api/admin/keys", headers=bearer(env.keys["admin"])).json()
    assert {k["name"] for k in keys} >= {"alice-auditor", "bob-auditor"}
    assert all("hash" not in str(k) for k in keys)
