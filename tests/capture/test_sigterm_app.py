"""An app that installs the hook's signal handlers loses nothing to SIGTERM: open tasks are marked."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from collector import Store

APP = textwrap.dedent(
    """
    import asyncio, sys
    from autogen_core import SingleThreadedAgentRuntime
    from collector import AuditHook
    from collector._demo import PERSONAS, build_team, task_text

    async def main():
        hook = AuditHook.from_env(store_dsn=sys.argv[1], batch_interval_s=3600, batch_max_events=10**6)
        hook.install_signal_handlers(deadline_s=20)
        runtime = SingleThreadedAgentRuntime(intervention_handlers=[hook])
        runtime.start()
        team = build_team(runtime, PERSONAS[0], abnormal=False, broken_tool=False)
        async with hook.task(team, tenant_id="acme") as done:
            done.record_result(await team.run(task=task_text(PERSONAS[0])))
        hook.task("job-still-open", tenant_id="acme", correlation_id="still-open")
        print("ready", flush=True)
        await asyncio.sleep(60)

    asyncio.run(main())
    """
)


def test_sigterm_drains_and_marks_open_tasks_unfinished(tmp_path: Path) -> None:
    dsn = f"chdb://{tmp_path / 'store'}"
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root), "AUDIT_SPOOL_DIR": str(tmp_path / "spool")}
    app = subprocess.Popen([sys.executable, "-c", APP, dsn], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert app.stdout is not None and app.stdout.readline().strip() == "ready"
        app.send_signal(signal.SIGTERM)
        assert app.wait(timeout=60) == -signal.SIGTERM  # drained, then the default action ran
    finally:
        app.kill()
    store = Store.open(dsn)
    try:
        _, rows = store.query("SELECT correlation_id, status FROM tasks FINAL ORDER BY correlation_id")
        statuses = dict(rows)
        assert statuses.pop("still-open") == "unfinished"
        assert list(statuses.values()) == ["normal"]  # the finished task, written although the batcher slept
        _, n = store.query("SELECT count() FROM events WHERE kind = 'task_unfinished'")
        assert n == [(1,)]
    finally:
        store.close()
