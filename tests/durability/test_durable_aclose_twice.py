"""``hook.aclose()`` says whether everything accepted was kept; asked again, it must say the same.

An app may close the hook twice (its own shutdown path and a framework's lifespan, or after a
SIGTERM drain): the second call returned True whatever the first had found, so an app that
checked the later answer was told nothing was lost after events were.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from autogen_core import SingleThreadedAgentRuntime
from durable_testlib import FlakyStore, make_hook

from collector import Store
from collector._demo import PERSONAS, build_team, task_text


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    real = Store.open(f"chdb://{tmp_path / 'store'}")
    yield real
    real.close()


async def test_a_second_aclose_reports_the_loss_the_first_found(store: Store, redactor: object) -> None:
    flaky = FlakyStore(store)
    flaky.down = True  # nothing leaves the spool, so it fills and refuses batches: accepted events lost
    hook = make_hook(flaky, redactor, spool_max_bytes=32 * 1024, spool_segment_bytes=16 * 1024)
    runtime = SingleThreadedAgentRuntime(intervention_handlers=[hook])
    runtime.start()
    for i in range(3):
        p = PERSONAS[i % len(PERSONAS)]
        team = build_team(runtime, p, abnormal=False, broken_tool=False)
        async with hook.task(team, tenant_id="acme") as task:
            task.record_result(await team.run(task=task_text(p)))
    await runtime.stop_when_idle()
    assert not await hook.aclose(5.0)
    assert hook.sink.stats().lost_accepted > 0  # type: ignore[attr-defined]
    assert not await hook.aclose(5.0)
