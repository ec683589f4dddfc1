"""Real pipelines for the integrity tests: real redactor, real chdb, the real chain processor."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from collector import AuditPipeline, AuditSettings, CapturedEvent, ClickHouseExporter, EventKind, Store, TaskRef
from collector._integrity import (
    ChainProcessor,
    IntegritySettings,
    build_chain_processor,
    event_hash,
    pinned_public_keys,
)
from collector._integrity._offline import GENESIS
from collector._integrity._verify import chain_rows
from collector._records import RecordBuilder

_GSEQ = itertools.count(1)


class Rig:
    """A pipeline whose chain processor the test can seal on demand."""

    def __init__(self, store: Store, redactor: Any, key_dir: Path, every: int = 5, **extra: Any) -> None:
        self.store = store
        self.base = key_dir.parent  # where anchored_rig keeps the store, the keys and the anchor
        self.settings = AuditSettings(store_dsn=store.dsn, batch_interval_s=0.05)
        self.integrity = IntegritySettings(
            checkpoint_every=every, checkpoint_interval_s=0, key_dir=str(key_dir), **extra
        )
        self.chain: ChainProcessor = build_chain_processor(self.integrity, store)
        self.pipeline = AuditPipeline(
            exporter=ClickHouseExporter(store),
            builder=RecordBuilder(self.settings, redactor, "t" + str(next(_GSEQ))),
            settings=self.settings,
            processors=[self.chain],
        )

    def run_task(self, tenant: str, task: str, n: int, when: dt.datetime | None = None, text: str = "step") -> None:
        """n events of one task, flushed as one batch."""
        base = int((when or dt.datetime.now(dt.UTC)).timestamp() * 1e9)
        for i in range(n):
            kind = EventKind.TASK_START if i == 0 else EventKind.SEND
            payload = {"content": f"{text} {i} of {task}", "source": "worker"}
            self.pipeline.submit(CapturedEvent(next(_GSEQ), TaskRef(tenant, task), i, base + i * 1000, kind, payload))
        assert self.pipeline.flush(30)

    def seal(self) -> None:
        self.chain.seal_now()

    def close(self) -> None:
        self.pipeline.shutdown(10)
        self.chain.close()


@contextmanager
def anchored_rig(base: Path, redactor: Any) -> Iterator[Rig]:
    """A rig on a store of its own under ``base``, signing with a key it generates in ``base/keys``,
    and appending every signed record to the file anchor in ``base/anchor``."""
    store = Store.open(f"chdb://{base / 'store'}")
    rig = Rig(store, redactor, base / "keys", checkpoint_export_dir=str(base / "anchor"))
    try:
        yield rig
    finally:
        rig.close()
        store.close()


def pinned(rig: Rig) -> dict[str, Any]:
    """The rig's public key, as an auditor pins it (``verify --pubkey``)."""
    return pinned_public_keys([str(rig.base / "keys" / "integrity-signing-key.pem")])


def rows(store: Store, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    return store.query(sql, parameters=params)[1]


def mutate(store: Store, sql: str) -> None:
    store.command(sql + " SETTINGS mutations_sync = 1")


def seeded(rig: Rig, tenant: str, tasks: int = 3, per_task: int = 4) -> None:
    """``tasks`` tasks of ``per_task`` events each, one after another, then sealed."""
    for t in range(tasks):
        rig.run_task(tenant, f"{tenant}-task-{t}", per_task)
    rig.seal()


def rewrite_from(rig: Rig, tenant: str, chain_seq: int, content: str) -> dict[str, Any]:
    """What a forger without the signing key does: edit the event at ``chain_seq``, then recompute
    its hash and every later hash and link. Returns the edited row."""
    chain = list(chain_rows(rig.store, tenant, 1, None))
    start = next(i for i, row in enumerate(chain) if row["chain_seq"] == chain_seq)
    prev = chain[start - 1]["chain_hash"] if start else GENESIS
    for row in chain[start:]:
        row["chain_prev"] = prev
        if row["chain_seq"] == chain_seq:
            row["content"] = content
        row["chain_hash"] = prev = event_hash(row)
        assignments = ", ".join(f"{c} = '{row[c]}'" for c in ("content", "chain_prev", "chain_hash"))
        mutate(rig.store, f"ALTER TABLE events UPDATE {assignments} WHERE event_id = '{row['event_id']}'")
    return chain[start]
