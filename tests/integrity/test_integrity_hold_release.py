"""Retention counts a hold release only when it is signed under a key retention trusts; `hold list`
shows every hold retention obeys, and where it binds from.

Review found (2026-11-28) that retention read the signed hold log's release entries without checking
their signatures: someone with SQL write access only could append a forged release to `hold_audit`,
mark the `legal_holds` row released, and `retention apply` then deleted the held data behind valid
tombstones. Each test tampers with a real chained chDB store using SQL only, and runs the operator's
`retention apply` / `hold list` through the CLI.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from collector._cli.main import main
from collector._integrity import open_writer, pinned_public_keys, verify_store
from collector._integrity._holds import Hold, hold_log, place_hold, release_hold
from collector._integrity._keys import generate_key_file, publish_public_key
from collector._integrity._offline import hold_message
from collector._integrity._signed import HOLD_LOG_COLUMNS

from ._support import Rig, anchored_rig, mutate, rows

OLD = dt.datetime.now(dt.UTC) - dt.timedelta(days=100)
SECRET = "case 7 secret-42"


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory, redactor: object) -> Iterator[Rig]:
    # The rig writes the anchor file; retention reads it only where a test sets the export dir.
    with anchored_rig(tmp_path_factory.mktemp("hold-release"), redactor) as rig:
        yield rig


def base(rig: Rig) -> Path:
    return rig.base


def key_file(rig: Rig) -> Path:
    return base(rig) / "keys" / "integrity-signing-key.pem"


def old_tasks(rig: Rig, tenant: str) -> None:
    """Two old tasks of 5 events, one sealed interval each: (1, 5) is task-0, (6, 10) task-1."""
    for t in range(2):
        rig.run_task(tenant, f"{tenant}-task-{t}", 5, when=OLD)
    rig.seal()


def place(rig: Rig, tenant: str, task: str) -> Hold:
    return place_hold(rig.store, open_writer(rig.integrity, rig.store), tenant, task, SECRET, "legal", lambda s: s)


def forge_release(rig: Rig, tenant: str, hold_id: str, signature: str = "", key_id: str | None = None) -> None:
    """What someone with SQL write access and no signing key does: a release entry chained after the
    log's last one, shaped like the entry that placed the hold, and the hold's row marked released."""
    log = hold_log(rig.store, tenant)
    placed = next(e for e in log if e["hold_id"] == hold_id and e["action"] == "place")
    entry = {**placed, "seq": len(log) + 1, "action": "release", "prev_signature": log[-1]["signature"],
             "created_ns": int(log[-1]["created_ns"]) + 1, "signature": signature}  # fmt: skip
    if key_id is not None:
        entry["key_id"] = key_id
    rig.store.insert("hold_audit", [[entry[c] for c in HOLD_LOG_COLUMNS]], HOLD_LOG_COLUMNS)
    mutate(
        rig.store, f"ALTER TABLE legal_holds UPDATE active = 0 WHERE tenant_id = '{tenant}' AND hold_id = '{hold_id}'"
    )


def sign_with_own_key(rig: Rig, tenant: str, hold_id: str, tmp_path: Path) -> None:
    """The forger's own key, registered in the store's signing_keys (which they can write): verify
    without --pubkey trusts it, retention must not."""
    own = generate_key_file(tmp_path / "forger.pem")
    publish_public_key(rig.store, own)
    log = hold_log(rig.store, tenant)
    placed = next(e for e in log if e["hold_id"] == hold_id)
    entry = {**placed, "seq": len(log) + 1, "action": "release", "prev_signature": log[-1]["signature"],
             "created_ns": int(log[-1]["created_ns"]) + 1, "key_id": own.key_id}  # fmt: skip
    forge_release(rig, tenant, hold_id, own.sign(hold_message(entry)), own.key_id)


def cli(rig: Rig, monkeypatch: pytest.MonkeyPatch, *argv: str, export_dir: Path | None = None,
        signing_key: Path | None = None) -> int:  # fmt: skip
    """The operator's command, configured as the app is: the rig's signing key (or ``signing_key``),
    and the anchor's export dir only when given."""
    monkeypatch.setenv("AUDIT_KEY_DIR", str(base(rig) / "keys"))
    monkeypatch.delenv("AUDIT_SIGNING_KEY", raising=False)
    if signing_key is None:
        monkeypatch.delenv("AUDIT_SIGNING_KEY_FILE", raising=False)
    else:
        monkeypatch.setenv("AUDIT_SIGNING_KEY_FILE", str(signing_key))
    if export_dir is None:
        monkeypatch.delenv("AUDIT_CHECKPOINT_EXPORT_DIR", raising=False)
    else:
        monkeypatch.setenv("AUDIT_CHECKPOINT_EXPORT_DIR", str(export_dir))
    return main(["--dsn", rig.store.dsn, *argv])


