"""Many tasks from many tenants on one runtime at once: every row lands on the right task."""

from __future__ import annotations

import asyncio
import re

from autogen_core import SingleThreadedAgentRuntime

from collector import Store

from ._teams import TEAM_BUILDERS, make_hook, run_in_task

TENANTS = ["acme", "globex", "initech", "umbrella"]
RUNS = 24


async def test_24_concurrent_runs_across_4_tenants_have_zero_misattributed_rows(store: Store, redactor: object) -> None:
    hook = make_hook(store, redactor)
    runtime = SingleThreadedAgentRuntime(intervention_handlers=[hook])
    runtime.start()
    builders = sorted(TEAM_BUILDERS)

    async def one(i: int) -> tuple[int, str, str]:
        tenant = TENANTS[i % len(TENANTS)]
        marker = f"ticket-Z{i:03d}"
        team = TEAM_BUILDERS[builders[i % len(builders)]](runtime, marker)
        correlation_id, _ = await run_in_task(hook, team, tenant, f"handle {marker}", user=f"user-{i}")
        return i, tenant, correlation_id

    runs = await asyncio.gather(*(one(i) for i in range(RUNS)))
    await runtime.stop_when_idle()
    assert await hook.aclose()

    expected = {corr: (tenant, f"user-{i}", f"ticket-Z{i:03d}") for i, tenant, corr in runs}
    assert len(expected) == RUNS
    _, rows = store.query("SELECT tenant_id, correlation_id, user_id, content, kind FROM events")
    assert rows
    misattributed = []
    marker_re = re.compile(r"ticket-Z\d{3}")
    for tenant, corr, user, content, kind in rows:
        if corr not in expected:
            misattributed.append((tenant, corr, kind))
            continue
        want_tenant, want_user, want_marker = expected[corr]
        if (tenant, user) != (want_tenant, want_user):
            misattributed.append((tenant, corr, kind))
        for found in marker_re.findall(content):
            if found != want_marker:
                misattributed.append((tenant, corr, kind, found))
    assert misattributed == []
    # Every task has both anchors and the events of its own team only.
    _, per_task = store.query(
        "SELECT correlation_id, countIf(kind='task_start'), countIf(kind='task_result'), uniqExact(team_id) "
        "FROM events GROUP BY correlation_id"
    )
    assert len(per_task) == RUNS
    assert all(row[1:] == (1, 1, 1) for row in per_task), per_task
    _, tasks = store.query("SELECT tenant_id, count() FROM tasks FINAL GROUP BY tenant_id ORDER BY tenant_id")
    assert tasks == [(t, RUNS // len(TENANTS)) for t in TENANTS]
