"""Pages and API over a real seeded chdb store: filters, keyset pages, export, login, headers, XSS."""

from __future__ import annotations

import csv
import io
import json
import re

from fastapi.testclient import TestClient

from tests.ui._seed import LONG_TEXT, XSS
from tests.ui.conftest import Env, bearer


def test_keyset_pages_cover_every_task_once_newest_first(client: TestClient, env: Env) -> None:
    key = bearer(env.keys["admin"])
    seen: list[tuple[str, str, str]] = []
    url = "/api/tasks?limit=5"
    while url:
        body = client.get(url, headers=key).json()
        seen += [(t["started_at"], t["tenant_id"], t["correlation_id"]) for t in body["tasks"]]
        url = f"/api/tasks?limit=5&after={body['next_cursor']}" if body["next_cursor"] else ""
    assert len(seen) == len(set(seen)) == 14
    assert seen == sorted(seen, reverse=True)
    assert client.get("/api/tasks?after=garbage", headers=key).status_code == 400


def test_filters(client: TestClient, env: Env) -> None:
    key = bearer(env.keys["admin"])

    def ids(query: str) -> set[str]:
        response = client.get(f"/api/tasks?limit=500&{query}", headers=key)
        assert response.status_code == 200, response.text
        return {t["correlation_id"] for t in response.json()["tasks"]}

    assert ids("tenant=tenant-b&stop_reason=maximum") == {"b-task-2", "b-task-5"}
    assert ids("status=abnormal&tenant=tenant-a") == {"a-task-2", "a-task-5"}
    assert ids("user=bob&since=2025-03-01T09:03:00&until=2025-03-01T09:05:00") == {"b-task-3", "b-task-4"}
    assert ids("q=SECRET plan 4") == {"a-task-4", "b-task-4"}
    assert ids("q=50%25") == set()  # LIKE wildcards in the search are literal
    assert ids("agent=critic") == ids("")
    assert ids("agent=nobody") == set()
    assert ids("correlation_id=a-task") == {f"a-task-{i}" for i in range(6)}
    assert client.get("/api/tasks?status=bogus", headers=key).status_code == 400


def test_times_and_seqs_out_of_the_stores_range_are_answered_not_crashed(env: Env) -> None:
    # Years before 1000 (strftime wrote "1-01-01", which the query parameter cannot parse) and a
    # negative seq (the UInt64 parameter) each gave a bare 500.
    client = TestClient(env.app, base_url="http://127.0.0.1", raise_server_exceptions=False)
    key = bearer(env.keys["admin"])

    def ids(query: str) -> set[tuple[str, str]]:
        response = client.get(f"/api/tasks?limit=500&{query}", headers=key)
        assert response.status_code == 200, response.text
        return {(t["tenant_id"], t["correlation_id"]) for t in response.json()["tasks"]}

    everything = ids("")
    assert len(everything) == 14
    for early in ("0001-01-01", "0999-06-01", "0001-01-01T00:00%2B14:00", "1899-12-31"):
        assert ids(f"since={early}") == everything, early
        assert ids(f"until={early}") == set(), early
    for late in ("9999-12-31T23:59:59", "9999-12-31T23:59-14:00", "2300-01-01"):
        assert ids(f"until={late}") == everything, late
        assert ids(f"since={late}") == set(), late
    assert client.get("/tasks?since=0001-01-01", headers=key).status_code == 200
    for seq in ("-1", "18446744073709551616"):
        for path in (f"/api/tasks/shared-id/events/{seq}", f"/tasks/shared-id/events/{seq}"):
            assert client.get(path, params={"tenant": "tenant-a"}, headers=key).status_code == 404, path


