"""Auditor API keys: minted once, stored only as a hash, scoped to tenants or admin.

A key is ``aa_`` + 32 random bytes (url-safe base64). The store keeps SHA-256 of the whole key:
with 256 bits of entropy a slow KDF buys nothing against a leaked hash, and a plain hash needs no
server secret, so `keys add` works from the CLI and keys survive a change of the session secret.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from collector._store._queryable import Queryable

from .errors import KeyAdminError

KEY_PREFIX = "aa_"
_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")


class KeyStoreTarget(Queryable, Protocol):
    """What key administration needs from a store: queries, and inserts."""

    def insert(
        self,
        table: str,
        rows: Sequence[Sequence[Any]],
        column_names: Sequence[str],
        settings: Mapping[str, Any] | None = None,
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """The latest version of one row of ``api_keys``."""

    name: str
    key_hash: str
    tenants: tuple[str, ...]
    admin: bool
    created_at: str
    revoked: bool


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


_LATEST_SQL = """
SELECT name, key_hash, tenants, admin, toString(created_at), revoked
FROM api_keys FINAL
ORDER BY name
"""
_COLUMNS = ["name", "key_hash", "tenants", "admin", "revoked", "revoked_at", "version"]


def list_keys(target: KeyStoreTarget) -> list[KeyRecord]:
    _, rows = target.query(_LATEST_SQL)
    return [
        KeyRecord(str(r[0]), str(r[1]), tuple(str(t) for t in r[2]), bool(r[3]), str(r[4]), bool(r[5])) for r in rows
    ]


def add_key(target: KeyStoreTarget, name: str, tenants: Sequence[str], admin: bool) -> str:
    """Store a new key's hash and return the key itself (shown once, never stored)."""
    if not _NAME.match(name):
        raise KeyAdminError("a key name is 1-64 characters of letters, digits and _ . @ -")
    clean = sorted({t.strip() for t in tenants if t.strip()})
    if admin == bool(clean):
        raise KeyAdminError("give a key either one or more --tenant or --admin, not both or neither")
    if any(k.name == name and not k.revoked for k in list_keys(target)):
        raise KeyAdminError(f"an active key named {name!r} exists: revoke it first or pick another name")
    key = new_key()
    target.insert(
        "api_keys",
        [[name, hash_key(key), clean, int(admin), 0, None, time.time_ns()]],
        column_names=_COLUMNS,
    )
    return key


def revoke_key(target: KeyStoreTarget, name: str) -> None:
    found = [k for k in list_keys(target) if k.name == name and not k.revoked]
    if not found:
        raise KeyAdminError(f"no active key named {name!r}")
    k = found[0]
    target.insert(
        "api_keys",
        [[k.name, k.key_hash, list(k.tenants), int(k.admin), 1, dt.datetime.now(dt.UTC), time.time_ns()]],
        column_names=_COLUMNS,
    )


class KeyRing:
    """Verifies presented keys against the active ones, with a short cache.

    Every active hash is compared with ``hmac.compare_digest`` and the loop never exits early, so
    the time taken does not tell which stored hash came close.
    """

    def __init__(self, target: KeyStoreTarget, cache_s: float) -> None:
        self._target = target
        self._cache_s = cache_s
        self._lock = threading.Lock()
        self._loaded_at = -1e18
        self._active: list[KeyRecord] = []
        self._seen_active = False  # a key was active at some point since this ring was made

    def invalidate(self) -> None:
        with self._lock:
            self._loaded_at = -1e18

    def active(self) -> list[KeyRecord]:
        with self._lock:
            now = time.monotonic()
            if now - self._loaded_at > self._cache_s:
                self._active = [k for k in list_keys(self._target) if not k.revoked]
                self._seen_active = self._seen_active or bool(self._active)
                self._loaded_at = now
            return list(self._active)

    def invalidate_after_create(self) -> None:
        """A key was just made through this service: it has been active, even if revoked before the
        next load."""
        with self._lock:
            self._seen_active = True
            self._loaded_at = -1e18

    def seen_active(self) -> bool:
        """Whether any key has been active since this ring was made (it stays true after every key
        is revoked); asked on every keyless request of a demo service, so it shares the cache."""
        self.active()  # loads (or reuses) the cache
        with self._lock:
            return self._seen_active

    def verify(self, key: str) -> KeyRecord | None:
        if not key.startswith(KEY_PREFIX):
            return None
        digest = hash_key(key).encode()
        match: KeyRecord | None = None
        for record in self.active():
            if hmac.compare_digest(digest, record.key_hash.encode()) and match is None:
                match = record
        return match

    def by_name(self, name: str, hash_prefix: str) -> KeyRecord | None:
        """The active key a session was issued for, if it still is the same key."""
        for record in self.active():
            if record.name == name and hmac.compare_digest(record.key_hash[:16], hash_prefix):
                return record
        return None
