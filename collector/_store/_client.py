"""One client code path for every store: clickhouse-connect over chdb or HTTP(S)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..errors import ConfigError, QueryError, StoreError, StoreLockedError
from ._schema import apply_schema

_SCHEMES = ("chdb", "http", "https")


def normalize_dsn(dsn: str) -> str:
    """Validate a DSN and make a chdb path absolute (chdb resolves it against its own cwd)."""
    parts = urlsplit(dsn)
    if parts.scheme not in _SCHEMES:
        raise ConfigError(f"unsupported store DSN scheme {parts.scheme!r}: use chdb://PATH or http(s)://host:8123/db")
    if parts.scheme == "chdb":
        raw = dsn[len("chdb://") :]
        if not raw:
            raise ConfigError("a chdb DSN needs a path, e.g. chdb://./audit-data")
        return "chdb://" + str(Path(raw).expanduser().resolve())
    if not parts.hostname:
        raise ConfigError("an http(s) store DSN needs a host, e.g. http://default:@localhost:8123/default")
    return dsn


def redact_dsn(dsn: str) -> str:
    """The DSN with any password removed, for messages and logs."""
    parts = urlsplit(dsn)
    if parts.password is None:
        return dsn
    # The host part as written: hostname drops an IPv6 address's brackets and lowercases it.
    netloc = f"{parts.username}:***@{parts.netloc.rpartition('@')[2]}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


class Store:
    """A ClickHouse client shared by the pipeline, the CLI and the UI of one process.

    chdb sessions are not safe for concurrent use, so every call holds one lock; for an HTTP
    server the lock only serializes this process's calls, which is what a single writer wants.
    """

    def __init__(self, client: Any, dsn: str) -> None:
        self._client = client
        self._lock = threading.Lock()
        # Column types per (table, columns): without them clickhouse-connect runs a DESCRIBE TABLE
        # before every insert, a quarter of the writer thread's CPU. Dropped when an insert fails,
        # so a schema changed underneath is described again on the retry.
        self._column_types: dict[tuple[str, tuple[str, ...]], Any] = {}
        self.dsn = dsn
        self.embedded = dsn.startswith("chdb://")

    @classmethod
    def open(cls, dsn: str, *, apply_ddl: bool = True, create: bool = True) -> Store:
        """Connect (creating the chdb directory if needed, unless ``create`` is False: a reader that
        would only find an empty store there) and bring the schema up to date."""
        import clickhouse_connect

        dsn = normalize_dsn(dsn)
        if dsn.startswith("chdb://"):
            directory = Path(dsn[len("chdb://") :])
            if not create and not directory.exists():
                raise StoreError(f"no store at {directory} (check --dsn or AUDIT_STORE_DSN)")
            if directory.exists() and not directory.is_dir():
                raise StoreError(f"cannot open store {dsn}: {directory} is a file, not a store directory")
            try:
                directory.mkdir(parents=True, exist_ok=True)
            except OSError as exc:  # a file on the way, a read-only or missing parent, no permission
                raise StoreError(
                    f"cannot open store {dsn}: the directory {directory} cannot be created "
                    f"({exc.strerror or type(exc).__name__})"
                ) from exc
        try:
            client = clickhouse_connect.get_client(dsn=dsn)
        except Exception as exc:
            text = str(exc)
            if "already initialized with path" in text:
                raise StoreError(
                    f"cannot open {redact_dsn(dsn)}: this process already has another embedded store open "
                    "(chDB serves one path per process; close it first)"
                ) from exc
            if "Cannot lock file" in text or "Error initializing EmbeddedServer" in text:
                # chDB 4 reports a path locked by another process as a failed server start.
                raise StoreLockedError(
                    f"the store {redact_dsn(dsn)} is owned by another process (a running "
                    "`autogen-audit serve`? the CLI then goes through it automatically)"
                ) from exc
            raise StoreError(f"cannot open store {redact_dsn(dsn)}: {type(exc).__name__}: {text[:300]}") from exc
        store = cls(client, dsn)
        if apply_ddl:
            try:
                with store._lock:
                    apply_schema(client)
            except BaseException:
                # Otherwise an embedded store stays open in this process, and no other can be opened.
                store.close()
                raise
        return store

    def insert(
        self,
        table: str,
        rows: Sequence[Sequence[Any]],
        column_names: Sequence[str],
        settings: Mapping[str, Any] | None = None,
    ) -> Any:
        """Insert rows; returns clickhouse-connect's QuerySummary (written_rows feeds the dedup metric)."""
        key = (table, tuple(column_names))
        with self._lock:
            types = self._column_types.get(key)
            try:
                if types is None:
                    types = self._client.create_insert_context(table, column_names=list(key[1])).column_types
                    self._column_types[key] = types
                return self._client.insert(
                    table, list(rows), column_names=list(key[1]), column_types=types, settings=dict(settings or {})
                )
            except Exception:
                self._column_types.pop(key, None)
                raise

    def query(
        self,
        sql: str,
        parameters: Mapping[str, Any] | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run a query with bound parameters; returns (column names, rows)."""
        try:
            with self._lock:
                result = self._client.query(sql, parameters=dict(parameters or {}), settings=dict(settings or {}))
                # Rows are materialized lazily by clickhouse-connect: read them under the lock too.
                return list(result.column_names), [tuple(row) for row in result.result_rows]
        except Exception as exc:
            raise QueryError(_first_line(exc)) from exc

    def command(self, sql: str, settings: Mapping[str, Any] | None = None) -> Any:
        try:
            with self._lock:
                return self._client.command(sql, settings=dict(settings or {}))
        except Exception as exc:
            raise QueryError(_first_line(exc)) from exc

    def close(self) -> None:
        # Closing a dead client must not mask the caller's own error.
        with self._lock, contextlib.suppress(Exception):
            self._client.close()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    # ClickHouse appends a long stack trace and the full query; the first sentence is the useful part.
    for marker in (". (", "\n", " Stack trace"):
        if marker in text:
            text = text.split(marker, 1)[0]
    return text[:500]
