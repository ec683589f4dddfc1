"""The file anchor: signed records copied outside ClickHouse, compared with the store by ``verify --anchor``.

``SignedWriter`` appends every checkpoint, tombstone and hold-log entry to ``DIR/checkpoints.jsonl``
(one JSON object a line, ``table`` naming its table) when ``AUDIT_CHECKPOINT_EXPORT_DIR`` is set.
Whoever can write the store can delete the newest of them consistently (the rest still verifies);
the anchor, kept on other (ideally WORM) storage, shows they existed.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._holds import hold_log
from ._offline import Finding
from ._signed import (
    ANCHOR_FILE,
    CHECKPOINT_COLUMNS,
    HOLD_LOG_COLUMNS,
    TOMBSTONE_COLUMNS,
    TORN_MARK,
    load_checkpoints,
    load_tombstones,
)
from .errors import IntegrityError

if TYPE_CHECKING:
    from .._store._client import Store

_NUMBERS = ("seq", "from_seq", "to_seq", "created_ns")
_COLUMNS = {"checkpoints": CHECKPOINT_COLUMNS, "tombstones": TOMBSTONE_COLUMNS, "hold_audit": HOLD_LOG_COLUMNS}


@dataclass(frozen=True, slots=True)
class Anchor:
    """The anchor file as read: its records, and which lines (numbered from 1) are not a record.

    ``torn`` holds the lines that are appends a crash cut short, not edits: the last line when it is
    unreadable and unterminated (the writer appends a whole line at once), and an unreadable line
    the writer ended and marked (``TORN_MARK`` on the very next line) before its next append. Any
    other unreadable line is in ``unreadable``: a record there can no longer be compared, and it
    may have been any tenant's. On append-only storage nobody can edit a line and mark it after.
    """

    records: tuple[dict[str, Any], ...] = ()
    torn: tuple[int, ...] = ()
    unreadable: tuple[int, ...] = ()

    def tenants(self) -> set[str]:
        return {str(r["tenant_id"]) for r in self.records}

    def hold_entries(self, tenant: str) -> list[dict[str, Any]]:
        return [r for r in self.records if r["tenant_id"] == tenant and r["table"] == "hold_audit"]

    def file_findings(self, tenant: str) -> list[Finding]:
        """The file's own problems, reported with each tenant: names line numbers, never content."""
        found = [
            Finding("checkpoint", tenant, 0, f"anchor file line {n} is not a record (edited or damaged): whatever "
                    "it anchored cannot be compared with the store")
            for n in self.unreadable
        ]  # fmt: skip
        found += [
            Finding("torn", tenant, 0, f"anchor file line {n} is an append cut short (not a record: a crash "
                    "mid-write); ignored")
            for n in self.torn
        ]  # fmt: skip
        return found


def anchor_file(path: Path) -> Path:
    return path / ANCHOR_FILE if path.is_dir() else path


def read_anchor(path: Path, missing_ok: bool = False) -> Anchor:
    """The anchor file (``path`` is its directory or the file itself); ``missing_ok`` reads a file
    not written yet as empty."""
    file = anchor_file(path)
    if not file.exists():
        if missing_ok:
            return Anchor()
        raise IntegrityError(f"no anchor file at {file} (give the export directory or its {ANCHOR_FILE})")
    # Bytes, split on newlines only: a damaged line must not stop the read (undecodable text) or
    # shift the line numbers of the rest (str.splitlines also splits on other separators).
    lines = file.read_bytes().split(b"\n")
    records: list[dict[str, Any]] = []
    unreadable: list[int] = []
    torn: list[int] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if unreadable and unreadable[-1] == number - 1 and _is_torn_mark(line, number - 1):
            torn.append(unreadable.pop())
            continue
        record = _record(line)
        if record is None:
            unreadable.append(number)
        else:
            records.append(record)
    # The split leaves b"" after a final newline, so a last element with content was never terminated.
    if unreadable and unreadable[-1] == len(lines):
        torn.append(unreadable.pop())
    return Anchor(tuple(records), tuple(torn), tuple(unreadable))


def export_anchor(export_dir: str) -> Anchor:
    """The anchor of an export dir (``AUDIT_CHECKPOINT_EXPORT_DIR``): empty when none is configured,
    or when one is but nothing signed has been written to it yet."""
    return read_anchor(Path(export_dir).expanduser(), missing_ok=True) if export_dir else Anchor()


def _is_torn_mark(line: bytes, torn_line: int) -> bool:
    try:
        mark = json.loads(line)
    except (ValueError, RecursionError):
        return False
    return isinstance(mark, dict) and mark.get("table") == TORN_MARK and mark.get("line") == torn_line


def _record(line: bytes) -> dict[str, Any] | None:
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested past the parser's depth
        return None
    if not isinstance(record, dict) or not isinstance(record.get("tenant_id"), str):
        return None
    columns = _COLUMNS.get(str(record.get("table")))
    if columns is None or not all(c in record for c in columns):
        return None
    # Numbers the readers order and compare by: a line whose are not is no record (and must not crash them).
    numbers = [record[c] for c in _NUMBERS if c in columns]
    return record if all(type(n) is int and n >= 0 for n in numbers) else None


def anchor_tenants(anchor: Anchor) -> set[str]:
    """Every tenant the anchor holds a checkpoint, tombstone or hold-log entry of."""
    return anchor.tenants()


def compare_anchor(store: Store, tenant: str, anchor: Anchor) -> list[Finding]:
    """Every record of ``tenant`` in the anchor must still be in the store, unchanged."""
    mine = [r for r in anchor.records if r["tenant_id"] == tenant]
    holds = [r for r in mine if r["table"] == "hold_audit"]
    signed = [r for r in mine if r["table"] != "hold_audit"]
    found = _compare_signed(store, tenant, signed) + _compare_hold_log(store, tenant, holds)
    return found + anchor.file_findings(tenant)


def _compare_signed(store: Store, tenant: str, records: list[dict[str, Any]]) -> list[Finding]:
    if not records:
        return []
    stored = {r["signature"] for r in load_checkpoints(store, tenant) + load_tombstones(store, tenant)}
    return [
        Finding("checkpoint", tenant, int(r["to_seq"]),
                f"{r['table']} {r['from_seq']}..{r['to_seq']} in the anchor file is missing or changed in the store")
        for r in records if r["signature"] not in stored
    ]  # fmt: skip


def _compare_hold_log(store: Store, tenant: str, records: list[dict[str, Any]]) -> list[Finding]:
    """An anchored hold-log entry absent from ``hold_audit`` (a log cut at its tail, with the hold's
    ``legal_holds`` row, still verifies by itself) or different there. Names ids only: the entry's
    seq and hold id."""
    if not records:
        return []
    stored: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for entry in hold_log(store, tenant):
        stored[int(entry["seq"])].append(entry)
    findings = []
    for record in sorted(records, key=lambda r: int(r["seq"])):
        seq, at_seq = int(record["seq"]), stored.get(int(record["seq"]), [])
        if any(all(str(e[c]) == str(record[c]) for c in HOLD_LOG_COLUMNS) for e in at_seq):
            continue
        problem = "differs from the one in hold_audit" if at_seq else "is missing from hold_audit"
        findings.append(Finding("checkpoint", tenant, 0, f"hold log entry seq {seq} (hold {record['hold_id']}) in "
                                f"the anchor file {problem} (the hold log was cut or rewritten)"))  # fmt: skip
    return findings