def retention(rig: Rig, tenant: str, monkeypatch: pytest.MonkeyPatch, *extra: str, **kw: Any) -> None:
    assert cli(rig, monkeypatch, "retention", "set", "--tenant", tenant, "--days", "30", **kw) == 0
    assert cli(rig, monkeypatch, "retention", "apply", "--tenant", tenant, *extra, **kw) == 0


def events_of(rig: Rig, tenant: str) -> list[tuple[Any, ...]]:
    return rows(rig.store, "SELECT correlation_id, count() FROM events WHERE tenant_id = {t:String} GROUP BY 1 "
                "ORDER BY 1", t=tenant)  # fmt: skip


@pytest.mark.parametrize("forgery", ["garbage", "missing", "own-key"])
def test_a_forged_release_does_not_let_retention_delete_held_data(
    rig: Rig, forgery: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    tenant = f"t-forged-{forgery}"
    old_tasks(rig, tenant)
    hold = place(rig, tenant, f"{tenant}-task-0")
    if forgery == "own-key":
        sign_with_own_key(rig, tenant, hold.hold_id, tmp_path)
    else:
        forge_release(rig, tenant, hold.hold_id, "ab" * 64 if forgery == "garbage" else "")
    capsys.readouterr()
    retention(rig, tenant, monkeypatch)
    # The held task's interval stays; the other one, due and not held, expires.
    assert events_of(rig, tenant) == [(f"{tenant}-task-0", 5)]
    out = capsys.readouterr().out
    assert "expired 1 interval(s) [(6, 10)] (5 events); kept for legal hold: [(1, 5)]" in out, out
    assert f"hold {hold.hold_id}: the release at seq 2 of the signed log does not count" in out, out
    assert "signature does not verify under a key retention trusts" in out and "secret-42" not in out, out
    found = [f.describe() for f in verify_store(rig.store, pinned_public_keys([str(key_file(rig))]), tenant).breaks]
    assert any(f.startswith("SIGNATURE") and hold.hold_id in f for f in found), found
    if forgery == "own-key":  # the store's own keys vouch for it: why retention does not trust them
        assert not any(f.kind == "signature" for f in verify_store(rig.store, None, tenant).breaks)


def test_a_genuine_release_still_lets_retention_expire_the_data(
    rig: Rig, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    tenant = "t-released"
    old_tasks(rig, tenant)
    hold = place(rig, tenant, f"{tenant}-task-0")
    release_hold(rig.store, open_writer(rig.integrity, rig.store), tenant, hold.hold_id, "settled", "legal",
                 lambda s: s)  # fmt: skip
    capsys.readouterr()
    retention(rig, tenant, monkeypatch)
    assert events_of(rig, tenant) == []
    out = capsys.readouterr().out
    assert "expired 2 interval(s) [(1, 5), (6, 10)] (10 events)" in out and "does not count" not in out, out


def test_a_release_signed_outside_its_place_in_the_chain_does_not_count(
    rig: Rig, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    tenant = "t-unchained"
    old_tasks(rig, tenant)
    hold = place(rig, tenant, f"{tenant}-task-0")
    # Signed under the trusted key, but chained to no entry of the log.
    open_writer(rig.integrity, rig.store).hold_entry({
        "tenant_id": tenant, "seq": 2, "action": "release", "hold_id": hold.hold_id,
        "correlation_id": hold.correlation_id, "reason": "settled", "actor": "legal", "prev_signature": "ab" * 64,
    })  # fmt: skip
    mutate(rig.store, f"ALTER TABLE legal_holds UPDATE active = 0 WHERE tenant_id = '{tenant}'")
    capsys.readouterr()
    retention(rig, tenant, monkeypatch)
    assert events_of(rig, tenant) == [(f"{tenant}-task-0", 5)]
    assert (
        "seq 2 of the signed log does not count (it is not chained to the entry before it)" in capsys.readouterr().out
    )


def test_a_release_forged_in_the_store_and_the_anchor_does_not_count(
    rig: Rig, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    tenant = "t-forged-both"
    old_tasks(rig, tenant)
    hold = place(rig, tenant, f"{tenant}-task-0")
    forge_release(rig, tenant, hold.hold_id, "ab" * 64)
    # The anchor file rewritten to match (no WORM storage): its hold log ends in the forged release.
    export = tmp_path / "anchor"
    export.mkdir()
    lines = [json.dumps({"table": "hold_audit", **e}) for e in hold_log(rig.store, tenant)]
    (export / "checkpoints.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    capsys.readouterr()
    retention(rig, tenant, monkeypatch, export_dir=export)
    assert events_of(rig, tenant) == [(f"{tenant}-task-0", 5)]
    out = capsys.readouterr().out
    assert "seq 2 of the signed log does not count" in out and "seq 2 of the anchor does not count" in out, out


def test_after_a_rotation_an_old_keys_release_counts_once_its_public_key_is_pinned(
    rig: Rig, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    tenant = "t-rotated"
    old_tasks(rig, tenant)
    hold = place(rig, tenant, f"{tenant}-task-0")
    release_hold(rig.store, open_writer(rig.integrity, rig.store), tenant, hold.hold_id, "settled", "legal",
                 lambda s: s)  # fmt: skip
    new_key = tmp_path / "new.pem"
    generate_key_file(new_key)  # retention now runs with the new key: the release was signed under the old one
    assert cli(rig, monkeypatch, "retention", "set", "--tenant", tenant, "--days", "30") == 0
    capsys.readouterr()
    apply = ["retention", "apply", "--tenant", tenant]
    assert cli(rig, monkeypatch, *apply, "--dry-run", signing_key=new_key) == 0
    out = capsys.readouterr().out
    assert "would expire 1 interval(s) [(6, 10)]" in out and f"hold {hold.hold_id}: the release at seq 2" in out, out
    assert cli(rig, monkeypatch, *apply, "--pubkey", str(key_file(rig)), signing_key=new_key) == 0
    out = capsys.readouterr().out
    assert "expired 2 interval(s) [(1, 5), (6, 10)]" in out and "does not count" not in out, out
    assert events_of(rig, tenant) == []


def test_hold_list_shows_every_hold_retention_obeys_and_where_it_binds_from(
    rig: Rig, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    tenant = "t-list"
    normal = place(rig, tenant, f"{tenant}-task-0")
    forged = place(rig, tenant, f"{tenant}-task-1")
    released = place(rig, tenant, f"{tenant}-task-2")
    release_hold(rig.store, open_writer(rig.integrity, rig.store), tenant, released.hold_id, "settled", "legal",
                 lambda s: s)  # fmt: skip
    cut = place(rig, tenant, "")  # seq 5: its entry and row go, only the anchor keeps it
    mutate(rig.store, f"ALTER TABLE hold_audit DELETE WHERE tenant_id = '{tenant}' AND seq >= 5")
    mutate(rig.store, f"ALTER TABLE legal_holds DELETE WHERE tenant_id = '{tenant}' AND hold_id = '{cut.hold_id}'")
    forge_release(rig, tenant, forged.hold_id, "ab" * 64)
    capsys.readouterr()
    assert cli(rig, monkeypatch, "hold", "list", "--tenant", tenant, export_dir=base(rig) / "anchor") == 0
    out = capsys.readouterr().out
    table = {line.split(" | ")[2].strip(): line.split(" | ")[-1].strip() for line in out.splitlines() if " | " in line}
    assert table == {
        "hold_id": "binds via",
        normal.hold_id: "table, signed log, anchor",
        forged.hold_id: "signed log, anchor",  # the table says released; no counted release does
        cut.hold_id: "anchor",
    }, out
    notes = [line for line in out.splitlines() if "does not count" in line]
    assert notes == [f"tenant {tenant}: hold {forged.hold_id}: the release at seq 5 of the signed log does not count "
                     "(its signature does not verify under a key retention trusts)"], out  # fmt: skip
    # Without the export dir, the anchor's hold is not seen (nor obeyed by retention apply).
    assert cli(rig, monkeypatch, "hold", "list") == 0
    everyone = capsys.readouterr().out
    assert normal.hold_id in everyone and forged.hold_id in everyone and cut.hold_id not in everyone, everyone
    assert released.hold_id not in everyone, everyone


def test_hold_list_warns_of_an_unreadable_anchor_line(
    rig: Rig, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    tenant = "t-list-garbled"
    hold = place(rig, tenant, "")
    export = tmp_path / "anchor"
    export.mkdir()
    (export / "checkpoints.jsonl").write_text("{not json\n", encoding="utf-8")
    assert cli(rig, monkeypatch, "hold", "list", "--tenant", tenant, export_dir=export) == 0
    captured = capsys.readouterr()
    assert hold.hold_id in captured.out and "anchor file line(s) 1 unreadable" in captured.err, captured


def test_the_docs_say_a_release_must_be_signed_and_what_hold_list_shows() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "integrity.md").read_text(encoding="utf-8")
    section = text[text.index("## Retention and legal holds\n") :]
    assert "**A release counts only when it is signed.**" in section and "`binds via`" in section
    assert "retention apply --pubkey old.pem" in text[: text.index("## Verify\n")]  # the rotation paragraph


def test_a_hold_whose_row_a_forgery_released_can_still_be_released_for_real(
    rig: Rig, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The forged release does not count, so the hold binds through the signed log; `hold release`
    # looked only at legal_holds, found nothing active, and the data could never be let go.
    tenant = "t-forged-then-released"
    old_tasks(rig, tenant)
    hold = place(rig, tenant, f"{tenant}-task-0")
    forge_release(rig, tenant, hold.hold_id, "ab" * 64)
    argv = ("hold", "release", "--tenant", tenant, "--hold-id", hold.hold_id, "--reason", "settled", "--actor", "legal")
    assert cli(rig, monkeypatch, *argv) == 0
    log = hold_log(rig.store, tenant)
    assert [e["action"] for e in log] == ["place", "release", "release"]
    capsys.readouterr()
    retention(rig, tenant, monkeypatch)
    assert events_of(rig, tenant) == []
    out = capsys.readouterr().out
    assert "expired 2 interval(s) [(1, 5), (6, 10)] (10 events)" in out, out


def test_a_hold_only_the_anchor_still_places_is_not_released_over_its_lost_entries(
    rig: Rig, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    tenant = "t-anchor-only-release"
    old_tasks(rig, tenant)
    hold = place(rig, tenant, f"{tenant}-task-0")
    export = tmp_path / "anchor"
    export.mkdir()
    lines = [json.dumps({"table": "hold_audit", **e}) for e in hold_log(rig.store, tenant)]
    (export / "checkpoints.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for table in ("hold_audit", "legal_holds"):  # the log's tail cut with the hold's row
        mutate(rig.store, f"ALTER TABLE {table} DELETE WHERE tenant_id = '{tenant}'")
    argv = ("hold", "release", "--tenant", tenant, "--hold-id", hold.hold_id, "--reason", "settled", "--actor", "legal")
    capsys.readouterr()
    assert cli(rig, monkeypatch, *argv, export_dir=export) == 2
    assert "binds only through the anchor file" in capsys.readouterr().err
    assert hold_log(rig.store, tenant) == []  # nothing logged over the lost entries
