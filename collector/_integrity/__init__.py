"""Tamper evidence for the audit store (issue #8): per-tenant hash chains, signed checkpoints,
verification, evidence bundles, retention with signed tombstones, and audited legal holds.

See docs/integrity.md for the design and the auditor's procedure.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ._chain import ChainProcessor, record_row
from ._keys import SigningKey, load_signing_key, pinned_public_keys, publish_public_key, store_public_keys
from ._offline import Finding, canonical, event_hash, merkle_root
from ._settings import IntegritySettings
from ._signed import SignedWriter
from ._verify import TaskVerdict, TenantReport, VerifyReport, verify_store, verify_task, verify_tenant
from .errors import IntegrityError

if TYPE_CHECKING:
    from .._store._client import Store

log = logging.getLogger("collector.integrity")

__all__ = [
    "ChainProcessor",
    "Finding",
    "IntegrityError",
    "IntegritySettings",
    "SignedWriter",
    "SigningKey",
    "TaskVerdict",
    "TenantReport",
    "VerifyReport",
    "build_chain_processor",
    "canonical",
    "event_hash",
    "load_signing_key",
    "merkle_root",
    "open_writer",
    "pinned_public_keys",
    "publish_public_key",
    "record_row",
    "store_public_keys",
    "verify_store",
    "verify_task",
    "verify_tenant",
]


def open_writer(settings: IntegritySettings, store: Store) -> SignedWriter:
    """The signing key of this store's writer, published, wrapped in a writer of signed records."""
    key = load_signing_key(settings, store.dsn)
    try:
        publish_public_key(store, key)
    except Exception as exc:  # noqa: BLE001 - a store down at start must not stop the app: publish later
        log.warning("integrity: store unavailable at start (%s); the public key is published later", type(exc).__name__)
        return SignedWriter(store, key, settings.checkpoint_export_dir, publish=lambda: publish_public_key(store, key))
    return SignedWriter(store, key, settings.checkpoint_export_dir)


def build_chain_processor(settings: IntegritySettings, store: Store) -> ChainProcessor:
    return ChainProcessor(
        store, open_writer(settings, store), settings.checkpoint_every, settings.checkpoint_interval_s
    )
