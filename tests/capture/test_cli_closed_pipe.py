"""Output into a pipe whose reader went away (`autogen-audit tasks | head -1`) ends quietly, in every command:
no traceback, the exit status of a process that SIGPIPE ended (141), as `cat` or `grep` would."""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from collector._cli.main import main
from collector._store._client import Store
from tests.ui._seed import TASK_COLUMNS, task

ROOT = Path(__file__).resolve().parents[2]
# The installed console script, running this checkout's code (PYTHONPATH puts ROOT first).
SCRIPT = Path(sys.executable).with_name("autogen-audit")
CLI = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "collector"]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
SIGPIPE_STATUS = 128 + 13
TASKS = 3000  # `tasks --limit 3000` prints far more than a pipe buffers, so `head -1` leaves first


@pytest.fixture(scope="module")
def dsn(tmp_path_factory: pytest.TempPathFactory) -> str:
    dsn = f"chdb://{tmp_path_factory.mktemp('pipe') / 'store'}"
    store = Store.open(dsn)
    start = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)
    rows = [task("tenant-a", f"task-{i:05d}", "alice", start + dt.timedelta(seconds=i)) for i in range(TASKS)]
    store.insert("tasks", rows, TASK_COLUMNS)
    store.close()  # the subprocesses open it: a chdb path has one owner process
    return dsn


def test_tasks_piped_into_head(dsn: str) -> None:
    shell = 'set -o pipefail; "$@" | head -1'
    done = subprocess.run(["bash", "-c", shell, "bash", *CLI, "--dsn", dsn, "tasks", "--limit", str(TASKS)],
                          cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert "Traceback" not in done.stderr and "BrokenPipeError" not in done.stderr, done.stderr
    assert done.stdout.startswith("tenant_id") and done.stdout.count("\n") == 1
    assert done.returncode == SIGPIPE_STATUS


COMMANDS = {
    "tasks-json": ["tasks", "--format", "json"],
    "sql": ["sql", "SELECT tenant_id, correlation_id FROM tasks"],
    "hold-log": ["hold", "log", "--tenant", "tenant-a"],
    "hold-list": ["hold", "list"],
    "retention-list": ["retention", "list"],
    "keys-list": ["keys", "list"],
    "verify": ["verify"],
}


@pytest.mark.parametrize("command", COMMANDS.values(), ids=COMMANDS.keys())
def test_every_command_into_a_closed_pipe(dsn: str, command: list[str]) -> None:
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the command writes a byte: every write fails with EPIPE
    try:
        done = subprocess.run([*CLI, "--dsn", dsn, *command], cwd=ROOT, env=ENV, stdout=write,
                              stderr=subprocess.PIPE, text=True, timeout=120, check=False)  # fmt: skip
    finally:
        os.close(write)
    assert "Traceback" not in done.stderr and "BrokenPipeError" not in done.stderr, done.stderr
    assert done.returncode == SIGPIPE_STATUS


def test_in_process_a_closed_stdout_is_not_an_error(
    dsn: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class Closed(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", Closed())
    assert main(["--dsn", dsn, "retention", "list"]) == SIGPIPE_STATUS
    assert capsys.readouterr().err == ""
