"""`verify` never reads "nothing there" as a pass: a mistyped --dsn or --tenant verified nothing and
exited 0, and the chdb path was created on the way."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from collector import Store
from collector._cli.main import main

from ._support import Rig


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory, redactor: object) -> Iterator[Rig]:
    base = tmp_path_factory.mktemp("verify-empty")
    store = Store.open(f"chdb://{base / 'store'}")
    rig = Rig(store, redactor, base / "keys")
    rig.run_task("t-real", "t-real-a", 3)
    rig.seal()
    yield rig
    rig.close()
    store.close()


def test_a_store_path_that_does_not_exist_is_an_error_and_is_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    typo = tmp_path / "audit-dat"
    assert main(["--dsn", f"chdb://{typo}", "verify"]) == 2
    assert "no store at" in capsys.readouterr().err
    assert not typo.exists()


def test_a_tenant_with_nothing_stored_is_not_a_pass(rig: Rig, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--dsn", rig.store.dsn, "verify", "--tenant", "t-reall"]) == 1
    assert "EMPTY tenant t-reall: 0 events" in capsys.readouterr().out
    assert main(["--dsn", rig.store.dsn, "verify", "--tenant", "t-reall", "--format", "json"]) == 1
    capsys.readouterr()
    assert main(["--dsn", rig.store.dsn, "verify", "--tenant", "t-real"]) == 0
    assert "INTACT tenant t-real: 3 events" in capsys.readouterr().out


def test_a_hold_on_a_task_nothing_is_stored_of_is_refused_unless_asked_for(
    rig: Rig, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUDIT_KEY_DIR", str(Path(rig.integrity.key_dir)))
    place = ["--dsn", rig.store.dsn, "hold", "place", "--tenant", "t-real", "--reason", "case 9", "--actor", "legal"]
    assert main([*place, "--task", "t-real-b"]) == 2  # a typo of t-real-a: that task would stay unprotected
    assert "nothing of task t-real-b is stored" in capsys.readouterr().err
    assert main([*place, "--task", "t-real-a"]) == 0
    assert main([*place, "--task", "t-real-b", "--unknown-task-ok"]) == 0
    out = capsys.readouterr().out
    assert "placed hold" in out and "task t-real-a" in out and "task t-real-b" in out
