"""Retention expires whole sealed intervals behind signed tombstones; legal holds win and are audited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from collector import Store
from collector._cli.main import main
from collector._integrity import open_writer, verify_store, verify_task
from collector._integrity._holds import active_holds, hold_log, place_hold, release_hold
from collector._integrity._retention import apply_retention, set_policy
from collector._integrity.errors import IntegrityError

from ._support import Rig, mutate, rows

OLD = dt.datetime.now(dt.UTC) - dt.timedelta(days=100)


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory, redactor: object) -> Iterator[Rig]:
    base = tmp_path_factory.mktemp("retention")
    store = Store.open(f"chdb://{base / 'store'}")
    rig = Rig(store, redactor, base / "keys")
    yield rig
    rig.close()
    store.close()


def redact_with(redactor: object):  # type: ignore[no-untyped-def]
    return lambda text: str(redactor.redact_text(text).value)  # type: ignore[attr-defined]


def test_expiry_leaves_a_verifiable_tombstone_and_spares_held_tasks(rig: Rig, redactor: object) -> None:
    tenant = "tenant-ret"
    # Intervals of 5 events: [a a a a a] [b b b b b] [c c c c c] then a recent task.
    for task in ("ret-a", "ret-b", "ret-c"):
        rig.run_task(tenant, task, 5, when=OLD)
    rig.run_task(tenant, "ret-new", 5)
    rig.seal()
    writer = open_writer(rig.integrity, rig.store)
    hold = place_hold(rig.store, writer, tenant, "ret-b", "case 42 for jane.doe@example.com", "auditor-1",
                      redact_with(redactor))  # fmt: skip
    assert "jane.doe@example.com" not in hold.reason and "<EMAIL_ADDRESS>" in hold.reason
    set_policy(rig.store, "*", "*", 30)

    (result,) = apply_retention(rig.store, writer, tenant=tenant)
    assert result.expired == ((1, 5), (11, 15)) and result.held == ((6, 10),) and result.events_deleted == 10
    left = rows(
        rig.store, "SELECT DISTINCT correlation_id FROM events WHERE tenant_id = {t:String} ORDER BY 1", t=tenant
    )
    assert left == [("ret-b",), ("ret-new",)]
    assert rows(rig.store, "SELECT count() FROM tasks FINAL WHERE correlation_id IN ('ret-a', 'ret-c')") == [(0,)]

    report = verify_store(rig.store, tenant=tenant)
    assert report.ok, [f.describe() for f in report.breaks]
    notes = [f.describe() for f in report.tenants[0].findings if f.kind == "expired"]
    assert len(notes) == 2 and "chain_seq 1..5 expired by retention" in notes[0]
    verdict = verify_task(rig.store, tenant, "ret-b")
    assert verdict.status == "verified", verdict.findings
    assert verify_task(rig.store, tenant, "ret-a").status == "not_found"

    # A tombstone cannot be forged away: deleting it turns the expired interval into a hole.
    mutate(rig.store, f"ALTER TABLE tombstones DELETE WHERE tenant_id = '{tenant}' AND from_seq = 11")
    assert [f.kind for f in verify_store(rig.store, tenant=tenant).breaks] == ["missing"]


def test_releasing_the_hold_lets_the_interval_expire_and_the_log_is_signed(rig: Rig, redactor: object) -> None:
    tenant = "tenant-hold"
    rig.run_task(tenant, "hold-a", 5, when=OLD)
    rig.seal()
    writer = open_writer(rig.integrity, rig.store)
    tenant_hold = place_hold(rig.store, writer, tenant, "", "litigation", "auditor-2", redact_with(redactor))
    set_policy(rig.store, tenant, "*", 10)
    assert apply_retention(rig.store, writer, tenant=tenant)[0].expired == ()
    release_hold(rig.store, writer, tenant, tenant_hold.hold_id, "settled", "auditor-2", redact_with(redactor))
    assert active_holds(rig.store, tenant) == []
    assert apply_retention(rig.store, writer, tenant=tenant)[0].expired == ((1, 5),)
    log = hold_log(rig.store, tenant)
    assert [(e["seq"], e["action"]) for e in log] == [(1, "place"), (2, "release")]
    assert verify_store(rig.store, tenant=tenant).ok
    # The hold log is tamper-evident too.
    mutate(rig.store, f"ALTER TABLE hold_audit UPDATE reason = 'nothing' WHERE tenant_id = '{tenant}' AND seq = 1")
    assert [f.kind for f in verify_store(rig.store, tenant=tenant).breaks] == ["signature"]


def test_retention_cli_dry_run_changes_nothing(rig: Rig, capsys: pytest.CaptureFixture[str]) -> None:
    tenant = "tenant-dry"
    rig.run_task(tenant, "dry-a", 5, when=OLD)
    rig.seal()
    assert main(["--dsn", rig.store.dsn, "retention", "set", "--tenant", tenant, "--days", "7"]) == 0
    assert main(["--dsn", rig.store.dsn, "retention", "apply", "--tenant", tenant, "--dry-run"]) == 0
    assert "would expire 1 interval(s) [(1, 5)] (5 events)" in capsys.readouterr().out
    assert rows(rig.store, "SELECT count() FROM events WHERE tenant_id = {t:String}", t=tenant) == [(5,)]
    assert main(["--dsn", rig.store.dsn, "hold", "list"]) == 0


@pytest.mark.parametrize("tenant", ["", "  "], ids=["empty", "blank"])
def test_a_rule_or_hold_for_a_tenant_no_event_has_is_refused(rig: Rig, redactor: object, tenant: str) -> None:
    # No event has an empty or blank tenant: the rule would never apply, the hold would protect nothing.
    with pytest.raises(IntegrityError, match="a retention rule needs a tenant, or \\* for every tenant"):
        set_policy(rig.store, tenant, "*", 30)
    writer = open_writer(rig.integrity, rig.store)
    with pytest.raises(IntegrityError, match="a legal hold needs a tenant"):
        place_hold(rig.store, writer, tenant, "", "case 7", "auditor-3", redact_with(redactor))
    assert rows(rig.store, "SELECT count() FROM retention_policies FINAL WHERE trim(tenant_id) = ''") == [(0,)]
    assert rows(rig.store, "SELECT count() FROM legal_holds FINAL WHERE trim(tenant_id) = ''") == [(0,)]
