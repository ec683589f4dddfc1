"""The file anchor covers the legal-hold log: a log cut at its tail is reported by `verify --anchor`.

Review found (2026-11-27) that deleting the newest signed hold-log entries together with the
hold's `legal_holds` row leaves a shorter log that still verifies, and retention would then delete
what the hold protected. Each test tampers with a real chained chDB store using SQL only (no
signing key) and verifies against the pinned public key, as an auditor would.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from collector._cli.main import main
from collector._integrity import IntegritySettings, open_writer, verify_store
from collector._integrity._holds import binding_holds, place_hold, release_hold

from ._support import Rig, anchored_rig, mutate, pinned, rows

OLD = dt.datetime.now(dt.UTC) - dt.timedelta(days=100)


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory, redactor: object) -> Iterator[Rig]:
    with anchored_rig(tmp_path_factory.mktemp("hold-anchor"), redactor) as rig:
        yield rig


def anchor(rig: Rig) -> str:
    return str(rig.base / "anchor")


def breaks(rig: Rig, tenant: str, with_anchor: bool) -> list[str]:
    report = verify_store(rig.store, pinned(rig), tenant=tenant, anchor=anchor(rig) if with_anchor else "")
    return [f.describe() for f in report.breaks]


def held_tenant(rig: Rig, tenant: str) -> tuple[str, str]:
    """Old sealed events, a hold placed and released, then a tenant-wide hold: (first, binding) hold ids."""
    for t in range(2):
        rig.run_task(tenant, f"{tenant}-task-{t}", 5, when=OLD)
    rig.seal()
    writer = open_writer(rig.integrity, rig.store)
    first = place_hold(rig.store, writer, tenant, f"{tenant}-task-0", "case 7", "legal", lambda s: s)
    release_hold(rig.store, writer, tenant, first.hold_id, "settled", "legal", lambda s: s)
    binding = place_hold(rig.store, writer, tenant, "", "litigation secret-42", "legal", lambda s: s)
    return first.hold_id, binding.hold_id


def test_hold_log_entries_are_anchored_and_an_untouched_store_verifies(rig: Rig) -> None:
    tenant = "t-hold-intact"
    held_tenant(rig, tenant)
    lines = (Path(anchor(rig)) / "checkpoints.jsonl").read_text().splitlines()
    logged = [r["seq"] for r in map(json.loads, lines) if r["table"] == "hold_audit" and r["tenant_id"] == tenant]
    assert logged == [1, 2, 3]
    assert breaks(rig, tenant, with_anchor=True) == []
    report = verify_store(rig.store, pinned(rig), anchor=anchor(rig))  # every tenant, the anchor's too
    assert tenant in [t.tenant_id for t in report.tenants]
    assert [f.describe() for f in report.breaks if f.tenant_id == tenant] == []


def test_a_hold_log_cut_at_its_tail_with_its_table_row_is_reported_with_the_anchor(rig: Rig) -> None:
    tenant = "t-hold-cut"
    _, hold_id = held_tenant(rig, tenant)
    # Someone with write access removes the entry that placed the hold (seq 3) and the hold's row.
    mutate(rig.store, f"ALTER TABLE hold_audit DELETE WHERE tenant_id = '{tenant}' AND seq >= 3")
    mutate(rig.store, f"ALTER TABLE legal_holds DELETE WHERE tenant_id = '{tenant}' AND hold_id = '{hold_id}'")
    assert breaks(rig, tenant, with_anchor=False) == []  # the shorter log is a valid signed chain
    found = breaks(rig, tenant, with_anchor=True)
    assert any(f.startswith("CHECKPOINT") and hold_id in f and "seq 3" in f for f in found), found
    assert not any("litigation" in f or "secret-42" in f for f in found), found  # ids only, no content


def test_a_changed_hold_log_entry_is_reported_with_the_anchor(rig: Rig) -> None:
    tenant = "t-hold-changed"
    first, _ = held_tenant(rig, tenant)
    mutate(
        rig.store, f"ALTER TABLE hold_audit UPDATE created_ns = created_ns + 1 WHERE tenant_id = '{tenant}' AND seq = 2"
    )
    found = breaks(rig, tenant, with_anchor=True)
    assert any(f.startswith("CHECKPOINT") and first in f and "seq 2" in f and "differs" in f for f in found), found


def test_a_tenant_only_in_the_anchored_hold_log_is_checked(rig: Rig) -> None:
    tenant = "t-hold-only"  # no events, no checkpoints: only holds
    writer = open_writer(rig.integrity, rig.store)
    hold = place_hold(rig.store, writer, tenant, "", "litigation", "legal", lambda s: s)
    for table in ("hold_audit", "legal_holds"):
        mutate(rig.store, f"ALTER TABLE {table} DELETE WHERE tenant_id = '{tenant}'")
    report = verify_store(rig.store, pinned(rig), anchor=anchor(rig))
    found = [f.describe() for f in report.breaks if f.tenant_id == tenant]
    assert any(hold.hold_id in f and "seq 1" in f for f in found), found


def anchor_copy(rig: Rig, at: Path, edit: Callable[[list[bytes]], list[bytes]]) -> Path:
    """A copy of the module's anchor file with its lines (each with its newline) edited: the tests
    sharing the original keep it whole."""
    lines = (Path(anchor(rig)) / "checkpoints.jsonl").read_bytes().splitlines(keepends=True)
    at.mkdir()
    (at / "checkpoints.jsonl").write_bytes(b"".join(edit(lines)))
    return at


def test_a_torn_last_line_of_the_anchor_is_a_note_not_a_crash(rig: Rig, tmp_path: Path) -> None:
    tenant = "t-hold-torn"
    held_tenant(rig, tenant)
    # A crash mid-append: the start of a record, no newline.
    torn = b'{"table":"hold_audit","tenant_id":"t-hold-torn","seq":4,"reason":"litigation secret-'
    copy = anchor_copy(rig, tmp_path / "anchor", lambda lines: [*lines, torn])
    last = len((copy / "checkpoints.jsonl").read_bytes().split(b"\n"))
    report = verify_store(rig.store, pinned(rig), tenant=tenant, anchor=str(copy))  # raised JSONDecodeError
    assert [f.describe() for f in report.breaks] == []
    notes = [f.describe() for f in report.tenants[0].findings if f.kind == "torn"]
    assert len(notes) == 1 and f"line {last} is an append cut short" in notes[0] and "secret" not in notes[0], notes
    everyone = verify_store(rig.store, pinned(rig), anchor=str(copy))  # the anchor's tenants are read too
    assert tenant in [t.tenant_id for t in everyone.tenants]
    assert [f.describe() for f in everyone.breaks if f.tenant_id == tenant] == []


def test_an_unreadable_line_inside_the_anchor_is_a_break_naming_its_line(rig: Rig, tmp_path: Path) -> None:
    tenant = "t-hold-garbled"
    _, hold_id = held_tenant(rig, tenant)

    def garble(lines: list[bytes]) -> list[bytes]:
        # The record that placed the binding hold, cut in half: its newline stays.
        at = next(i for i, line in enumerate(lines) if hold_id.encode() in line and b'"action":"place"' in line)
        garbled.append(at + 1)
        return [*lines[:at], lines[at][: len(lines[at]) // 2] + b"\n", *lines[at + 1 :]]

    garbled: list[int] = []
    copy = anchor_copy(rig, tmp_path / "anchor", garble)
    found = [f.describe() for f in verify_store(rig.store, pinned(rig), tenant=tenant, anchor=str(copy)).breaks]
    assert any(f.startswith("CHECKPOINT") and f"anchor file line {garbled[0]} " in f for f in found), found
    assert not any("litigation" in f or "secret-42" in f for f in found), found  # line numbers, no content


def retention_cli(rig: Rig, tenant: str, export_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The operator's routine job, `retention apply`, configured as the app is: the anchor's export
    dir and the signing key's directory."""
    monkeypatch.setenv("AUDIT_CHECKPOINT_EXPORT_DIR", str(export_dir))
    monkeypatch.setenv("AUDIT_KEY_DIR", str(rig.base / "keys"))
    assert main(["--dsn", rig.store.dsn, "retention", "set", "--tenant", tenant, "--days", "30"]) == 0
    assert main(["--dsn", rig.store.dsn, "retention", "apply", "--tenant", tenant]) == 0


