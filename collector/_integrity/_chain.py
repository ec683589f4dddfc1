"""The chain processor: gives every record its tenant's next sequence number, link and hash."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import operator
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._events import EventRecord
from .._safe_log import log_failure
from ._offline import _LONG, _SHORT, FIELDS_V1, GENESIS, canonical_parts, merkle_root
from ._signed import SignedWriter

if TYPE_CHECKING:
    from .._store._client import Store

log = logging.getLogger("collector.integrity")
_RECORD_FIELDS = [name for name in FIELDS_V1 if name not in ("ts_us", "chain_seq", "chain_prev")]
_SHORT_GETTER = operator.attrgetter(*("ts_ns" if n in ("ts_us", "chain_seq", "chain_prev") else n for n in _SHORT))
_LONG_GETTER = operator.attrgetter(*_LONG)
_TS, _SEQ, _PREV = (_SHORT.index(n) for n in ("ts_us", "chain_seq", "chain_prev"))
_FORCE_AFTER_ATTEMPTS = 3  # seal a range the store never completes (a lost batch): verify then names the hole


def record_row(record: EventRecord) -> dict[str, Any]:
    """The hashed fields of a record, as `canonical` reads them."""
    row = {name: getattr(record, name) for name in _RECORD_FIELDS}
    row["ts_us"] = record.ts_ns // 1000
    row["chain_seq"] = record.chain_seq
    row["chain_prev"] = record.chain_prev
    return row


@dataclass
class _Head:
    next_seq: int
    prev: str
    sealed_to: int
    sealed_hash: str
    last_signature: str
    leaves: list[str] = field(default_factory=list)
    since: float = 0.0  # monotonic time the oldest unsealed leaf was added
    attempts: int = 0


class ChainProcessor:
    """A RecordProcessor (see collector._processors). The store must have ONE writer: this process.

    Each tenant's head is resumed lazily from the store on its first event. Checkpoints are sealed
    only over events the store already holds: at the start of the next batch (the pipeline exports
    a batch before it runs the processors on the next), or by a timer for idle tenants.
    """

    def __init__(self, store: Store, writer: SignedWriter, every: int, interval_s: float) -> None:
        self._store = store
        self._writer = writer
        self._every = every
        self._interval = interval_s
        self._heads: dict[str, _Head] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._timer: threading.Thread | None = None
        if interval_s > 0:
            # The thread holds the processor weakly: a pipeline dropped without close() ends it.
            self._timer = threading.Thread(
                target=_tick,
                args=(weakref.ref(self), self._stop, interval_s),
                name="autogen-audit-checkpoints",
                daemon=True,
            )
            self._timer.start()

    def __call__(self, records: list[EventRecord]) -> list[EventRecord]:
        with self._lock:
            # Every batch handed to the exporter before this call has been written (or given up
            # on: verify then names the hole), so sealing here needs no look at the store.
            self._seal_due(force_age=False, check=False)
            try:
                return [self._link(r) for r in records]
            except Exception as exc:  # noqa: BLE001 - must not stop the thread; logged without content
                log_failure(log, "integrity: chaining failed; the batch is stored unchained (verify reports it)", exc)
                self._heads.clear()  # resume every tenant from the store: its head here may be ahead
                return [_unchained(r) for r in records]

    def observe_replayed(self, records: list[EventRecord]) -> None:
        """Advance the chains past records chained by an earlier process and replayed from its spool.

        They were chained before they were spooled, so at start the store may not hold them yet: a
        chain resumed from the store alone would fork. Nothing is sealed here; their own export does
        not pass through this processor again."""
        with self._lock:
            try:
                for record in records:
                    self._link(record)
            except Exception as exc:  # noqa: BLE001 - must not stop the thread; logged without content
                log_failure(log, "integrity: could not follow replayed records; chains resume from the store", exc)
                self._heads.clear()

    def seal_now(self) -> None:
        """Seal every tenant's stored, unsealed events (tests, shutdown, `retention`)."""
        with self._lock:
            self._seal_due(force_age=True)

    def close(self) -> None:
        self._stop.set()
        if self._timer is not None:
            self._timer.join(timeout=2)
        try:
            self.seal_now()
        except Exception as exc:  # noqa: BLE001 - must not stop the thread; logged without content
            log_failure(log, "integrity: sealing at shutdown failed", exc)

    # -- chaining ---------------------------------------------------------------------------
    def _link(self, record: EventRecord) -> EventRecord:
        head = self._heads.get(record.tenant_id)
        if head is None:
            head = self._heads[record.tenant_id] = self._resume(record.tenant_id)
        if record.chain_hash:  # a replayed record chained before it was spooled: keep its fields
            if record.chain_seq >= head.next_seq:
                self._append(head, record.chain_seq, record.chain_hash)
            return record
        seq, prev = head.next_seq, head.prev
        short = list(_SHORT_GETTER(record))  # one C call instead of a dict of 32 getattr
        short[_TS], short[_SEQ], short[_PREV] = record.ts_ns // 1000, seq, prev
        digest = hashlib.sha256(canonical_parts(short, _LONG_GETTER(record))).hexdigest()
        self._append(head, seq, digest)
        return _with_chain(record, seq, prev, digest, "chained")

    @staticmethod
    def _append(head: _Head, seq: int, digest: str) -> None:
        while head.next_seq < seq:  # a replay skipped positions: keep leaves aligned with chain_seq
            head.leaves.append(GENESIS)
            head.next_seq += 1
        if not head.leaves:
            head.since = time.monotonic()
        head.leaves.append(digest)
        head.next_seq, head.prev = seq + 1, digest

    def _resume(self, tenant: str) -> _Head:
        params = {"t": tenant}
        _, cps = self._store.query(
            "SELECT to_seq, last_hash, signature FROM checkpoints WHERE tenant_id = {t:String} "
            "ORDER BY to_seq DESC LIMIT 1",
            parameters=params,
        )
        sealed_to, sealed_hash, signature = (
            (int(cps[0][0]), str(cps[0][1]), str(cps[0][2])) if cps else (0, GENESIS, "")
        )
        _, rows = self._store.query(
            "SELECT chain_seq, any(chain_hash) FROM events WHERE tenant_id = {t:String} AND chain_hash != '' "
            "AND chain_seq > {s:UInt64} GROUP BY chain_seq ORDER BY chain_seq",
            parameters={**params, "s": sealed_to},
        )
        head = _Head(sealed_to + 1, sealed_hash, sealed_to, sealed_hash, signature)
        for seq, digest in rows:
            self._append(head, int(seq), str(digest))
        if rows:
            log.info("integrity: resumed tenant chain at %d (%d unsealed)", head.next_seq, len(head.leaves))
        return head

    # -- sealing ----------------------------------------------------------------------------
    def tick(self) -> None:
        with self._lock:
            self._seal_due(force_age=False)

    def _seal_due(self, force_age: bool, check: bool = True) -> None:
        now = time.monotonic()
        for tenant, head in list(self._heads.items()):
            if not head.leaves:
                continue
            if force_age or len(head.leaves) >= self._every or (self._interval and now - head.since >= self._interval):
                try:
                    self._seal(tenant, head, force=force_age, check=check)
                except Exception as exc:  # noqa: BLE001 - sealing is retried on the next batch or tick
                    log.warning("integrity: checkpoint failed (%s); retried later", type(exc).__name__)

    def _seal(self, tenant: str, head: _Head, force: bool, check: bool = True) -> None:
        lo, hi = head.sealed_to + 1, head.sealed_to + len(head.leaves)
        if not check:
            self._sign(tenant, head, lo, hi)
            return
        _, rows = self._store.query(
            "SELECT uniqExact(chain_seq) FROM events WHERE tenant_id = {t:String} AND chain_hash != '' "
            "AND chain_seq BETWEEN {lo:UInt64} AND {hi:UInt64}",
            parameters={"t": tenant, "lo": lo, "hi": hi},
        )
        stored = int(rows[0][0])
        if stored < hi - lo + 1:
            head.attempts += 1
            if head.attempts < _FORCE_AFTER_ATTEMPTS or force:
                return
            log.warning(
                "integrity: sealing %d..%d although %d events never reached the store", lo, hi, hi - lo + 1 - stored
            )
        self._sign(tenant, head, lo, hi)

    def _sign(self, tenant: str, head: _Head, lo: int, hi: int) -> None:
        record = self._writer.checkpoint(
            {
                "tenant_id": tenant, "from_seq": lo, "to_seq": hi, "first_prev": head.sealed_hash,
                "last_hash": head.leaves[-1], "merkle_root": merkle_root(head.leaves),
                "prev_signature": head.last_signature,
            }
        )  # fmt: skip
        head.sealed_to, head.sealed_hash, head.last_signature = hi, head.leaves[-1], record["signature"]
        head.leaves, head.attempts = [], 0


