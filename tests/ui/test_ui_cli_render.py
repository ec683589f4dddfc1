"""`tasks` and `sql` print the same text whether they open the store or go through the running `serve`
that owns it: the store hands back Python values, the service their JSON form."""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from audit_ui import UISettings, create_app
from audit_ui._state import jsonable
from collector._cli._access import SERVICE_FILE, store_dir
from collector._cli._output import render
from collector._cli.main import main
from collector._store._client import Store
from tests.ui._seed import seed
from tests.ui._server import serving

FORMATS = ("table", "json", "csv")


def over_the_wire(row: tuple[object, ...]) -> tuple[object, ...]:
    """A row as the CLI receives it from the service: jsonable() on the server, then JSON."""
    return tuple(json.loads(json.dumps(jsonable(list(row)))))


def test_python_and_json_values_render_alike() -> None:
    columns = ["started_at", "finished_at", "berlin", "digest", "pair", "times", "counts"]
    row = (
        dt.datetime(2025, 3, 1, 9, 0, 0, 71993),  # DateTime64(6, 'UTC') comes back naive
        dt.datetime(2025, 3, 1, 9, 0, 3),  # no microseconds
        dt.datetime(2025, 3, 1, 10, 0, tzinfo=ZoneInfo("Europe/Berlin")),
        b"\x00\xff",
        ("a", 1),
        [dt.datetime(2025, 3, 1, 9, 0)],
        {7: 2},
    )
    for fmt in FORMATS:
        assert render(columns, [row], fmt) == render(columns, [over_the_wire(row)], fmt), fmt
    assert json.loads(render(columns, [row], "json")) == {
        "started_at": "2025-03-01T09:00:00.071993+00:00",
        "finished_at": "2025-03-01T09:00:03+00:00",
        "berlin": "2025-03-01T10:00:00+01:00",
        "digest": "00ff",
        "pair": ["a", 1],
        "times": ["2025-03-01T09:00:00+00:00"],
        "counts": {"7": 2},
    }
    assert render(["started_at"], [row[:1]], "csv").splitlines() == ["started_at", "2025-03-01T09:00:00.071993+00:00"]


def test_tasks_through_the_service_prints_what_the_store_prints(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dsn = f"chdb://{tmp_path / 'store'}"
    directory = store_dir(dsn)
    assert directory is not None
    commands = [["tasks", "--format", fmt] for fmt in FORMATS]
    commands.append(["sql", "SELECT correlation_id, started_at, finished_at FROM tasks FINAL ORDER BY 1"])

    def printed() -> list[str]:
        outputs = []
        for command in commands:
            assert main(["--dsn", dsn, *command]) == 0
            outputs.append(capsys.readouterr().out)
        return outputs

    store = Store.open(dsn)
    try:
        seed(store)
        token = secrets.token_urlsafe(16)
        app = create_app(store, UISettings(cookie_secure=False, key_cache_s=0), service_token=token)
        with serving(app) as url:
            # What `serve` publishes: the CLI finds the store owned and goes through the service.
            service = {"url": url, "token": token, "pid": os.getpid()}
            (directory / SERVICE_FILE).write_text(json.dumps(service))
            try:
                with pytest.MonkeyPatch.context() as patch:
                    patch.setattr(Store, "open", None)  # nothing may open the store directly meanwhile
                    via_service = printed()
            finally:
                (directory / SERVICE_FILE).unlink()
    finally:
        store.close()
    direct = printed()
    assert "2025-03-01T09:00:00+00:00" in direct[0]
    assert via_service == direct
