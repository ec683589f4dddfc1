"""The one thing most readers of the store need: SQL in, (column names, rows) out.

A ``Store``, the CLI's client of a running service and the UI's tests all answer it, so the
readers (the UI's queries, the read-only SQL guard, key administration, the CLI) take this
protocol rather than a ``Store``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

__all__ = ["Queryable"]


class Queryable(Protocol):
    def query(
        self,
        sql: str,
        parameters: Mapping[str, Any] | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> tuple[list[str], list[tuple[Any, ...]]]: ...
