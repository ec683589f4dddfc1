"""What every route reaches through ``request.app.state.ui``, and the small helpers over it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol

from fastapi import Request
from fastapi.templating import Jinja2Templates

from ._auth import Authenticator, Principal
from ._keys import KeyStoreTarget
from ._settings import UISettings
from .errors import BadRequest


class UIStore(KeyStoreTarget, Protocol):
    """The store the UI reads (and writes keys to): collector's Store satisfies it."""


@dataclass(frozen=True, slots=True)
class UIState:
    store: UIStore
    settings: UISettings
    auth: Authenticator
    templates: Jinja2Templates


def state(request: Request) -> UIState:
    ui: UIState = request.app.state.ui
    return ui


def principal(request: Request) -> Principal:
    """FastAPI dependency: the caller, from a bearer key, a session cookie or demo access."""
    return state(request).auth.resolve(request)


def parse_when(value: str | None, name: str) -> dt.datetime | None:
    """A filter time: ISO 8601 or an HTML datetime-local value; a time without zone is UTC. Times
    outside what the store's DateTime64 columns hold (1900 to 2299) are brought to that range: no
    event lies beyond it, so the filter means the same."""
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise BadRequest(f"{name}: expected a time like 2024-05-01T13:00") from exc
    if not parsed.tzinfo:
        parsed = parsed.replace(tzinfo=dt.UTC)
    try:
        parsed = parsed.astimezone(dt.UTC)
    except OverflowError:  # year 1 or 9999 with an offset that moves it out of the calendar
        parsed = _EARLIEST if parsed.year < 2000 else _LATEST
    return min(max(parsed, _EARLIEST), _LATEST)


_EARLIEST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
_LATEST = dt.datetime(2299, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC)


def jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value
