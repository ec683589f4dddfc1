"""Verify chains stored in ClickHouse: whole tenants, a time window, or one task (for the UI badge)."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._anchor import Anchor, anchor_tenants, compare_anchor, read_anchor
from ._holds import hold_disagreements, hold_log
from ._keys import store_public_keys
from ._offline import FIELDS_V1, GENESIS, Finding, Walker, verify_hold_log
from ._settings import IntegritySettings
from ._signed import load_checkpoints, load_tombstones

if TYPE_CHECKING:
    from .._store._client import Store

ROW_COLUMNS = [*FIELDS_V1, "chain_hash"]
_SELECT = ", ".join("toUnixTimestamp64Micro(ts) AS ts_us" if c == "ts_us" else c for c in ROW_COLUMNS)
_CHUNK = 50_000


@dataclass(frozen=True, slots=True)
class TenantReport:
    tenant_id: str
    events: int
    checkpoints: int
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return not any(f.breaks for f in self.findings)


@dataclass(frozen=True, slots=True)
class VerifyReport:
    tenants: tuple[TenantReport, ...]

    @property
    def ok(self) -> bool:
        return all(t.ok for t in self.tenants)

    @property
    def breaks(self) -> list[Finding]:
        return [f for t in self.tenants for f in t.findings if f.breaks]


@dataclass(frozen=True, slots=True)
class TaskVerdict:
    """What the UI shows per task: ``status`` is verified, pending (links intact, not yet sealed),
    broken, unchained or not_found; ``detail`` names the first problem."""

    tenant_id: str
    correlation_id: str
    status: str
    events: int
    detail: str = ""
    findings: tuple[Finding, ...] = ()

    @property
    def verified(self) -> bool:
        return self.status in ("verified", "pending")


def chain_rows(store: Store, tenant: str, lo: int, hi: int | None) -> Iterator[dict[str, Any]]:
    """Chained rows of a tenant with lo <= chain_seq <= hi, in chain order, read in chunks."""
    _, top = store.query("SELECT max(chain_seq) FROM events WHERE tenant_id = {t:String}", parameters={"t": tenant})
    end = int(top[0][0] or 0) if hi is None else hi
    start = lo
    while start <= end:
        _, rows = store.query(
            f"SELECT {_SELECT} FROM events WHERE tenant_id = {{t:String}} AND chain_hash != '' "
            "AND chain_seq BETWEEN {a:UInt64} AND {b:UInt64} ORDER BY chain_seq, event_id",
            parameters={"t": tenant, "a": start, "b": min(end, start + _CHUNK - 1)},
        )
        for row in rows:
            yield dict(zip(ROW_COLUMNS, row, strict=True))
        start += _CHUNK


# A row outside the walk: no hash, or a hash at chain_seq 0, where no chained event ever sits (the
# walk starts at 1, so such a row would otherwise be seen by nothing).
UNCHAINED_SQL = "(chain_hash = '' OR chain_seq = 0)"


def _unchained(store: Store, tenant: str, since_ns: int, task: str = "") -> list[Finding]:
    # Microseconds, not nanoseconds: toUnixTimestamp64Nano overflows past 2262, and one such row
    # (any tenant's) would make the query fail for every tenant.
    _, rows = store.query(
        "SELECT event_id, correlation_id, seq, chain_status FROM events WHERE tenant_id = {t:String} "
        f"AND {UNCHAINED_SQL} AND ({{s:Int64}} <= 0 OR toUnixTimestamp64Micro(ts) >= {{s:Int64}}) "
        "AND ({c:String} = '' OR correlation_id = {c:String}) "
        "ORDER BY correlation_id, seq LIMIT 1000",
        parameters={"t": tenant, "s": -(-since_ns // 1000), "c": task},
    )
    return [
        Finding("unchained", tenant, 0, f"row carries no valid chain ({status or 'no chain fields'}): forged, or "
                "written with integrity off", str(eid), str(cid), int(seq))
        for eid, cid, seq, status in rows
    ]  # fmt: skip


def _window_start(store: Store, tenant: str, since_ns: int, cps: list[dict[str, Any]]) -> tuple[int, str]:
    if since_ns <= 0:
        return 1, GENESIS
    _, rows = store.query(
        "SELECT min(chain_seq) FROM events WHERE tenant_id = {t:String} AND chain_hash != '' "
        "AND toUnixTimestamp64Micro(ts) >= {s:Int64}",
        parameters={"t": tenant, "s": -(-since_ns // 1000)},
    )
    first = int(rows[0][0] or 0)
    for cp in cps:
        if int(cp["from_seq"]) <= first <= int(cp["to_seq"]):
            return int(cp["from_seq"]), str(cp["first_prev"])
    sealed = [cp for cp in cps if int(cp["to_seq"]) < first]
    return (int(sealed[-1]["to_seq"]) + 1, str(sealed[-1]["last_hash"])) if sealed else (1, GENESIS)


def verify_tenant(
    store: Store, tenant: str, keys: Mapping[str, Any], since_ns: int = 0, grace_s: float | None = None
) -> TenantReport:
    grace = IntegritySettings().unsealed_grace_s if grace_s is None else grace_s
    cps, tombs = load_checkpoints(store, tenant), load_tombstones(store, tenant)
    start, prev = _window_start(store, tenant, since_ns, cps)
    in_window = [c for c in cps if int(c["to_seq"]) >= start]
    tombs = [t for t in tombs if int(t["to_seq"]) >= start]
    stale = int((time.time() - grace) * 1e6)
    walker = Walker(tenant, in_window, tombs, keys, start=start, prev=prev, stale_before_us=stale)
    for row in chain_rows(store, tenant, start, None):
        walker.feed(row)
    findings = walker.finish() + _unchained(store, tenant, since_ns)
    log = hold_log(store, tenant)
    findings += verify_hold_log(log, keys) + _hold_table_findings(store, tenant, log)
    return TenantReport(tenant, walker.events, len(in_window), tuple(findings))


_HOLD_PROBLEMS = {
    "released": ("checkpoint", "legal_holds marks it released but the signed log never released it (retention still "
                 "obeys it)"),
    "reactivated": ("checkpoint", "legal_holds marks it active but the signed log released it"),
    "unlogged": ("inserted", "legal_holds has it but the signed log never placed it"),
    "missing": ("hold", "placed in the signed log but absent from legal_holds (a crash between the two writes, "
                "or the row was deleted; retention still obeys it)"),
}  # fmt: skip


def _hold_table_findings(store: Store, tenant: str, log: list[dict[str, Any]]) -> list[Finding]:
    findings = []
    for hold_id, problem in hold_disagreements(store, tenant, log):
        kind, detail = _HOLD_PROBLEMS[problem]
        findings.append(Finding(kind, tenant, 0, f"hold {hold_id}: {detail}"))
    return findings


def tenants_in(store: Store) -> list[str]:
    _, rows = store.query(
        "SELECT DISTINCT tenant_id FROM (SELECT tenant_id FROM events UNION ALL SELECT tenant_id FROM checkpoints "
        "UNION ALL SELECT tenant_id FROM hold_audit) ORDER BY tenant_id"
    )
    return [str(r[0]) for r in rows]


def verify_store(
    store: Store, keys: Mapping[str, Any] | None = None, tenant: str = "", since_ns: int = 0, anchor: str = ""
) -> VerifyReport:
    """Recompute every chain (or one tenant's) and check every signature; with ``anchor`` (the
    export dir or its checkpoints.jsonl), also check that every record anchored there is still stored."""
    keys = store_public_keys(store) if keys is None else keys
    reports = []
    names = [tenant] if tenant else tenants_in(store)
    anchored = read_anchor(Path(anchor)) if anchor else Anchor()
    if anchor and not tenant:
        # A tenant wiped from every table is in no store query any more: the anchor still names it.
        names = sorted(set(names) | anchor_tenants(anchored))
    for name in names:
        report = verify_tenant(store, name, keys, since_ns)
        if anchor:
            extra = compare_anchor(store, name, anchored)
            report = TenantReport(name, report.events, report.checkpoints, report.findings + tuple(extra))
        reports.append(report)
    return VerifyReport(tuple(reports))


def sealed_window(cps: list[dict[str, Any]], lo: int, hi: int) -> tuple[int, str, int | None]:
    """The whole checkpoint intervals around chain_seq lo..hi: (start, link before start, stop or None
    when hi is past the last checkpoint)."""
    opening = [c for c in cps if int(c["from_seq"]) <= lo <= int(c["to_seq"])]
    sealed_before = [c for c in cps if int(c["to_seq"]) < lo]
    if opening:
        start, prev = int(opening[0]["from_seq"]), str(opening[0]["first_prev"])
    elif sealed_before:
        start, prev = int(sealed_before[-1]["to_seq"]) + 1, str(sealed_before[-1]["last_hash"])
    else:
        start, prev = 1, GENESIS
    closing = [c for c in cps if int(c["from_seq"]) <= hi <= int(c["to_seq"])]
    return start, prev, int(closing[0]["to_seq"]) if closing else None


def verify_task(
    store: Store, tenant_id: str, correlation_id: str, keys: Mapping[str, Any] | None = None
) -> TaskVerdict:
    """The verdict for one task: its checkpoint intervals are walked and their signatures checked."""
    keys = store_public_keys(store) if keys is None else keys
    _, rows = store.query(
        f"SELECT minIf(chain_seq, NOT {UNCHAINED_SQL}), maxIf(chain_seq, NOT {UNCHAINED_SQL}), "
        f"countIf(NOT {UNCHAINED_SQL}), countIf({UNCHAINED_SQL}) FROM events "
        "WHERE tenant_id = {t:String} AND correlation_id = {c:String}",
        parameters={"t": tenant_id, "c": correlation_id},
    )
    lo, hi, chained, unchained = (int(v or 0) for v in rows[0])
    if chained + unchained == 0:
        return TaskVerdict(tenant_id, correlation_id, "not_found", 0, "no events stored for this task")
    if unchained:
        found = _unchained(store, tenant_id, 0, correlation_id)
        detail = found[0].describe() if found else f"{unchained} rows carry no valid chain"
        return TaskVerdict(tenant_id, correlation_id, "unchained", chained + unchained, detail, tuple(found))
    cps = load_checkpoints(store, tenant_id)
    start, prev, stop = sealed_window(cps, lo, hi)
    window = [c for c in cps if int(c["to_seq"]) >= start and (stop is None or int(c["to_seq"]) <= stop)]
    tombs = [t for t in load_tombstones(store, tenant_id)
             if int(t["from_seq"]) >= start and (stop is None or int(t["to_seq"]) <= stop)]  # fmt: skip
    walker = Walker(tenant_id, window, tombs, keys, start=start, prev=prev, stop=stop)
    first = last = 0
    for row in chain_rows(store, tenant_id, start, stop):
        if row["correlation_id"] == correlation_id:
            first, last = first or int(row["chain_seq"]), int(row["chain_seq"])
        walker.feed(row)
    findings = tuple(walker.finish())
    # An unattributed problem (a hole, a bad checkpoint or signature) may touch this task's events,
    # so it counts; so does one pinned to any row from the task's first event to just after its
    # last: a row moved to another task was this task's (the task id is hashed too), and a broken
    # link implicates the row before it (rewritten, its hash recomputed). Only problems wholly
    # outside the task's stretch of the chain leave its verdict alone.
    broken = [
        f for f in findings
        if f.breaks and (f.correlation_id in ("", correlation_id) or first <= f.chain_seq <= last + 1)
    ]  # fmt: skip
    if broken:
        return TaskVerdict(tenant_id, correlation_id, "broken", chained, broken[0].describe(), findings)
    status = "verified" if stop is not None else "pending"
    detail = "" if stop is not None else "links intact; newest events not yet sealed in a signed checkpoint"
    return TaskVerdict(tenant_id, correlation_id, status, chained, detail, findings)