def cut_hold(rig: Rig, tenant: str, hold_id: str, from_seq: int) -> None:
    """What someone with SQL write access does: the log's tail from ``from_seq`` and the hold's row go."""
    mutate(rig.store, f"ALTER TABLE hold_audit DELETE WHERE tenant_id = '{tenant}' AND seq >= {from_seq}")
    mutate(rig.store, f"ALTER TABLE legal_holds DELETE WHERE tenant_id = '{tenant}' AND hold_id = '{hold_id}'")


def events_of(rig: Rig, tenant: str) -> list[tuple[Any, ...]]:
    return rows(rig.store, "SELECT correlation_id, count() FROM events WHERE tenant_id = {t:String} GROUP BY 1 "
                "ORDER BY 1", t=tenant)  # fmt: skip


def test_retention_obeys_a_tenant_hold_only_the_anchor_still_places(
    rig: Rig, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    tenant = "t-hold-retained"
    _, hold_id = held_tenant(rig, tenant)
    cut_hold(rig, tenant, hold_id, 3)
    assert binding_holds(rig.store, tenant, pinned(rig)) == []  # the store alone no longer knows the hold
    retention_cli(rig, tenant, Path(anchor(rig)), monkeypatch)
    assert events_of(rig, tenant) == [(f"{tenant}-task-0", 5), (f"{tenant}-task-1", 5)]  # deleted before
    assert "expired 0 interval(s)" in capsys.readouterr().out


def test_retention_keeps_a_cut_task_hold_and_still_expires_the_rest(
    rig: Rig, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    tenant = "t-hold-task-cut"
    for t in range(2):
        rig.run_task(tenant, f"{tenant}-task-{t}", 5, when=OLD)  # one sealed interval each
    rig.seal()
    writer = open_writer(rig.integrity, rig.store)
    released = place_hold(rig.store, writer, tenant, f"{tenant}-task-0", "case 7", "legal", lambda s: s)
    release_hold(rig.store, writer, tenant, released.hold_id, "settled", "legal", lambda s: s)
    hold = place_hold(rig.store, writer, tenant, f"{tenant}-task-1", "case 8", "legal", lambda s: s)
    cut_hold(rig, tenant, hold.hold_id, 3)
    retention_cli(rig, tenant, Path(anchor(rig)), monkeypatch)
    # The hold the anchor releases binds nothing; the one it places and never releases still binds.
    assert events_of(rig, tenant) == [(f"{tenant}-task-1", 5)]
    assert "expired 1 interval(s) [(1, 5)] (5 events); kept for legal hold: [(6, 10)]" in capsys.readouterr().out


def test_retention_reads_past_a_torn_anchor_line_and_stops_at_an_unreadable_one(
    rig: Rig, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tenant = "t-hold-torn-retained"
    _, hold_id = held_tenant(rig, tenant)
    cut_hold(rig, tenant, hold_id, 3)
    torn = anchor_copy(rig, tmp_path / "torn", lambda lines: [*lines, b'{"table":"hold_audit","tenant_id":"t-h'])
    retention_cli(rig, tenant, torn, monkeypatch)
    assert sum(n for _, n in events_of(rig, tenant)) == 10
    garbled = anchor_copy(rig, tmp_path / "garbled", lambda lines: [b"{not json\n", *lines])
    monkeypatch.setenv("AUDIT_CHECKPOINT_EXPORT_DIR", str(garbled))
    assert main(["--dsn", rig.store.dsn, "retention", "apply", "--tenant", tenant]) == 2
    assert "anchor file line(s) 1 unreadable" in capsys.readouterr().err
    assert sum(n for _, n in events_of(rig, tenant)) == 10


def test_the_record_after_a_torn_append_gets_a_line_of_its_own(rig: Rig, tmp_path: Path) -> None:
    tenant = "t-hold-after-crash"
    export = tmp_path / "anchor"
    export.mkdir()
    (export / "checkpoints.jsonl").write_bytes(b'{"table":"checkpoints","tenant_id":"t-o')  # the crash
    settings = IntegritySettings(key_dir=str(rig.base / "keys"), checkpoint_export_dir=str(export))
    hold = place_hold(rig.store, open_writer(settings, rig.store), tenant, "", "litigation", "legal", lambda s: s)
    cut_hold(rig, tenant, hold.hold_id, 1)
    report = verify_store(rig.store, pinned(rig), tenant=tenant, anchor=str(export))
    found = [f.describe() for f in report.breaks]
    # Appended to the torn line, the entry was lost in it; on a line of its own, the cut is seen.
    assert any(hold.hold_id in f and "seq 1" in f and "missing" in f for f in found), found
    # The writer ended the torn line and marked it: no longer last, it is still a crash's note, not
    # a break (unmarked, it could not be told from an edited record, and verify failed for good).
    assert not any("anchor file line" in f for f in found), found
    notes = [f.describe() for t in report.tenants for f in t.findings if f.kind == "torn"]
    assert any("anchor file line 1 " in n for n in notes), notes
    lines = (export / "checkpoints.jsonl").read_bytes().split(b"\n")
    assert json.loads(lines[1]) == {"table": "torn", "line": 1}


def test_a_torn_mark_excuses_only_the_line_right_before_it(rig: Rig, tmp_path: Path) -> None:
    export = tmp_path / "anchor"
    export.mkdir()
    good = '{"table":"torn","line":1}'
    (export / "checkpoints.jsonl").write_text(f"garbage-one\n{good}\ngarbage-three\nx\n{good}\n", encoding="utf-8")
    held_tenant(rig, "t-hold-marks")
    report = verify_store(rig.store, pinned(rig), tenant="t-hold-marks", anchor=str(export))
    found = [f.describe() for f in report.breaks]
    # Line 1 is excused by its mark; lines 3 and 4 are not (the mark on line 5 names line 1), and a
    # mark that excuses nothing is itself not a record.
    assert not any("anchor file line 1 " in f for f in found), found
    assert all(any(f"anchor file line {n} " in f for f in found) for n in (3, 4, 5)), found


def help_text(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit):
        main([*argv, "--help"])
    return " ".join(capsys.readouterr().out.split())


def test_cli_help_says_what_the_anchor_holds_and_that_retention_obeys_it(capsys: pytest.CaptureFixture[str]) -> None:
    verify_help = help_text(capsys, "verify")
    assert "checkpoint, tombstone and hold-log entry" in verify_help, verify_help
    retention_help = help_text(capsys, "retention")  # the subcommand list carries each action's help
    assert "AUDIT_CHECKPOINT_EXPORT_DIR" in retention_help and "anchor file" in retention_help, retention_help


def doc_section(page: str, heading: str) -> str:
    text = (Path(__file__).resolve().parents[2] / "docs" / page).read_text(encoding="utf-8")
    start = text.index(heading + "\n")
    end = text.find("\n#", start + len(heading))
    return text[start : end if end >= 0 else None]


def test_the_docs_say_the_hold_log_is_anchored_and_what_verify_and_retention_make_of_it() -> None:
    assert "AUDIT_CHECKPOINT_EXPORT_DIR" in doc_section("schema.md", "### `hold_audit`")
    assert "**Retention obeys the anchor.**" in doc_section("integrity.md", "## Retention and legal holds")
    signed, verify = doc_section("integrity.md", "## Signed checkpoints"), doc_section("integrity.md", "## Verify")
    assert "**A torn anchor line.**" in signed and "`TORN`" in verify  # the note kind the anchor reader emits


def test_verify_with_a_missing_anchor_is_a_clean_error(
    rig: Rig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "no-such-anchor"
    assert main(["--dsn", rig.store.dsn, "verify", "--anchor", str(missing)]) == 2
    err = capsys.readouterr().err
    assert "no anchor file at" in err and "Traceback" not in err


def test_an_anchor_line_with_a_number_that_is_not_one_is_a_break_not_a_crash(rig: Rig, tmp_path: Path) -> None:
    tenant = "t-hold-bad-seq"
    _, hold_id = held_tenant(rig, tenant)

    def bad_seq(lines: list[bytes]) -> list[bytes]:
        at = next(i for i, line in enumerate(lines) if hold_id.encode() in line)
        record = json.loads(lines[at])
        record["seq"] = "one"
        return [*lines[:at], json.dumps(record).encode() + b"\n", *lines[at + 1 :]]

    copy = anchor_copy(rig, tmp_path / "anchor", bad_seq)
    found = [f.describe() for f in verify_store(rig.store, pinned(rig), tenant=tenant, anchor=str(copy)).breaks]
    assert any(f.startswith("CHECKPOINT") and "is not a record" in f for f in found), found
