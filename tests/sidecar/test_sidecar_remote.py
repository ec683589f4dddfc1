"""Two app processes in remote mode + one sidecar process on loopback: every event once, attributed."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from collector import Store

from ._procs import ROOT, TOKEN, Sidecar, env

RUNS = 10


@pytest.fixture
def sidecar(tmp_path: Path) -> Iterator[Sidecar]:
    car = Sidecar(f"chdb://{tmp_path / 'store'}", tmp_path / "sidecar.log")
    try:
        yield car
    finally:
        car.stop()


def test_two_remote_apps_10_concurrent_runs_each_land_once_and_attributed(sidecar: Sidecar, tmp_path: Path) -> None:
    app_env = env(AUDIT_SIDECAR_URL=sidecar.url, AUDIT_CAPTURE_LOGGERS="true")
    # The apps start before the sidecar is ready: their first deliveries fail and are retried.
    # One of them gzips its bodies (AUDIT_REMOTE_GZIP), the other sends them as they are.
    apps = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.sidecar._remote_app", name, str(RUNS)],
            env={**app_env, "AUDIT_REMOTE_GZIP": gzip}, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        for name, gzip in (("alpha", "false"), ("beta", "true"))
    ]  # fmt: skip
    try:
        sidecar.wait_ready()
        outputs = [app.communicate(timeout=120) for app in apps]
    finally:
        for app in apps:
            if app.poll() is None:
                app.kill()
                app.wait(5)
    reports = []
    for (out, err), app in zip(outputs, apps, strict=True):
        assert app.returncode == 0, err.decode()[-3000:]
        assert TOKEN.encode() not in out + err
        reports.append(json.loads(out.decode().strip().splitlines()[-1]))
    health = sidecar.health()
    assert sidecar.stop() == 0
    assert TOKEN not in sidecar.log_path.read_text()

    for report in reports:
        assert report["sink"] == "RemoteSink"
        assert report["ok"] is True
        assert report["lost"] == 0
        assert report["acknowledged"] == report["accepted"] > 0
    expected = {corr: (tenant, marker) for r in reports for corr, tenant, marker in r["runs"]}
    assert len(expected) == 2 * RUNS

    store = Store.open(f"chdb://{tmp_path / 'store'}")
    try:
        _, [(total, unique)] = store.query("SELECT count(), uniqExact(event_id) FROM events")
        assert total == unique == sum(r["accepted"] for r in reports), health
        _, rows = store.query("SELECT correlation_id, tenant_id, content, kind FROM events")
        for corr, tenant, content, _kind in rows:
            assert corr in expected
            want_tenant, marker = expected[corr]
            assert tenant == want_tenant
            other_markers = {m for t, m in expected.values()} - {marker}
            assert not any(m in content for m in other_markers)
            assert "jane.doe@example.com" not in content
        _, per_task = store.query(
            "SELECT correlation_id, countIf(kind='task_start'), countIf(kind='task_result'), countIf(kind='loss') "
            "FROM events GROUP BY correlation_id"
        )
        assert len(per_task) == 2 * RUNS
        assert all(row[1:] == (1, 1, 0) for row in per_task), per_task
        _, tasks = store.query("SELECT status, lost_events, count() FROM tasks FINAL GROUP BY status, lost_events")
        assert tasks == [("normal", 0, 2 * RUNS)]
    finally:
        store.close()
