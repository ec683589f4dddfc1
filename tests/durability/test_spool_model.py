"""Stateful property test: the spool against an in-memory model of its promise.

The promise: after any sequence of appends, acks, clean restarts, crashes, torn frame writes and torn
ack writes, the spool replays exactly the batches whose append returned and whose ack did not
complete, in append order, under the ids append returned.

A simulated crash drops the descriptors and the lock without fsync or cleanup: written bytes stay in
the page cache as after a killed process. A torn write is a crash in the middle of writing the last
frame (or ack record), simulated by cutting the file inside the bytes of that frame (or record).
What a power cut could drop beyond that depends on the fsync policy (docs/durability.md); with
``always`` and ``batch`` nothing whose append returned is ever lost, which is what this models.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from collector._spool import Spool, SpoolConfig, SpoolFullError

# tmpfs when there is one: fsync is then free and the suite stays fast, while every code path
# (including the fsync calls) still runs.
_SHM = "/dev/shm"  # noqa: S108 - a private mkdtemp under it, only for speed
_BASE = _SHM if os.path.isdir(_SHM) else None
records_st = st.lists(st.binary(max_size=300), min_size=1, max_size=4)


class SpoolModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="spool-model-", dir=_BASE))
        self.model: list[tuple[str, tuple[bytes, ...]]] = []
        self.acked: list[str] = []
        self.spool: Spool | None = None

    @initialize(policy=st.sampled_from(["always", "batch", "interval", "never"]))
    def open_first(self, policy: str) -> None:
        self.config = SpoolConfig(
            self.tmp / "spool",
            segment_bytes=4096,
            max_bytes=16 * 1024,
            fsync=policy,  # type: ignore[arg-type]
            fsync_interval_ms=1,
        )
        self.spool = Spool(self.config)

    def _reopen(self) -> None:
        self.spool = Spool(self.config)

    @property
    def s(self) -> Spool:
        assert self.spool is not None
        return self.spool

    @rule(records=records_st)
    def append(self, records: list[bytes]) -> None:
        try:
            batch_id = self.s.append(records)
        except SpoolFullError:
            assert self.s.stats().bytes + sum(len(r) + 4 for r in records) + 48 > self.config.max_bytes
            return
        self.model.append((batch_id, tuple(records)))

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def ack(self, data: st.DataObject) -> None:
        i = data.draw(st.integers(0, len(self.model) - 1))
        batch_id, _ = self.model.pop(i)
        assert self.s.ack(batch_id) is True
        self.acked.append(batch_id)

    @precondition(lambda self: self.acked)
    @rule(data=st.data())
    def ack_again(self, data: st.DataObject) -> None:
        assert self.s.ack(data.draw(st.sampled_from(self.acked))) is False

    @rule()
    def restart(self) -> None:
        self.s.close()
        self._reopen()
        assert self.s.stats().quarantine_events == 0

    @rule()
    def crash(self) -> None:
        self.s._simulate_crash()
        self._reopen()
        assert self.s.stats().quarantine_events == 0

    @rule(records=records_st, data=st.data())
    def crash_while_appending(self, records: list[bytes], data: st.DataObject) -> None:
        try:
            batch_id = self.s.append(records)  # never returns to the caller: not in the model
        except SpoolFullError:
            return
        seg, offset = self.s._index[batch_id]
        end = seg.size
        self.s._simulate_crash()
        cut = data.draw(st.integers(offset, end - 1), label="cut")
        os.truncate(seg.log_path, cut)
        self._reopen()
        stats = self.s.stats()
        assert stats.quarantine_events == (1 if cut > offset else 0)
        assert stats.quarantined_records == (len(records) if cut - offset >= 44 else min(1, cut - offset))

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def crash_while_acking(self, data: st.DataObject) -> None:
        i = data.draw(st.integers(0, len(self.model) - 1))
        batch_id, _ = self.model[i]
        seg, _ = self.s._index[batch_id]
        self.s.ack(batch_id)
        self.s._simulate_crash()
        if seg.ack_path.exists():
            size = seg.ack_path.stat().st_size
            os.truncate(seg.ack_path, size - data.draw(st.integers(1, 16), label="torn ack bytes"))
            # The ack never completed: the batch keeps its place in the model.
        else:
            # The segment was deleted, which happens only after the ack was written in full.
            self.model.pop(i)
            self.acked.append(batch_id)
        self._reopen()

    @invariant()
    def replay_matches_model(self) -> None:
        if self.spool is None:
            return
        assert [(b.batch_id, b.records) for b in self.s.pending()] == self.model
        stats = self.s.stats()
        assert stats.pending_batches == len(self.model)
        assert stats.pending_records == sum(len(r) for _, r in self.model)
        assert stats.bytes <= self.config.max_bytes

    def teardown(self) -> None:
        if self.spool is not None:
            self.spool.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


SpoolModel.TestCase.settings = settings(
    max_examples=150,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_spool_matches_model = SpoolModel.TestCase