def test_timeline_page_shows_everything_escaped(client: TestClient, env: Env) -> None:
    page = client.get("/tasks/a-task-1?tenant=tenant-a", headers=bearer(env.keys["a"]))
    assert page.status_code == 200
    html = page.text
    assert "<script>window" not in html
    assert "onerror=" not in html.replace("onerror=&#34;", "")
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html
    assert re.search(r'<mark class="redacted"[^>]*>&lt;EMAIL_ADDRESS&gt;</mark>', html)
    assert '<details class="long">' in html
    assert "line 119 of a very long answer." in html
    assert "tone-drop" in html
    assert "tone-error" in html
    assert "ValueError: bad input" in html
    assert "lookup_order" in html
    assert "shipped" in html
    assert "stop_reason: <strong>Text &#39;TERMINATE&#39; mentioned</strong>" in html
    assert html.index("#0</a>") < html.index("#5</a>") < html.index("#8</a>")


def test_security_headers(client: TestClient, env: Env) -> None:
    response = client.get("/tasks", headers=bearer(env.keys["a"]))
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "script-src" not in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"


def test_event_detail_and_exports_match_the_store(client: TestClient, env: Env) -> None:
    key = bearer(env.keys["a"])
    detail = client.get("/tasks/a-task-0/events/5?tenant=tenant-a", headers=key)
    assert detail.status_code == 200
    assert LONG_TEXT[-40:] in detail.text
    _, rows = env.store.query(
        "SELECT * FROM events WHERE tenant_id = 'tenant-a' AND correlation_id = 'a-task-1' ORDER BY seq"
    )
    columns, _ = env.store.query("SELECT * FROM events LIMIT 0")
    lines = client.get("/tasks/a-task-1/export.jsonl", headers=key).text.splitlines()
    assert len(lines) == len(rows) == 9
    exported = [json.loads(line) for line in lines]
    assert list(exported[0]) == columns  # every column
    assert [e["content"] for e in exported] == [r[columns.index("content")] for r in rows]
    assert exported[2]["redaction"] == {"EMAIL_ADDRESS": 1, "PERSON": 1}
    table = list(csv.reader(io.StringIO(client.get("/tasks/a-task-1/export.csv", headers=key).text)))
    assert table[0] == columns
    assert len(table) == 10
    assert XSS in table[1][columns.index("content")]


def test_login_sets_a_strict_session_and_checks_csrf(client: TestClient, env: Env) -> None:
    client.cookies.clear()
    form = client.get("/login?next=/tasks/a-task-0")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf
    data = {"key": env.keys["a"], "csrf": csrf.group(1), "next": "/tasks/a-task-0"}
    cross = client.post("/login", data=data, headers={"Origin": "http://evil.example"}, follow_redirects=False)
    assert cross.status_code == 400
    bad = client.post("/login", data={**data, "csrf": "forged"}, follow_redirects=False)
    assert bad.status_code == 400
    wrong = client.post("/login", data={**data, "key": "aa_wrong"}, follow_redirects=False)
    assert wrong.status_code == 401
    form = client.get("/login")
    data["csrf"] = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    ok = client.post("/login", data=data, headers={"Origin": "http://127.0.0.1"}, follow_redirects=False)
    assert ok.status_code == 303
    assert ok.headers["location"] == "/tasks/a-task-0"
    cookie = ok.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie.replace("Strict", "strict")
    assert env.keys["a"] not in cookie
    page = client.get("/tasks")
    assert page.status_code == 200
    assert "alice-auditor" in page.text
    assert "b-task" not in page.text
    client.cookies.clear()


def test_open_redirect_after_login_is_refused(client: TestClient, env: Env) -> None:
    client.cookies.clear()
    form = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    data = {"key": env.keys["a"], "csrf": csrf, "next": "//evil.example/x"}
    ok = client.post("/login", data=data, follow_redirects=False)
    assert ok.headers["location"] == "/tasks"
    client.cookies.clear()


def test_openapi_schema_lists_the_api(client: TestClient) -> None:
    paths = client.get("/api/openapi.json").json()["paths"]
    assert {"/api/tasks", "/api/tasks/{correlation_id}", "/api/tasks/{correlation_id}/events"} <= set(paths)
