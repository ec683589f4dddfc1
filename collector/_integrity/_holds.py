"""Legal holds: suspend expiry for a tenant or a task; every change is a signed, chained log entry."""

from __future__ import annotations

import dataclasses
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._offline import hold_message, signature_ok
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
    via: tuple[str, ...] = ()  # set by ``binding``: where the hold binds retention from


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


# Where a hold binds retention from: its active ``legal_holds`` row, the signed log in the store
# (``hold_audit``), the file anchor's copy of that log.
VIA_TABLE, VIA_LOG, VIA_ANCHOR = "table", "signed log", "anchor"


@dataclass(frozen=True, slots=True)
class Binding:
    """The holds retention obeys for one tenant (each with ``via`` set), and why each release of the
    logs that was not counted was not: hold ids, log and seq only, never a reason or an actor."""

    tenant_id: str
    holds: tuple[Hold, ...]
    refused: tuple[str, ...]


def binding(
    store: Store, tenant_id: str, keys: Mapping[str, Any], anchored: Sequence[Mapping[str, Any]] = ()
) -> Binding:
    """The holds retention must obey: active in ``legal_holds`` or, by the signed log, never released;
    ``anchored`` is the tenant's hold log as the file anchor has it, and binds the same way.

    ``legal_holds`` is a plain table: a row marking a hold released can be written by anyone who can
    write the store, and so can a release entry in ``hold_audit``. A release counts only when it is
    signed under one of ``keys`` (see ``release_keys``) and chained to the entry before it; a place
    counts always (a forged one only keeps data longer). The same writer can also delete the log's
    newest entries with the hold's row, and the shorter log still verifies: only the anchor, outside
    the store, still places the hold.
    """
    holds = {h.hold_id: h for h in active_holds(store, tenant_id)}
    via: dict[str, list[str]] = {hold_id: [VIA_TABLE] for hold_id in holds}
    stored = hold_log(store, tenant_id)
    # A release's predecessor may be missing from one copy (a lost anchor append, a cut store log).
    chained = {_link(e) for e in (*stored, *anchored)}
    refused: list[str] = []
    for name, log in ((VIA_LOG, stored), (VIA_ANCHOR, anchored)):
        counted = []
        for entry in log:
            problem = "" if entry["action"] == "place" else _release_problem(entry, keys, chained)
            if problem:
                refused.append(f"hold {entry['hold_id']}: the release at seq {entry['seq']} of the {name} does not "
                               f"count ({problem})")  # fmt: skip
            else:
                counted.append(entry)
        placed = {str(e["hold_id"]): e for e in counted if e["action"] == "place"}
        for hold_id, active in signed_holds(counted).items():
            if not active:
                continue
            via.setdefault(hold_id, []).append(name)
            if hold_id not in holds:
                entry = placed[hold_id]
                holds[hold_id] = Hold(tenant_id, str(entry["correlation_id"]), hold_id, str(entry["reason"]),
                                      str(entry["actor"]), True)  # fmt: skip
    found = [dataclasses.replace(h, via=tuple(via[h.hold_id])) for h in holds.values()]
    return Binding(tenant_id, tuple(sorted(found, key=lambda h: h.hold_id)), tuple(refused))


def binding_holds(
    store: Store, tenant_id: str, keys: Mapping[str, Any], anchored: Sequence[Mapping[str, Any]] = ()
) -> list[Hold]:
    return list(binding(store, tenant_id, keys, anchored).holds)


def _link(entry: Mapping[str, Any]) -> tuple[str, str]:
    return str(entry["seq"]), str(entry["signature"])


def _release_problem(entry: Mapping[str, Any], keys: Mapping[str, Any], chained: set[tuple[str, str]]) -> str:
    """Why a release (any entry that does not place) must not count; empty when it counts."""
    try:
        key_id, seq, prev = str(entry["key_id"]), int(entry["seq"]), str(entry["prev_signature"])
        signed = signature_ok(keys, key_id, str(entry["signature"]), hold_message(entry))
    except (TypeError, ValueError):  # a field of a type no writer stores: not a record anyone signed
        return "not a well-formed entry"
    if not signed:
        return "its signature does not verify under a key retention trusts"
    if (seq, prev) != (1, "") and (str(seq - 1), prev) not in chained:
        return "it is not chained to the entry before it"
    return ""


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
    if not tenant_id.strip():  # no event has a blank tenant: the hold would protect nothing
        raise IntegrityError("a legal hold needs a tenant")
    hold = Hold(tenant_id, correlation_id, "hold-" + secrets.token_hex(6), redact(reason), redact(actor), True)
    _log(store, writer, hold, "place", hold.reason)
    _save(store, hold)
    return hold


def release_hold(store: Store, writer: SignedWriter, tenant_id: str, hold_id: str, reason: str, actor: str,
                 redact: Redact, in_force: Hold | None = None) -> Hold:  # fmt: skip
    """Release a hold active in ``legal_holds``, or ``in_force``: the hold as retention sees it, which
    may bind through the signed log alone (its row marked released by a release that does not count)."""
    current = [h for h in active_holds(store, tenant_id) if h.hold_id == hold_id]
    if not current and in_force is not None and in_force.hold_id == hold_id:
        if "signed log" not in in_force.via and "table" not in in_force.via:
            # Its entries are gone from the store: a release logged now would take a place in the log
            # that the anchor says belongs to another entry.
            raise IntegrityError(
                f"hold {hold_id} binds only through the anchor file: the store lost its log entries (see "
                "verify --anchor); it cannot be released until they are restored"
            )
        current = [in_force]
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
