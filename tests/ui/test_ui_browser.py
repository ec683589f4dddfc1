"""The real pages in headless Chromium (Debian's /usr/bin/chromium) against a real uvicorn + chdb."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from audit_ui import UISettings, add_key, create_app
from collector._store._client import Store
from tests.ui._seed import LONG_TEXT, seed
from tests.ui._server import serving

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    store = Store.open(f"chdb://{tmp_path_factory.mktemp('browser-store')}")
    seed(store)
    keys = {
        "both": add_key(store, "support-lead", ["tenant-a", "tenant-b"], admin=False),
        "a": add_key(store, "alice-auditor", ["tenant-a"], admin=False),
    }
    app = create_app(store, UISettings(cookie_secure=False, key_cache_s=0))
    from playwright.sync_api import sync_playwright

    with serving(app) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield {"url": url, "keys": keys, "store": store, "browser": browser}
        browser.close()
    store.close()


def _login(site: dict[str, Any], key: str) -> Any:
    context = site["browser"].new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.goto(site["url"] + "/tasks")
    assert "/login" in page.url  # no key, no data
    page.fill("#key", key)
    page.click("button:has-text('Log in')")
    page.wait_for_url("**/tasks")
    return page


def test_auditor_filters_opens_a_timeline_expands_and_exports(site: dict[str, Any], tmp_path: Path) -> None:
    page = _login(site, site["keys"]["both"])
    assert page.locator("table.tasks tbody tr").count() == 14
    page.select_option("select[name=tenant]", "tenant-b")
    page.fill("input[name=stop_reason]", "Maximum number")
    page.click("button:has-text('Filter')")
    page.wait_for_url("**stop_reason=*")
    ids = page.locator("table.tasks a.cid").all_inner_texts()
    assert ids == ["b-task-5", "b-task-2"]  # newest first
    page.click("text=b-task-5")
    page.wait_for_url("**/tasks/b-task-5?tenant=tenant-b")
    assert page.locator("li.event").count() == 9

    long_event = page.locator("#ev-5 details.long")
    full = long_event.locator("pre.content")
    assert not full.is_visible()  # collapsed until asked
    long_event.locator("summary").click()
    assert full.is_visible()
    assert full.inner_text() == LONG_TEXT
    assert page.locator("#ev-2 mark.redacted").first.inner_text() == "<EMAIL_ADDRESS>"

    with page.expect_download() as info:
        page.click("text=JSONL")
    path = tmp_path / "task.jsonl"
    info.value.save_as(path)
    exported = [json.loads(line) for line in path.read_text().splitlines()]
    _, rows = site["store"].query(
        "SELECT seq, content, payload FROM events "
        "WHERE tenant_id = 'tenant-b' AND correlation_id = 'b-task-5' ORDER BY seq"
    )
    assert [(e["seq"], e["content"], e["payload"]) for e in exported] == [tuple(r) for r in rows]
    assert {e["tenant_id"] for e in exported} == {"tenant-b"}
    page.context.close()


def test_agent_content_is_inert(site: dict[str, Any]) -> None:
    page = _login(site, site["keys"]["a"])
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(site["url"] + "/tasks/a-task-1?tenant=tenant-a")
    page.hover("#ev-1 pre.content")
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator("script").count() == 0
    assert page.locator("main img, main [onerror], main [onmouseover], main a[href^='javascript:']").count() == 0
    assert "<script>window.__pwned=1</script>" in page.locator("#ev-1 pre.content").inner_text()
    assert dialogs == []
    page.context.close()


def test_another_tenants_task_is_not_found_in_the_browser(site: dict[str, Any]) -> None:
    page = _login(site, site["keys"]["a"])
    response = page.goto(site["url"] + "/tasks/b-task-0?tenant=tenant-b")
    assert response is not None
    assert response.status == 404
    assert "secret plan" not in page.content()
    page.goto(site["url"] + "/tasks?q=tenant-b")
    assert page.locator("table.tasks a.cid").count() == 0
    page.context.close()
