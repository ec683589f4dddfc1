"""Writing signed records: checkpoints, tombstones and hold-log entries, into the store and optionally
to a file anchor."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._keys import SigningKey
from ._offline import checkpoint_message, hold_message, tombstone_message

if TYPE_CHECKING:
    from .._store._client import Store

CHECKPOINT_COLUMNS = [
    "tenant_id", "from_seq", "to_seq", "first_prev", "last_hash", "merkle_root", "prev_signature", "key_id",
    "created_ns", "signature",
]  # fmt: skip
TOMBSTONE_COLUMNS = [
    "tenant_id", "from_seq", "to_seq", "events", "last_hash", "reason", "prev_signature", "key_id", "created_ns",
    "signature",
]  # fmt: skip
HOLD_LOG_COLUMNS = [
    "tenant_id", "seq", "action", "hold_id", "correlation_id", "reason", "actor", "created_ns", "prev_signature",
    "key_id", "signature",
]  # fmt: skip
ANCHOR_FILE = "checkpoints.jsonl"
log = logging.getLogger("collector.integrity")


class SignedWriter:
    """Signs a record, inserts it, and appends it to ``export_dir/checkpoints.jsonl`` when configured."""

    def __init__(
        self, store: Store, key: SigningKey, export_dir: str = "", publish: Callable[[], None] | None = None
    ) -> None:
        self._store = store
        self._key = key
        self._export = Path(export_dir).expanduser() / ANCHOR_FILE if export_dir else None
        # Publishing the public key needs the store; when it was down at start, the first signed
        # write publishes it (a checkpoint whose key the store does not list could not be verified).
        self._publish = publish

    @property
    def key(self) -> SigningKey:
        return self._key

    def checkpoint(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        return self._write("checkpoints", CHECKPOINT_COLUMNS, checkpoint_message, fields)

    def tombstone(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        return self._write("tombstones", TOMBSTONE_COLUMNS, tombstone_message, fields)

    def hold_entry(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """One entry of a tenant's legal-hold log (``hold_audit``); the caller chains it (seq, prev_signature)."""
        return self._write("hold_audit", HOLD_LOG_COLUMNS, hold_message, fields)

    def _write(
        self, table: str, columns: list[str], message: Callable[[Mapping[str, Any]], bytes], fields: Mapping[str, Any]
    ) -> dict[str, Any]:
        if self._publish is not None:
            self._publish()
            self._publish = None
        record = {**fields, "key_id": self._key.key_id, "created_ns": time.time_ns()}
        record["signature"] = self._key.sign(message(record))
        self._store.insert(table, [[record[c] for c in columns]], columns)
        if self._export is not None:
            # The file anchor survives a rewrite of ClickHouse; `verify --anchor` compares the two. It
            # is appended after the insert: a crash in between leaves the anchor short, never ahead.
            self._export.parent.mkdir(parents=True, exist_ok=True)
            _append_line(self._export, json.dumps({"table": table, **record}, separators=(",", ":")))
        return record


# The ``table`` of the line the writer appends after ending a torn one (see ``_append_line``).
TORN_MARK = "torn"


def _append_line(path: Path, line: str) -> None:
    with path.open("a+b") as handle:
        end, torn = handle.seek(0, os.SEEK_END), False
        if end:
            handle.seek(end - 1)
            torn = handle.read(1) != b"\n"
        prefix = ""
        if torn:
            # A crash mid-append left a line without its newline: appended to it, this record would be
            # lost inside an unreadable line. So the torn line is ended, and a marker right after it
            # says it was torn: no longer last, it would otherwise read as an edited record forever.
            handle.seek(0)
            number = handle.read().count(b"\n") + 1
            prefix = "\n" + json.dumps({"table": TORN_MARK, "line": number}, separators=(",", ":")) + "\n"
            log.warning("integrity: the anchor file %s ended in a line cut short; it was ended and marked", path)
        handle.write((prefix + line + "\n").encode("utf-8"))


def load_checkpoints(store: Store, tenant_id: str) -> list[dict[str, Any]]:
    return _load(store, "checkpoints", CHECKPOINT_COLUMNS, tenant_id)


def load_tombstones(store: Store, tenant_id: str) -> list[dict[str, Any]]:
    return _load(store, "tombstones", TOMBSTONE_COLUMNS, tenant_id)


def _load(store: Store, table: str, columns: list[str], tenant_id: str) -> list[dict[str, Any]]:
    _, rows = store.query(
        f"SELECT {', '.join(columns)} FROM {table} WHERE tenant_id = {{t:String}} ORDER BY to_seq, created_ns",
        parameters={"t": tenant_id},
    )
    return [dict(zip(columns, row, strict=True)) for row in rows]
