"""How a CLI command reaches the store: directly, or through the service that owns it.

An embedded chdb store is locked by the one process that opens it. While `autogen-audit serve`
is that process it leaves ``<store dir>/.service.json`` (mode 0600: its URL and a random admin
token); a CLI command that finds the store locked reads it and talks to the service instead.
Reading a 0600 file in the store directory needs the same OS rights as opening the store itself,
so this gives nobody access they did not already have.
"""

from __future__ import annotations

import json
import os
import secrets
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from .._store._client import Store, normalize_dsn
from .._store._queryable import Queryable
from ..errors import StoreError, StoreLockedError

SERVICE_FILE = ".service.json"


class QueryTarget(Queryable, Protocol):
    """A Store or a running service: answers SQL with (column names, rows), and is closed after."""

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    url: str
    token: str
    pid: int


def resolve_dsn(cli_dsn: str | None) -> str:
    from .._settings import AuditSettings

    return cli_dsn or os.environ.get("AUDIT_STORE_DSN") or AuditSettings().store_dsn


def store_dir(dsn: str) -> Path | None:
    dsn = normalize_dsn(dsn)
    return Path(dsn[len("chdb://") :]) if dsn.startswith("chdb://") else None


def write_service_file(directory: Path, url: str) -> ServiceInfo:
    """Publish a running service for CLI commands; returns the info with its fresh token."""
    info = ServiceInfo(url=url, token=secrets.token_urlsafe(32), pid=os.getpid())
    path = directory / SERVICE_FILE
    tmp = directory / f".service.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({"url": info.url, "token": info.token, "pid": info.pid}, fh)
    os.replace(tmp, path)
    return info


def read_service_file(directory: Path) -> ServiceInfo | None:
    try:
        data = json.loads((directory / SERVICE_FILE).read_text())
        return ServiceInfo(str(data["url"]), str(data["token"]), int(data["pid"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def remove_service_file(directory: Path, info: ServiceInfo) -> None:
    """Remove the file if it is still ours (a newer service may have replaced it)."""
    current = read_service_file(directory)
    if current is not None and current.token == info.token:
        (directory / SERVICE_FILE).unlink(missing_ok=True)


_FORWARDED_LIMITS = {
    "max_execution_time": "max_execution_time_s",
    "max_memory_usage": "max_memory_bytes",
    "max_result_rows": "max_result_rows",
}


class ServiceClient:
    """The running service, seen through its admin endpoints; quacks like a Store for queries."""

    def __init__(self, info: ServiceInfo, timeout_s: float = 120.0) -> None:
        self.info = info
        self._timeout = timeout_s

    def call(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 - the URL comes from our own 0600 service file
            self.info.url.rstrip("/") + path,
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {self.info.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310 - as above
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            try:
                detail = json.loads(exc.read()).get("detail", "")
            except ValueError:
                detail = ""
            raise StoreError(f"the running service refused: {exc.code} {detail}".strip()) from exc
        except (urllib.error.URLError, OSError) as exc:
            raise StoreLockedError(
                f"the store is locked and the service at {self.info.url} does not answer ({exc}); "
                "is `autogen-audit serve` still running?"
            ) from exc

    def query(
        self,
        sql: str,
        parameters: Mapping[str, Any] | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        body: dict[str, Any] = {"sql": sql, "parameters": dict(parameters or {})}
        # Only the per-query limits travel; the service decides every other setting itself.
        for setting, field in _FORWARDED_LIMITS.items():
            if settings and setting in settings:
                body[field] = settings[setting]
        result = self.call("POST", "/api/admin/sql", body)
        return list(result["columns"]), [tuple(row) for row in result["rows"]]

    def close(self) -> None:
        """Nothing to release: each call is one HTTP request."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def open_store_or_service(cli_dsn: str | None, *, create: bool) -> Store | ServiceClient:
    """The running `serve` that owns the store, or else the store itself.

    The service file is checked first: trying to open a locked chdb store makes the engine print
    its lock error to stderr, and its exception text differs between chdb versions. ``create``
    False refuses a chdb path with no store (StoreError "no store at ..."), for a command that only
    reads or changes what is stored: at a mistyped path it would find an empty store and say so.
    """
    dsn = resolve_dsn(cli_dsn)
    directory = store_dir(dsn)
    info = read_service_file(directory) if directory else None
    if info is not None and _alive(info.pid):
        return ServiceClient(info)
    return Store.open(dsn, create=create)


def open_query_target(cli_dsn: str | None) -> QueryTarget:
    """Open the store for reading, through the running service if it owns the store; a chdb path
    with no store is refused, never created."""
    return open_store_or_service(cli_dsn, create=False)


__all__ = [
    "QueryTarget",
    "ServiceClient",
    "ServiceInfo",
    "open_query_target",
    "open_store_or_service",
    "read_service_file",
    "remove_service_file",
    "resolve_dsn",
    "store_dir",
    "write_service_file",
]
