"""Redacted records <-> spool bytes: one JSON line per EventRecord or TaskRecord.

Only records that already went through redaction are encoded here, so raw captured content never
reaches the spool. JSON (ASCII-escaped) round-trips every value an EventRecord can hold, including
lone surrogates, and stays readable with standard tools when someone inspects a quarantined frame.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any

from ._events import EventRecord, TaskRecord
from .errors import AuditError

__all__ = ["CodecError", "decode_batch", "encode_batch"]

_EVENT_FIELDS = tuple(f.name for f in dataclasses.fields(EventRecord))
_TASK_FIELDS = tuple(f.name for f in dataclasses.fields(TaskRecord))


class CodecError(AuditError):
    """A spooled record does not decode into an EventRecord or TaskRecord (a version skew or damage)."""


def _encode(tag: str, record: EventRecord | TaskRecord, fields: Sequence[str]) -> bytes:
    body: dict[str, Any] = {"_": tag}
    for name in fields:
        body[name] = getattr(record, name)
    return json.dumps(body, separators=(",", ":")).encode("ascii")


def encode_batch(events: Sequence[EventRecord], tasks: Sequence[TaskRecord]) -> list[bytes]:
    """One spool record per row, events first: the unit the writer inserts under one token."""
    out = [_encode("e", e, _EVENT_FIELDS) for e in events]
    out.extend(_encode("t", t, _TASK_FIELDS) for t in tasks)
    return out


def decode_batch(records: Sequence[bytes]) -> tuple[list[EventRecord], list[TaskRecord]]:
    events: list[EventRecord] = []
    tasks: list[TaskRecord] = []
    for raw in records:
        try:
            body = json.loads(raw)
            tag = body.pop("_")
            if tag == "e":
                events.append(EventRecord(**{name: body[name] for name in _EVENT_FIELDS}))
            elif tag == "t":
                tasks.append(TaskRecord(**{name: body[name] for name in _TASK_FIELDS}))
            else:
                raise CodecError(f"unknown spool record tag {tag!r}")
        except CodecError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            # The message names the failure type only: the record holds (redacted) content.
            raise CodecError(f"undecodable spool record ({type(exc).__name__})") from None
    return events, tasks
