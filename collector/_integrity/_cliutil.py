"""Small helpers shared by the integrity subcommands."""

from __future__ import annotations

import datetime as dt
import re

from .errors import IntegrityError

_RELATIVE = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_when(text: str, now: dt.datetime | None = None) -> int:
    """Nanoseconds since the epoch from an ISO date/time (UTC if naive) or a relative age like 7d."""
    if not text:
        return 0
    now = now or dt.datetime.now(dt.UTC)
    match = _RELATIVE.match(text.strip())
    if match:
        try:
            moment = now - dt.timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])
        except OverflowError:
            raise IntegrityError(f"cannot read time {text!r}: that age reaches back before the year 1") from None
    else:
        try:
            moment = dt.datetime.fromisoformat(text.strip())
        except ValueError as exc:
            raise IntegrityError(
                f"cannot read time {text!r}: use ISO 8601 (2025-06-01T10:00) or an age (24h, 7d)"
            ) from exc
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp() * 1_000_000) * 1000
