"""The file anchor: signed records copied outside ClickHouse, compared with the store by ``verify --anchor``.

``SignedWriter`` appends every checkpoint, tombstone and hold-log entry to ``DIR/checkpoints.jsonl``
(one JSON object a line, ``table`` naming its table) when ``AUDIT_CHECKPOINT_EXPORT_DIR`` is set.
Whoever can write the store can delete the newest of them consistently (the rest still verifies);
the anchor, kept on other (ideally WORM) storage, shows they existed.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._holds import hold_log
from ._offline import Finding
from ._signed import ANCHOR_FILE, HOLD_LOG_COLUMNS, load_checkpoints, load_tombstones

if TYPE_CHECKING:
    from .._store._client import Store


def anchor_file(path: Path) -> Path:
    return path / ANCHOR_FILE if path.is_dir() else path


def read_anchor(path: Path) -> list[dict[str, Any]]:
    """Every record of the anchor file (``path`` is its directory or the file itself)."""
    lines = anchor_file(path).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def anchor_tenants(records: list[dict[str, Any]]) -> set[str]:
    """Every tenant the anchor holds a checkpoint, tombstone or hold-log entry of."""
    return {str(r["tenant_id"]) for r in records}


def compare_anchor(store: Store, tenant: str, records: list[dict[str, Any]]) -> list[Finding]:
    """Every record of ``tenant`` in the anchor must still be in the store, unchanged."""
    mine = [r for r in records if r["tenant_id"] == tenant]
    holds = [r for r in mine if r.get("table") == "hold_audit"]
    signed = [r for r in mine if r.get("table") != "hold_audit"]
    return _compare_signed(store, tenant, signed) + _compare_hold_log(store, tenant, holds)


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
