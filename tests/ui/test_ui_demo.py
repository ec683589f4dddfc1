"""`serve --demo`'s path end to end: real demo team runs recorded, then browsed keyless in Chromium.

It also takes the README's timeline screenshot (docs/img/timeline.png) from real demo data.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from audit_ui import UISettings, create_app
from collector._store._client import Store
from tests.ui._server import serving

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "docs" / "img" / "timeline.png"


def test_demo_runs_are_browsable_at_once(tmp_path: Path) -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    dsn = f"chdb://{tmp_path / 'store'}"
    # In a child process: the demo's own store handle stays open after it returns (see the report),
    # and chdb allows one store path per process, which would break the next test module's store.
    recorded = subprocess.run(
        [sys.executable, "-m", "collector", "--dsn", dsn, "demo"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert recorded.returncode == 0, recorded.stderr[-2000:]
    store = Store.open(dsn)
    from playwright.sync_api import sync_playwright

    try:
        app = create_app(store, UISettings(open_access=True, cookie_secure=False))
        with serving(app) as url, sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
            )
            page = browser.new_page(viewport={"width": 1280, "height": 1400})
            page.goto(url + "/tasks")
            assert page.locator(".demo-badge").is_visible()
            assert page.locator("table.tasks tbody tr").count() >= 12
            page.select_option("select[name=status]", "abnormal")
            page.click("button:has-text('Filter')")
            page.wait_for_url("**status=abnormal*")
            page.locator("table.tasks a.cid").first.click()
            page.wait_for_url("**/tasks/*?tenant=*")
            assert page.locator("li.event").count() > 10
            assert page.locator("li.event mark.redacted").count() > 0  # the planted PII shows as redacted
            assert "Maximum number of messages" in page.locator(".outcome").inner_text()
            shot = tmp_path / "timeline.png"
            page.screenshot(path=str(shot))
            assert shot.stat().st_size > 10_000
            # Written into the docs once (or when asked), so test runs do not churn a committed binary.
            if not SCREENSHOT.exists() or os.environ.get("UPDATE_SCREENSHOTS") == "1":
                SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(shot, SCREENSHOT)
            browser.close()
    finally:
        store.close()
