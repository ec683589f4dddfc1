"""Render query results as a table, JSON or CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Sequence
from typing import Any


def _cell(value: Any) -> Any:
    """A value as printed, the same whichever way the command reached the store.

    The store itself returns Python values; a running `serve` (see ``_access.py``) returns them as
    JSON, converted by ``audit_ui._state.jsonable``. Both print alike: a datetime as ISO 8601 with
    its UTC offset (a naive one is UTC, as ClickHouse returns ``DateTime64(6, 'UTC')`` columns), bytes
    as hex, a tuple as a list, map keys as strings, at any depth.
    """
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {str(k): _cell(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_cell(v) for v in value]
    return value


def render(columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str, max_width: int = 60) -> str:
    if fmt == "json":
        return "\n".join(
            json.dumps({c: _cell(v) for c, v in zip(columns, row, strict=True)}, default=str) for row in rows
        )
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(v) for v in row])
        return buf.getvalue().rstrip("\n")
    cells = [[_short(str(_cell(v)), max_width) for v in row] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    lines = [" | ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines.append("-+-".join("-" * w for w in widths))
    lines += [" | ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(lines)


def _short(text: str, width: int) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"
