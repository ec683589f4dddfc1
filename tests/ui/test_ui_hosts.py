"""A loopback-bound service answers only requests addressed to a loopback host (DNS rebinding).

A web page in the operator's browser can point a name it controls at 127.0.0.1; the browser then
sends it the demo service's answers. Those requests carry the page's name in Host: refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from audit_ui import UISettings, create_app
from audit_ui._hosts import is_loopback_host
from collector._cli.serve import guard_loopback_hosts
from collector._store._client import Store
from tests.ui._seed import seed


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1:8000", True),
        ("127.0.0.1", True),
        ("localhost:8000", True),
        ("LOCALHOST", True),
        ("[::1]:8000", True),
        ("[::1]", True),
        ("::1", True),
        ("rebind.attacker.example:8000", False),
        ("127.0.0.1.attacker.example", False),
        ("localhost.attacker.example:8000", False),
        ("10.0.0.5:8000", False),
        ("[::1", False),
        ("", False),
    ],
)
def test_loopback_host_names(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[TestClient]:
    store = Store.open(f"chdb://{tmp_path / 'store'}")
    try:
        seed(store)
        app = create_app(store, UISettings(open_access=True, cookie_secure=False))
        guard_loopback_hosts(app)  # what `serve` does on a loopback bind
        with TestClient(app, base_url="http://127.0.0.1:8000") as client:
            yield client
    finally:
        store.close()


def test_a_rebound_name_reads_nothing_of_the_demo_service(demo: TestClient) -> None:
    assert demo.get("/api/tasks").status_code == 200  # keyless demo access, from the loopback name
    for host in ("rebind.attacker.example:8000", "attacker.example"):
        for path in ("/api/tasks", "/tasks", "/api/admin/keys"):
            response = demo.get(path, headers={"Host": host})
            assert response.status_code == 421
            assert "tenant" not in response.text
        minted = demo.post("/api/admin/keys", json={"name": "x", "admin": True}, headers={"Host": host})
        assert minted.status_code == 421
    assert demo.get("/api/tasks", headers={"Host": "localhost:8000"}).status_code == 200
