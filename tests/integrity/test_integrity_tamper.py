"""Tampering with the store directly is detected by `verify`, which names the event."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from collector import Store
from collector._cli.main import main
from collector._integrity import event_hash, verify_store, verify_task
from collector._integrity._verify import ROW_COLUMNS, chain_rows

from ._support import Rig, mutate, rewrite_from, rows, seeded


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory, redactor: object) -> Iterator[Rig]:
    base = tmp_path_factory.mktemp("tamper")
    store = Store.open(f"chdb://{base / 'store'}")
    rig = Rig(store, redactor, base / "keys")
    yield rig
    rig.close()
    store.close()


def breaks(rig: Rig, tenant: str) -> list[str]:
    report = verify_store(rig.store, tenant=tenant)
    return [f.describe() for f in report.breaks]


def event_id(rig: Rig, tenant: str, task: str, seq: int) -> str:
    found = rows(rig.store, "SELECT event_id FROM events WHERE tenant_id={t:String} AND correlation_id={c:String} "
                 "AND seq={s:UInt64}", t=tenant, c=task, s=seq)  # fmt: skip
    return str(found[0][0])


def test_an_untouched_trail_verifies_with_signed_checkpoints(rig: Rig) -> None:
    seeded(rig, "tenant-clean")
    report = verify_store(rig.store, tenant="tenant-clean")
    assert report.ok, [f.describe() for f in report.breaks]
    (tenant,) = report.tenants
    assert tenant.events == 12 and tenant.checkpoints >= 2
    chained = rows(rig.store, "SELECT min(chain_seq), max(chain_seq), uniqExact(chain_seq), countIf(chain_status != "
                   "'chained') FROM events WHERE tenant_id = 'tenant-clean'")  # fmt: skip
    assert chained == [(1, 12, 12, 0)]
    verdict = verify_task(rig.store, "tenant-clean", "tenant-clean-task-1")
    assert verdict.status == "verified" and verdict.events == 4


def test_altered_content_is_named(rig: Rig) -> None:
    seeded(rig, "tenant-alter")
    victim = event_id(rig, "tenant-alter", "tenant-alter-task-1", 2)
    mutate(rig.store, f"ALTER TABLE events UPDATE content = 'nothing happened' WHERE event_id = '{victim}'")
    found = breaks(rig, "tenant-alter")
    assert len(found) == 1 and found[0].startswith("ALTERED") and victim in found[0], found
    assert verify_task(rig.store, "tenant-alter", "tenant-alter-task-1").status == "broken"


def test_deleted_row_is_named_by_task_and_seq(rig: Rig) -> None:
    seeded(rig, "tenant-delete")
    mutate(rig.store, "ALTER TABLE events DELETE WHERE correlation_id = 'tenant-delete-task-1' AND seq = 2")
    found = breaks(rig, "tenant-delete")
    assert len(found) == 1 and found[0].startswith("MISSING"), found
    assert "chain_seq 7..7 deleted" in found[0] and "task tenant-delete-task-1 is missing seq 2..2" in found[0]


def test_swapped_seq_is_reported_as_reordering(rig: Rig) -> None:
    seeded(rig, "tenant-order")
    first = event_id(rig, "tenant-order", "tenant-order-task-0", 1)
    second = event_id(rig, "tenant-order", "tenant-order-task-0", 2)
    # seq is a sort key (no ALTER UPDATE): the tamperer deletes both rows and re-inserts them swapped.
    where = "correlation_id = 'tenant-order-task-0' AND seq IN (1, 2)"
    columns, originals = rig.store.query(f"SELECT * FROM events WHERE {where}")
    mutate(rig.store, f"ALTER TABLE events DELETE WHERE {where}")
    at = columns.index("seq")
    swapped = [(*r[:at], 3 - r[at], *r[at + 1 :]) for r in originals]
    rig.store.insert("events", swapped, columns)
    found = breaks(rig, "tenant-order")
    assert len(found) == 1 and found[0].startswith("REORDERED"), found
    assert first in found[0] and second in found[0] and "seq swapped" in found[0]


def test_swapped_chain_positions_are_reported_as_reordering(rig: Rig) -> None:
    seeded(rig, "tenant-chainorder")
    mutate(rig.store, "ALTER TABLE events UPDATE chain_seq = multiIf(chain_seq = 3, 4, 3) "
           "WHERE tenant_id = 'tenant-chainorder' AND chain_seq IN (3, 4)")  # fmt: skip
    found = breaks(rig, "tenant-chainorder")
    assert found and all(f.startswith("REORDERED") for f in found) and "chain_seq swapped" in found[0], found


def test_forged_rows_are_detected(rig: Rig) -> None:
    seeded(rig, "tenant-forge")
    # A row written straight into the table, without chain fields.
    rig.store.command(
        "INSERT INTO events (tenant_id, correlation_id, seq, ts, event_id, kind, content) VALUES "
        "('tenant-forge', 'tenant-forge-task-1', 9, now64(6), 'forged-1', 'send', 'approved')"
    )
    # A forger who knows the algorithm: a copy of chain position 6 with new content and a fresh hash.
    (row,) = [r for r in chain_rows(rig.store, "tenant-forge", 6, 6)]
    forged = {**row, "event_id": "forged-2", "content": "refund approved"}
    forged["chain_hash"] = event_hash(forged)
    cols = [c for c in ROW_COLUMNS if c != "ts_us"]
    values = ", ".join(repr(forged[c]) if not isinstance(forged[c], dict) else "map()" for c in cols)
    rig.store.command(f"INSERT INTO events ({', '.join(cols)}, ts) VALUES ({values}, now64(6))")
    found = breaks(rig, "tenant-forge")
    assert any(f.startswith("UNCHAINED") and "forged-1" in f for f in found), found
    assert any(f.startswith("INSERTED") and "forged-2" in f for f in found), found
    assert len(found) == 2, found


def test_dropped_partition_is_detected(rig: Rig) -> None:
    old = dt.datetime(2024, 1, 15, tzinfo=dt.UTC)
    rig.run_task("tenant-partition", "tenant-partition-old", 4, when=old)
    rig.run_task("tenant-partition", "tenant-partition-new", 4)
    rig.seal()
    assert verify_store(rig.store, tenant="tenant-partition").ok
    rig.store.command("ALTER TABLE events DROP PARTITION '202401'")
    found = breaks(rig, "tenant-partition")
    assert len(found) == 1 and found[0].startswith("MISSING") and "chain_seq 1..4 deleted" in found[0], found


def test_rewriting_the_chain_consistently_is_caught_by_the_signed_checkpoint(rig: Rig) -> None:
    seeded(rig, "tenant-rewrite", tasks=1, per_task=5)
    # The forger edits event 2 and recomputes every later hash and link: only the signature stops this.
    rewrite_from(rig, "tenant-rewrite", 2, "rewritten")
    found = breaks(rig, "tenant-rewrite")
    assert len(found) == 1 and found[0].startswith("CHECKPOINT") and "chain rewritten" in found[0], found


def test_trimmed_tail_and_removed_checkpoint_are_detected(rig: Rig) -> None:
    seeded(rig, "tenant-trim", tasks=2, per_task=5)
    mutate(rig.store, "ALTER TABLE events DELETE WHERE tenant_id = 'tenant-trim' AND chain_seq >= 9")
    assert any("trimmed" in f for f in breaks(rig, "tenant-trim"))
    mutate(rig.store, "ALTER TABLE checkpoints DELETE WHERE tenant_id = 'tenant-trim' AND from_seq = 1")
    assert any(f.startswith("CHECKPOINT") for f in breaks(rig, "tenant-trim"))


def test_cli_verify_exits_non_zero_and_names_the_first_break(rig: Rig, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--dsn", rig.store.dsn, "verify", "--tenant", "tenant-clean"]) == 0
    assert "INTACT tenant tenant-clean: 12 events" in capsys.readouterr().out
    assert main(["--dsn", rig.store.dsn, "verify", "--tenant", "tenant-alter"]) == 1
    out = capsys.readouterr().out
    assert "FIRST BREAK: ALTERED" in out and "BROKEN tenant tenant-alter" in out
    assert main(["--dsn", rig.store.dsn, "verify", "--task", "tenant-delete-task-0"]) == 0
    assert main(["--dsn", rig.store.dsn, "verify", "--task", "tenant-alter-task-1", "--format", "json"]) == 1
    assert '"status": "broken"' in capsys.readouterr().out


def test_a_foreign_key_is_not_trusted_when_keys_are_pinned(rig: Rig, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    other = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    (tmp_path / "other.pem").write_bytes(other)
    assert (
        main(["--dsn", rig.store.dsn, "verify", "--tenant", "tenant-clean", "--pubkey", str(tmp_path / "other.pem")])
        == 1
    )
    assert (
        main(
            [
                "--dsn",
                rig.store.dsn,
                "verify",
                "--tenant",
                "tenant-clean",
                "--pubkey",
                str(rig.integrity.key_dir) + "/integrity-signing-key.pem",
            ]
        )
        == 0
    )
