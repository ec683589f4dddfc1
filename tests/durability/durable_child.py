"""A child process for the crash tests: real hook + pipeline + chdb store + spool, reporting acked ids.

Usage: python durable_child.py STORE_PATH ACKED_FILE {kill|term} [--flap]

Hook events are shipped in small batches through ``submit_batch_durable`` (as the sidecar does);
the event ids of every batch it acknowledged (returned True for) are appended to ACKED_FILE. With
--flap the store goes down and up every 0.3 s, so at any moment some acked batches are only in the
spool. In ``term`` mode SIGTERM/SIGINT handlers drain the pipeline before the process dies.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from durable_testlib import FAST, FlakyStore

from collector import AuditHook, AuditPipeline, AuditSettings, CapturedEvent, ClickHouseExporter, Store
from collector._demo import PERSONAS, build_team, task_text
from collector._records import RecordBuilder
from collector._signals import install_signal_handlers


class DurableShipper:
    """An EventSink that acks in batches through submit_batch_durable, like the sidecar's ingest."""

    def __init__(self, pipeline: AuditPipeline, builder: RecordBuilder, acked: Path) -> None:
        self._pipeline = pipeline
        self._builder = builder
        self._pending: list[CapturedEvent] = []
        self._out = acked.open("a", encoding="utf-8")
        threading.Thread(target=self._run, daemon=True).start()

    def submit(self, event: CapturedEvent) -> bool:
        self._pending.append(event)
        return True

    def _run(self) -> None:
        while True:
            time.sleep(0.02)
            batch, self._pending = self._pending, []
            if batch and self._pipeline.submit_batch_durable(batch, 30.0):
                self._out.write("".join(self._builder.event_id(e) + "\n" for e in batch))
                self._out.flush()  # in the kernel now: survives our SIGKILL

    def flush(self, timeout: float) -> bool:
        return True

    def shutdown(self, timeout: float) -> bool:
        return True

    def stats(self) -> object:
        return self._pipeline.stats()


def _flap(store: FlakyStore) -> None:
    while True:
        time.sleep(0.3)
        store.down = not store.down


async def main() -> None:
    store_path, acked, mode = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    from redaction import Redactor

    real = Store.open(f"chdb://{store_path}")
    store = FlakyStore(real)
    settings = AuditSettings(store_dsn=real.dsn, **FAST)  # type: ignore[arg-type]
    builder = RecordBuilder(settings, Redactor(), f"c{os.getpid()}")
    pipeline = AuditPipeline(exporter=ClickHouseExporter(store), builder=builder, settings=settings)
    if mode == "term":
        install_signal_handlers(pipeline, 8.0)
    if "--flap" in sys.argv:
        threading.Thread(target=_flap, args=(store,), daemon=True).start()
    hook = AuditHook(DurableShipper(pipeline, builder, acked), settings)  # type: ignore[arg-type]
    print("running", flush=True)
    i = 0
    while True:
        runtime = SingleThreadedAgentRuntime(intervention_handlers=[hook])
        runtime.start()
        jobs = []
        for _ in range(2):
            p = PERSONAS[i % len(PERSONAS)]
            team = build_team(runtime, p, abnormal=False, broken_tool=False)
            jobs.append(_one(hook, team, p, i))
            i += 1
        await asyncio.gather(*jobs)
        await runtime.stop_when_idle()
        # Replayed models answer instantly: pace the app so that redaction on a loaded 2-core box keeps up.
        while pipeline.stats().queued > 200:  # noqa: ASYNC110 - polling a thread-owned counter, no event to wait on
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.1)


async def _one(hook: AuditHook, team: object, p: object, i: int) -> None:
    async with hook.task(team, tenant_id=f"tenant-{i % 3}") as task:
        task.record_result(await team.run(task=task_text(p)))  # type: ignore[attr-defined, arg-type]


if __name__ == "__main__":
    from autogen_core import SingleThreadedAgentRuntime

    asyncio.run(main())
