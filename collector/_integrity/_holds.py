"""Legal holds: suspend expiry for a tenant or a task; every change is a signed, chained log entry."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._signed import HOLD_LOG_COLUMNS, SignedWriter
from .errors import IntegrityError

if TYPE_CHECKING:
    from .._store._client import Store

HOLD_COLUMNS = ["tenant_id", "correlation_id", "hold_id", "reason", "actor", "active", "version"]
LOG_COLUMNS = HOLD_LOG_COLUMNS
Redact = Callable[[str], str]


@dataclass(frozen=True, slots=True)
class Hold:
    """A legal hold: on a whole tenant when ``correlation_id`` is empty, else on one task."""

    tenant_id: str
    correlation_id: str
    hold_id: str
    reason: str
    actor: str
    active: bool


def active_holds(store: Store, tenant_id: str = "") -> list[Hold]:
    _, rows = store.query(
        f"SELECT {', '.join(HOLD_COLUMNS[:-1])} FROM legal_holds FINAL "
        "WHERE active = 1 AND ({t:String} = '' OR tenant_id = {t:String}) ORDER BY tenant_id, hold_id",
        parameters={"t": tenant_id},
    )
    return [Hold(str(t), str(c), str(h), str(r), str(a), bool(x)) for t, c, h, r, a, x in rows]


def signed_holds(entries: Sequence[Mapping[str, Any]]) -> dict[str, bool]:
    """Each hold of a tenant's signed log, and whether its last entry places it (True) or releases it."""
    state: dict[str, bool] = {}
    for entry in sorted(entries, key=lambda e: int(e["seq"])):
        state[str(entry["hold_id"])] = entry["action"] == "place"
    return state


def binding_holds(store: Store, tenant_id: str, anchored: Sequence[Mapping[str, Any]] = ()) -> list[Hold]:
    """The holds retention must obey: active in ``legal_holds`` or, by the signed log, never released;
    ``anchored`` is the tenant's hold log as the file anchor has it, and binds the same way.

    ``legal_holds`` is a plain table: a row marking a hold released can be written by anyone who can
    write the store, and retention would then delete what the hold protects. A release counts only
    when the signed log has it too; verify reports the disagreement (see ``hold_disagreements``).
    The same writer can also delete the log's newest entries with the hold's row, and the shorter
    log still verifies: only the anchor, outside the store, still places the hold.
    """
    holds = {h.hold_id: h for h in active_holds(store, tenant_id)}
    for log in (hold_log(store, tenant_id), anchored):
        placed = {str(e["hold_id"]): e for e in log if e["action"] == "place"}
        for hold_id, active in signed_holds(log).items():
            if active and hold_id not in holds:
                entry = placed[hold_id]
                holds[hold_id] = Hold(tenant_id, str(entry["correlation_id"]), hold_id, str(entry["reason"]),
                                      str(entry["actor"]), True)  # fmt: skip
    return sorted(holds.values(), key=lambda h: h.hold_id)


def hold_disagreements(store: Store, tenant_id: str, log: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(hold id, what is wrong) for each hold whose ``legal_holds`` row and signed log disagree."""
    _, rows = store.query(
        "SELECT hold_id, active FROM legal_holds FINAL WHERE tenant_id = {t:String}", parameters={"t": tenant_id}
    )
    table = {str(h): bool(a) for h, a in rows}
    signed = signed_holds(log)
    out = []
    for hold_id, active in signed.items():
        if hold_id not in table:
            out.append((hold_id, "missing"))
        elif table[hold_id] != active:
            out.append((hold_id, "released" if active else "reactivated"))
    out += [(hold_id, "unlogged") for hold_id in table if hold_id not in signed]
    return out


def place_hold(
    store: Store, writer: SignedWriter, tenant_id: str, correlation_id: str, reason: str, actor: str, redact: Redact
) -> Hold:
    """Place a hold (reason and actor are redacted before they are stored or signed)."""
    if not tenant_id:
        raise IntegrityError("a legal hold needs a tenant")
    hold = Hold(tenant_id, correlation_id, "hold-" + secrets.token_hex(6), redact(reason), redact(actor), True)
    _log(store, writer, hold, "place", hold.reason)
    _save(store, hold)
    return hold


def release_hold(store: Store, writer: SignedWriter, tenant_id: str, hold_id: str, reason: str, actor: str,
                 redact: Redact) -> Hold:  # fmt: skip
    current = [h for h in active_holds(store, tenant_id) if h.hold_id == hold_id]
    if not current:
        raise IntegrityError(f"no active hold {hold_id} on tenant {tenant_id}")
    hold = Hold(tenant_id, current[0].correlation_id, hold_id, current[0].reason, redact(actor), False)
    _log(store, writer, hold, "release", redact(reason))
    _save(store, hold)
    return hold


def hold_log(store: Store, tenant_id: str) -> list[dict[str, Any]]:
    _, rows = store.query(
        f"SELECT {', '.join(LOG_COLUMNS)} FROM hold_audit WHERE tenant_id = {{t:String}} ORDER BY seq",
        parameters={"t": tenant_id},
    )
    return [dict(zip(LOG_COLUMNS, row, strict=True)) for row in rows]


def _save(store: Store, hold: Hold) -> None:
    row = [hold.tenant_id, hold.correlation_id, hold.hold_id, hold.reason, hold.actor, int(hold.active), time.time_ns()]
    store.insert("legal_holds", [row], HOLD_COLUMNS)


def _log(store: Store, writer: SignedWriter, hold: Hold, action: str, reason: str) -> None:
    # The log is written before the state: a crash in between leaves an audited intent, never a silent change.
    # The writer signs the entry (key id, time), inserts it and copies it to the file anchor when configured.
    previous = hold_log(store, hold.tenant_id)
    writer.hold_entry({
        "tenant_id": hold.tenant_id, "seq": len(previous) + 1, "action": action, "hold_id": hold.hold_id,
        "correlation_id": hold.correlation_id, "reason": reason, "actor": hold.actor,
        "prev_signature": previous[-1]["signature"] if previous else "",
    })  # fmt: skip
