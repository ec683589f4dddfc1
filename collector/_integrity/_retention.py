"""Retention: expire whole checkpoint intervals, leaving a signed tombstone; legal holds win."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._anchor import Anchor, export_anchor
from ._holds import Binding, binding
from ._keys import release_keys
from ._settings import IntegritySettings
from ._signed import SignedWriter, load_checkpoints, load_tombstones
from .errors import IntegrityError

if TYPE_CHECKING:
    from .._store._client import Store

DAY_NS = 86_400 * 10**9
# How an event is classified for retention: PII was found (and redacted), redaction failed, or neither.
CLASS_SQL = "multiIf(redaction_status != 'ok', 'failed', length(mapKeys(redaction)) > 0, 'pii', 'standard')"
CLASSES = ("standard", "pii", "failed")


@dataclass(frozen=True, slots=True)
class Policy:
    tenant_id: str  # '*' for every tenant
    classification: str  # one of CLASSES, or '*'
    days: int


@dataclass(frozen=True, slots=True)
class RetentionResult:
    tenant_id: str
    expired: tuple[tuple[int, int], ...]  # chain_seq ranges tombstoned by this run
    held: tuple[tuple[int, int], ...]  # due ranges kept because a hold covers one of their events
    events_deleted: int
    notes: tuple[str, ...] = ()  # why data was kept: a tenant-wide hold, a release that does not count


def set_policy(store: Store, tenant_id: str, classification: str, days: int) -> Policy:
    if classification not in (*CLASSES, "*"):
        raise IntegrityError(f"unknown classification {classification!r}: use one of {', '.join(CLASSES)} or *")
    if days < 1:
        raise IntegrityError("retention must be at least one day")
    if not tenant_id.strip():  # no event has an empty tenant: the rule would never apply
        raise IntegrityError("a retention rule needs a tenant, or * for every tenant")
    store.insert("retention_policies", [[tenant_id, classification, days, time.time_ns()]],
                 ["tenant_id", "classification", "days", "version"])  # fmt: skip
    return Policy(tenant_id, classification, days)


def policies(store: Store) -> list[Policy]:
    _, rows = store.query("SELECT tenant_id, classification, days FROM retention_policies FINAL ORDER BY 1, 2")
    return [Policy(str(t), str(c), int(d)) for t, c, d in rows]


def days_for(rules: list[Policy], tenant: str, classification: str) -> int | None:
    """Most specific rule wins: (tenant, class) > (tenant, *) > (*, class) > (*, *); None keeps forever."""
    table = {(p.tenant_id, p.classification): p.days for p in rules}
    for key in ((tenant, classification), (tenant, "*"), ("*", classification), ("*", "*")):
        if key in table:
            return table[key]
    return None


def apply_retention(
    store: Store,
    writer: SignedWriter | None,
    now_ns: int | None = None,
    tenant: str = "",
    dry_run: bool = False,
    anchor: str | None = None,
    keys: Mapping[str, Any] | None = None,
) -> list[RetentionResult]:
    """Tombstone, then delete, every sealed interval whose events all passed their retention.

    ``anchor`` is the file anchor (export dir or its file; None: ``AUDIT_CHECKPOINT_EXPORT_DIR``):
    a hold it places and never releases binds, even when the store's log and table lost it.
    ``keys`` are the public keys a hold release must be signed under to count (None: the writer's,
    else the configured signing key's; see ``release_keys``).
    """
    now_ns = time.time_ns() if now_ns is None else now_ns
    rules = policies(store)
    if not rules:
        return []
    settings = IntegritySettings()
    if keys is None:
        keys = release_keys(settings, store.dsn, key=writer.key if writer is not None else None)
    anchored = _read_anchor(settings.checkpoint_export_dir if anchor is None else anchor)
    _, rows = store.query("SELECT DISTINCT tenant_id FROM checkpoints WHERE {t:String} = '' OR tenant_id = {t:String}",
                          parameters={"t": tenant})  # fmt: skip
    results = []
    for (name,) in rows:
        bound = binding(store, str(name), keys, anchored.hold_entries(str(name)))
        results.append(_apply_tenant(store, writer, str(name), rules, now_ns, dry_run, bound))
    return results


def holds_in_force(store: Store, keys: Mapping[str, Any], anchored: Anchor, tenant: str = "") -> list[Binding]:
    """What ``apply_retention`` obeys, for every tenant with a hold anywhere (or ``tenant``): each hold
    that binds, with where it binds from, and each release that does not count."""
    if tenant:
        names = {tenant}
    else:
        _, rows = store.query("SELECT DISTINCT tenant_id FROM (SELECT tenant_id FROM legal_holds UNION ALL "
                              "SELECT tenant_id FROM hold_audit)")  # fmt: skip
        names = {str(r[0]) for r in rows} | {
            str(r["tenant_id"]) for r in anchored.records if r["table"] == "hold_audit"
        }
    return [binding(store, name, keys, anchored.hold_entries(name)) for name in sorted(names)]


def _read_anchor(path: str) -> Anchor:
    anchored = export_anchor(path)
    if anchored.unreadable:
        # Such a line may be the only record of a hold: expiring now could delete what it protects.
        lines = ", ".join(map(str, anchored.unreadable))
        raise IntegrityError(f"anchor file line(s) {lines} unreadable: nothing expires while a hold anchored "
                             "there cannot be read (see verify --anchor)")  # fmt: skip
    return anchored


def _apply_tenant(
    store: Store, writer: SignedWriter | None, tenant: str, rules: list[Policy], now_ns: int, dry_run: bool,
    bound: Binding,
) -> RetentionResult:  # fmt: skip
    # A release only the plain table, or an unsigned log entry, records does not count; a hold only
    # the anchor still has does.
    notes = bound.refused
    whole = [h for h in bound.holds if not h.correlation_id]
    if whole:
        names = ", ".join(f"{h.hold_id} (via {', '.join(h.via)})" for h in whole)
        return RetentionResult(tenant, (), (), 0, (f"the whole tenant is on hold: {names}", *notes))
    held_tasks = sorted({h.correlation_id for h in bound.holds})
    shortest = min((d for d in (days_for(rules, tenant, c) for c in CLASSES) if d is not None), default=None)
    if shortest is None:
        return RetentionResult(tenant, (), (), 0, notes)
    tombs = load_tombstones(store, tenant)
    done = {(int(t["from_seq"]), int(t["to_seq"])) for t in tombs}
    prev_sig = str(tombs[-1]["signature"]) if tombs else ""
    # Candidates end before the first event young enough to be kept under the shortest rule: the
    # cut only ever keeps data longer, and spares a query per interval of a long chain.
    _, young = store.query(
        "SELECT min(chain_seq) FROM events WHERE tenant_id = {t:String} AND chain_hash != '' "
        "AND toUnixTimestamp64Micro(ts) > {cut:Int64}",  # micro: nano overflows past 2262
        parameters={"t": tenant, "cut": (now_ns - shortest * DAY_NS) // 1000},
    )
    first_young = int(young[0][0] or 0) or None
    expired, held, deleted = [], [], 0
    for cp in load_checkpoints(store, tenant):
        lo, hi = int(cp["from_seq"]), int(cp["to_seq"])
        if (lo, hi) in done or (first_young is not None and hi >= first_young):
            continue
        verdict, events = _interval_due(store, tenant, lo, hi, rules, now_ns, held_tasks)
        if verdict == "held":
            held.append((lo, hi))
        if verdict != "due":
            continue
        if dry_run:
            expired.append((lo, hi))
            deleted += events
            continue
        if writer is None:
            raise IntegrityError("expiring needs the signing key (AUDIT_SIGNING_KEY_FILE)")
        reason = "retention: " + ", ".join(f"{c}={days_for(rules, tenant, c)}d" for c in CLASSES)
        fields = {"tenant_id": tenant, "from_seq": lo, "to_seq": hi, "events": events}
        record = writer.tombstone(
            {**fields, "last_hash": cp["last_hash"], "reason": reason, "prev_signature": prev_sig}
        )
        prev_sig = record["signature"]
        _delete(store, tenant, lo, hi)
        expired.append((lo, hi))
        deleted += events
    return RetentionResult(tenant, tuple(expired), tuple(held), deleted, notes)


def _interval_due(
    store: Store, tenant: str, lo: int, hi: int, rules: list[Policy], now_ns: int, held_tasks: list[str]
) -> tuple[str, int]:
    _, rows = store.query(
        f"SELECT {CLASS_SQL} AS cls, max(toUnixTimestamp64Micro(ts)), count(), "
        "countIf(has({held:Array(String)}, correlation_id)) FROM events "
        "WHERE tenant_id = {t:String} AND chain_seq BETWEEN {lo:UInt64} AND {hi:UInt64} GROUP BY cls",
        parameters={"t": tenant, "lo": lo, "hi": hi, "held": held_tasks},
    )
    events = sum(int(r[2]) for r in rows)
    due = bool(rows)
    for cls, newest, _count, _held in rows:
        days = days_for(rules, tenant, str(cls))
        due = due and days is not None and int(newest) * 1000 + days * DAY_NS <= now_ns
    if not due:
        return "kept", events
    return ("held" if any(int(r[3]) for r in rows) else "due"), events


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _delete(store: Store, tenant: str, lo: int, hi: int) -> None:
    where = f"tenant_id = {_quote(tenant)} AND chain_seq BETWEEN {int(lo)} AND {int(hi)}"
    _, rows = store.query(f"SELECT DISTINCT correlation_id FROM events WHERE {where}")
    store.command(f"ALTER TABLE events DELETE WHERE {where} SETTINGS mutations_sync = 1")
    tasks = ", ".join(_quote(str(r[0])) for r in rows)
    if tasks:
        # A task whose every event expired goes too; one that still has events keeps its row.
        store.command(
            f"ALTER TABLE tasks DELETE WHERE tenant_id = {_quote(tenant)} AND correlation_id IN ({tasks}) AND "
            f"correlation_id NOT IN (SELECT correlation_id FROM events WHERE tenant_id = {_quote(tenant)}) "
            "SETTINGS mutations_sync = 1"
        )
