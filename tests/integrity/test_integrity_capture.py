"""The default pipeline chains real AutoGen team runs; the UI's per-task verdict follows the store."""

from __future__ import annotations

import pytest
from autogen_core import SingleThreadedAgentRuntime

from collector import Store
from collector._integrity import verify_store, verify_task
from tests.capture._teams import make_hook, round_robin, run_in_task

from ._support import mutate, rows


async def test_a_real_team_run_is_chained_by_the_default_pipeline(
    store_dsn: str, redactor: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUDIT_CHECKPOINT_EVERY", "4")
    monkeypatch.setenv("AUDIT_CHECKPOINT_INTERVAL_S", "0")
    store = Store.open(store_dsn)
    hook = make_hook(store, redactor)
    runtime = SingleThreadedAgentRuntime(intervention_handlers=[hook])
    runtime.start()
    ids = []
    for tenant, marker in (("acme", "A-1"), ("globex", "G-1"), ("acme", "A-2")):
        correlation_id, _ = await run_in_task(hook, round_robin(runtime, marker), tenant, f"please handle {marker}")
        ids.append((tenant, correlation_id))
    await runtime.stop_when_idle()
    assert await hook.aclose()

    # Each tenant has its own gap-free chain across its tasks.
    for tenant in ("acme", "globex"):
        ((count, top, distinct, unchained),) = rows(
            store,
            "SELECT count(), max(chain_seq), uniqExact(chain_seq), countIf(chain_hash = '') "
            "FROM events WHERE tenant_id = {t:String}",
            t=tenant,
        )
        assert count == top == distinct and unchained == 0 and count > 5
    assert verify_store(store).ok
    assert {verify_task(store, t, c).status for t, c in ids} <= {"verified", "pending"}

    tenant, victim = ids[2]
    mutate(store, f"ALTER TABLE events UPDATE content = 'edited' WHERE correlation_id = '{victim}' AND seq = 1")
    verdict = verify_task(store, tenant, victim)
    assert verdict.status == "broken" and "ALTERED" in verdict.detail
    assert verify_task(store, *ids[1]).verified  # the other tenant's chain is untouched
    store.close()