def _unchained(record: EventRecord) -> EventRecord:
    return dataclasses.replace(record, chain_seq=0, chain_prev="", chain_hash="", chain_status="unchained: chain error")


_SLOTS = [f.name for f in dataclasses.fields(EventRecord)]


def _with_chain(record: EventRecord, seq: int, prev: str, digest: str, status: str) -> EventRecord:
    # dataclasses.replace re-runs the frozen __init__ (about as costly as the hash itself); copying
    # the slots is the same record, built in a fifth of the time.
    new = object.__new__(EventRecord)
    for name in _SLOTS:
        object.__setattr__(new, name, getattr(record, name))
    object.__setattr__(new, "chain_seq", seq)
    object.__setattr__(new, "chain_prev", prev)
    object.__setattr__(new, "chain_hash", digest)
    object.__setattr__(new, "chain_status", status)
    return new


def _tick(ref: weakref.ref[ChainProcessor], stop: threading.Event, interval: float) -> None:
    failures = 0
    while not stop.wait(interval):
        processor = ref()
        if processor is None:
            return
        try:
            processor.tick()
            failures = 0
        except Exception as exc:  # noqa: BLE001 - the timer must survive a store outage
            failures += 1
            if failures in (1, 10) or failures % 100 == 0:
                log.warning("integrity: checkpoint timer failed %d time(s): %s", failures, type(exc).__name__)
        del processor
