"""Tampering that `verify` let through until review found it (2026-11-27), now reported.

Each test tampers with a real chained chDB store using SQL only (no signing key), and checks the
result against the pinned public key, as an auditor would.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest

from collector import CapturedEvent, EventKind, TaskRef
from collector._integrity import event_hash, verify_store, verify_task
from collector._integrity._verify import chain_rows

from ._support import Rig, anchored_rig, mutate, pinned, rewrite_from, rows, seeded


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory, redactor: object) -> Iterator[Rig]:
    with anchored_rig(tmp_path_factory.mktemp("bypass"), redactor) as rig:
        yield rig


def breaks(rig: Rig, tenant: str, anchor: str = "") -> list[str]:
    report = verify_store(rig.store, pinned(rig), tenant=tenant, anchor=anchor)
    return [f.describe() for f in report.breaks]


def copy_row(rig: Rig, tenant: str, chain_seq: int, **override: Any) -> None:
    columns, found = rig.store.query(
        "SELECT * FROM events WHERE tenant_id = {t:String} AND chain_seq = {s:UInt64}",
        parameters={"t": tenant, "s": chain_seq},
    )
    row = list(found[0])
    for name, value in override.items():
        row[columns.index(name)] = value
    rig.store.insert("events", [row], columns)


def test_a_harmless_duplicate_no_longer_switches_off_the_checkpoint_check(rig: Rig) -> None:
    tenant = "t-dup"
    seeded(rig, tenant)
    assert breaks(rig, tenant) == []
    # Rewrite chain_seq 7 and recompute every later hash and link: only the signed checkpoints see it.
    edited = rewrite_from(rig, tenant, 7, "refund approved by manager")
    # An exact copy of one row in each rewritten interval: a duplicate note, which used to exempt
    # its interval from the root check.
    for _, to_seq in rows(rig.store, "SELECT from_seq, to_seq FROM checkpoints WHERE tenant_id = {t:String}", t=tenant):
        if int(to_seq) >= 7:
            copy_row(rig, tenant, int(to_seq))
    found = breaks(rig, tenant)
    assert any("do not match their signed checkpoint" in f for f in found), found
    assert verify_task(rig.store, tenant, str(edited["correlation_id"]), pinned(rig)).status == "broken"


def test_a_copy_with_other_content_is_an_insertion_not_a_duplicate(rig: Rig) -> None:
    tenant = "t-forged-copy"
    seeded(rig, tenant)
    copy_row(rig, tenant, 6, content="payment of $1M approved", correlation_id=f"{tenant}-task-0")
    found = breaks(rig, tenant)
    assert any(f.startswith("INSERTED") for f in found), found
    assert verify_task(rig.store, tenant, f"{tenant}-task-0", pinned(rig)).status == "broken"


def test_rows_at_chain_seq_0_or_before_1970_are_reported_unchained(rig: Rig) -> None:
    tenant = "t-zero"
    seeded(rig, tenant)
    rig.store.command(
        "INSERT INTO events (tenant_id, correlation_id, seq, ts, event_id, kind, content, chain_seq, chain_hash, "
        f"chain_prev) VALUES ('{tenant}', '{tenant}-task-1', 99, now64(6), 'forged-zero', 'send', 'wire the money', "
        "0, 'x', 'x')"
    )
    assert any("forged-zero" in f for f in breaks(rig, tenant))
    assert verify_task(rig.store, tenant, f"{tenant}-task-1", pinned(rig)).status == "unchained"
    rig.store.command(
        "INSERT INTO events (tenant_id, correlation_id, seq, ts, event_id, kind, content) VALUES "
        f"('{tenant}', '{tenant}-task-2', 98, toDateTime64('1969-12-31 23:59:59', 6, 'UTC'), 'forged-1969', "
        "'send', 'approved')"
    )
    assert any("forged-1969" in f for f in breaks(rig, tenant))
    verdict = verify_task(rig.store, tenant, f"{tenant}-task-2", pinned(rig))  # raised IndexError before
    assert verdict.status == "unchained"


def test_a_tenant_wiped_from_every_table_is_reported_with_the_anchor(rig: Rig) -> None:
    tenant = "t-wipe"
    seeded(rig, tenant)
    anchor = rig.base / "anchor"
    assert tenant in {json.loads(line)["tenant_id"] for line in (anchor / "checkpoints.jsonl").read_text().splitlines()}
    for table in ("events", "checkpoints", "tombstones", "hold_audit", "tasks"):
        mutate(rig.store, f"ALTER TABLE {table} DELETE WHERE tenant_id = '{tenant}'")
    report = verify_store(rig.store, pinned(rig), anchor=str(anchor))
    assert [f for f in report.breaks if f.tenant_id == tenant]


def test_an_event_dated_after_2262_does_not_stop_verification(rig: Rig) -> None:
    # toUnixTimestamp64Nano overflows past 2262, and one such row failed the query for every tenant.
    rig.run_task("t-future", "t-future-a", 2, when=dt.datetime(2263, 1, 1, tzinfo=dt.UTC))
    rig.seal()
    seeded(rig, "t-present")
    assert breaks(rig, "t-present") == []
    report = verify_store(rig.store, pinned(rig))  # every tenant, the far-future one included: no QueryError
    assert "t-future" in [t.tenant_id for t in report.tenants]
    verify_task(rig.store, "t-future", "t-future-a", pinned(rig))


def test_events_dated_past_2255_verify_intact(rig: Rig) -> None:
    # A float of seconds rounds the last microsecond past 2**53 us (2255): the stored time then
    # differed from the hashed one, and verify called untouched rows ALTERED. OTLP times are uint64.
    tenant, task = "t-far", "t-far-a"
    rig.run_task(tenant, task, 2)
    for i, ts in enumerate([2**64 - 1, 2**63 - 1, 9_248_000_000_123_456_789]):
        event = CapturedEvent(10_000 + i, TaskRef(tenant, task), 2 + i, ts, EventKind.SEND, {"content": f"late {i}"})
        rig.pipeline.submit(event)
    assert rig.pipeline.flush(30)
    rig.seal()
    assert breaks(rig, tenant) == []
    stored = rows(
        rig.store,
        "SELECT toUnixTimestamp64Micro(ts) FROM events WHERE tenant_id = {t:String} AND seq >= 2 ORDER BY seq",
        t=tenant,
    )
    assert [r[0] for r in stored] == [(2**64 - 1) // 1000, (2**63 - 1) // 1000, 9_248_000_000_123_456]


def test_a_hold_released_only_in_the_plain_table_still_binds_retention(rig: Rig) -> None:
    from collector._integrity import open_writer
    from collector._integrity._holds import active_holds, place_hold
    from collector._integrity._retention import apply_retention, set_policy

    tenant = "t-hold"
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=100)
    for t in range(2):
        rig.run_task(tenant, f"{tenant}-task-{t}", 5, when=old)
    rig.seal()
    writer = open_writer(rig.integrity, rig.store)
    hold = place_hold(rig.store, writer, tenant, "", "litigation", "legal", lambda s: s)
    # Someone with write access marks the hold released in legal_holds, with no signed release.
    rig.store.insert(
        "legal_holds",
        [[tenant, "", hold.hold_id, "litigation", "legal", 0, 2**62]],
        ["tenant_id", "correlation_id", "hold_id", "reason", "actor", "active", "version"],
    )
    assert active_holds(rig.store, tenant) == []
    set_policy(rig.store, tenant, "*", 30)
    (result,) = apply_retention(rig.store, writer, tenant=tenant)  # the operator's routine job
    assert result.events_deleted == 0  # the signed log never released it
    assert rows(rig.store, "SELECT count() FROM events WHERE tenant_id = {t:String}", t=tenant)[0][0] == 10
    found = breaks(rig, tenant)
    assert any(hold.hold_id in f and "never released it" in f for f in found), found


def test_a_task_badge_sees_its_last_event_rewritten_with_its_hash(rig: Rig) -> None:
    tenant = "t-badge"
    seeded(rig, tenant)
    (row,) = list(chain_rows(rig.store, tenant, 4, 4))  # the last event of task-0; chain_seq 5 is task-1's
    row["content"] = "nothing to see"
    row["chain_hash"] = event_hash(row)  # consistent by itself: only the next row's link breaks
    mutate(
        rig.store,
        f"ALTER TABLE events UPDATE content = '{row['content']}', chain_hash = '{row['chain_hash']}' "
        f"WHERE event_id = '{row['event_id']}'",
    )
    assert verify_task(rig.store, tenant, str(row["correlation_id"]), pinned(rig)).status == "broken"


def test_a_task_badge_sees_an_event_moved_to_another_task(rig: Rig) -> None:
    tenant = "t-moved"
    seeded(rig, tenant)
    copy_row(rig, tenant, 6, correlation_id="elsewhere")
    mutate(
        rig.store,
        f"ALTER TABLE events DELETE WHERE tenant_id = '{tenant}' AND chain_seq = 6 AND correlation_id != 'elsewhere'",
    )
    assert verify_task(rig.store, tenant, f"{tenant}-task-1", pinned(rig)).status == "broken"
    # A task whose stretch of the chain holds no tampered row keeps its verdict.
    assert verify_task(rig.store, tenant, f"{tenant}-task-2", pinned(rig)).status == "verified"
