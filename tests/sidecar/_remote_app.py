"""An app process in remote mode: N concurrent team runs, hook built from AUDIT_* env; prints JSON."""

from __future__ import annotations

import asyncio
import json
import sys

from autogen_core import SingleThreadedAgentRuntime

from collector import AuditHook
from tests.capture._teams import round_robin, run_in_task


async def main(name: str, runs: int) -> None:
    hook = AuditHook.from_env()
    runtime = SingleThreadedAgentRuntime(intervention_handlers=[hook])
    runtime.start()

    async def one(i: int) -> tuple[str, str, str]:
        tenant = f"{name}-t{i % 3}"
        marker = f"{name}-order-{i:03d}"
        team = round_robin(runtime, marker)
        corr, _ = await run_in_task(hook, team, tenant, f"handle {marker} for jane.doe@example.com")
        return corr, tenant, marker

    results = await asyncio.gather(*(one(i) for i in range(runs)))
    await runtime.stop_when_idle()
    ok = await hook.aclose(60)
    stats = hook.sink.stats()
    print(
        json.dumps(
            {
                "ok": ok,
                "runs": results,
                "accepted": stats.accepted,
                "acknowledged": stats.acknowledged,
                "lost": stats.lost,
                "sink": type(hook.sink).__name__,
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
