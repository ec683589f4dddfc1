"""The JSON wire format between a remote hook and the sidecar's ingest route.

Version 1: ``{"v": 1, "events": [[id, tenant, correlation, user, team_id, team_type, seq, ts_ns,
kind, payload, sender, recipient, topic_type, topic_source, duration_ns], ...]}``, where
``payload`` is the jsonable value the app's serializer made, tagged with ``__type__``.

Version 2 (what the remote hook sends, see ``_wire_rows``): ``{"v": 2, "events": [[id, [tenant,
correlation, user, team_id, team_type], seq, ts_ns, kind, type, payload, sender, recipient,
topic_type, topic_source, duration_ns], ...]}``. When ``type`` is empty, ``payload`` is the JSON
text of the payload; otherwise it is the fields of an AutoGen model or log event of that type,
or of one of the hook's own anchors, which the sidecar tags as version 1 did. A type
``"<type>;<key>"`` says the field ``key`` is a list of ``[type, fields]`` pairs, each tagged the
same way (a TaskResult's messages). Both versions decode to the same events.

Positional arrays, because a batch carries thousands of events and keys would double its size.
Payloads are raw (unredacted) and only ever travel over loopback to the sidecar, which redacts
them and applies the field bounds.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from .._events import CapturedEvent, EventKind, TaskRef
from .._records import agent_str
from ._errors import WireFormatError
from ._wire_rows import LISTED_SEP, TEXT_TAG, WIRE_V2, by_identity, payload_text

WIRE_VERSION = 1
_FIELDS = 15
_FIELDS_V2 = 12
_KINDS = {k.value: k for k in EventKind}
_MAX_ID_CHARS = 256  # ids, tenants, agent names: anything longer is not one of ours
# The C string encoder json.dumps uses for a str (ensure_ascii=False), without building an encoder
# per call: a batch encodes a dozen strings per event.
_quote: Callable[[str], str] = json.encoder.encode_basestring


def encode_event(event: CapturedEvent, event_id: str, *, max_depth: int, max_chars: int) -> bytes:
    """One captured event as the JSON text of a wire array. Never raises: an odd payload becomes a
    placeholder. Runs on the sink's sender thread, which shares the app's GIL: payloads are encoded
    by pydantic's Rust serializer or the C json encoder where they can be (``to_json_text``), the
    fields around them by the C string encoder, and the sidecar applies the field bounds when it
    builds records."""
    text = payload_text(event.payload, max_depth, max_chars)
    q = _quote
    sender, recipient = event.sender, event.recipient
    # The hook keeps AgentId objects raw; they are formatted here, off the dispatch loop.
    return (
        f"[{q(event_id)},{by_identity(_TASK_TEXT, event.task, _encode_task)},{int(event.seq)},{int(event.ts_ns)},"
        f"{_KIND_TEXT.get(id(event.kind)) or q(str(event.kind))},{text},"
        f"{q(sender) if type(sender) is str else by_identity(_AGENT_TEXT, sender, _encode_agent)},"
        f"{q(recipient) if type(recipient) is str else by_identity(_AGENT_TEXT, recipient, _encode_agent)},"
        f"{q(event.topic_type)},"
        f"{q(event.topic_source)},{int(event.duration_ns)}]"
    ).encode("utf-8", "replace")


# A task's five fields are the same for every event of it, a batch holds runs of one task's events,
# and agents keep their AgentId object for life: their encoded text is kept per object, by
# identity (``by_identity``), bounded.
_TASK_TEXT: dict[int, tuple[Any, str]] = {}
_AGENT_TEXT: dict[int, tuple[Any, str]] = {}
# Keyed by identity: an enum member's hash is a Python-level call.
_KIND_TEXT = {id(kind): _quote(kind.value) for kind in EventKind}


def _encode_task(ref: TaskRef) -> str:
    q = _quote
    return f"{q(ref.tenant_id)},{q(ref.correlation_id)},{q(ref.user_id)},{q(ref.team_id)},{q(ref.team_type)}"


def _encode_agent(agent: Any) -> str:
    return _quote(agent_str(agent))


def encode_batch(events: Sequence[bytes]) -> bytes:
    return b'{"v":%d,"events":[' % WIRE_VERSION + b",".join(events) + b"]}"


def encode_batch_v2(rows: Sequence[bytes | memoryview]) -> bytes:
    """A version 2 body from runs of rows made by ``encode_rows``."""
    return b"".join(batch_v2_chunks(rows))


def batch_v2_chunks(rows: Sequence[bytes | memoryview]) -> list[bytes | memoryview]:
    """The pieces of a version 2 body, in order, for a sender that writes them one by one (a
    megabyte joined is a megabyte copied, on a thread that shares the app's GIL)."""
    chunks: list[bytes | memoryview] = [b'{"v":%d,"events":[' % WIRE_V2]
    for row in rows:
        if row:
            if len(chunks) > 1:
                chunks.append(b",")
            chunks.append(row)
    chunks.append(b"]}")
    return chunks


def decode_batch(body: bytes) -> list[CapturedEvent]:
    """Wire bytes (version 1 or 2) -> CapturedEvents carrying their origin ids. Raises WireFormatError."""
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # nested past the parser's depth
        raise WireFormatError(f"body is not JSON ({type(exc).__name__})") from None
    version = doc.get("v") if isinstance(doc, dict) else None
    if version not in (WIRE_VERSION, WIRE_V2) or not isinstance(doc.get("events"), list):
        raise WireFormatError(f"body is not a version {WIRE_VERSION} or {WIRE_V2} batch")
    if version == WIRE_VERSION:
        return [_decode_event(i, item) for i, item in enumerate(doc["events"])]
    return [_decode_event(i, _v1_fields(i, item)) for i, item in enumerate(doc["events"])]


def _v1_fields(index: int, item: Any) -> list[Any]:
    """A version 2 row as the fields of a version 1 one."""
    if not isinstance(item, list) or len(item) != _FIELDS_V2:
        raise WireFormatError(f"event {index}: expected an array of {_FIELDS_V2} fields")
    event_id, task, seq, ts_ns, kind, tag, payload, *rest = item
    if not isinstance(task, list) or len(task) != 5:
        raise WireFormatError(f"event {index}: expected the task as an array of 5 fields")
    if not isinstance(tag, str) or len(tag) > _MAX_ID_CHARS:
        raise WireFormatError(f"event {index}: the payload type is not a short string")
    if tag == TEXT_TAG:
        if not isinstance(payload, str):
            raise WireFormatError(f"event {index}: an untyped payload must be JSON text")
        try:
            payload = json.loads(payload)
        except (ValueError, RecursionError):
            raise WireFormatError(f"event {index}: the payload is not JSON text") from None
    elif LISTED_SEP in tag:
        payload = _untag_listed(index, tag, payload)
    else:
        payload = _tagged(tag, payload)
    return [event_id, *task, seq, ts_ns, kind, payload, *rest]


def _tagged(tag: str, fields: Any) -> dict[str, Any]:
    if isinstance(fields, dict):
        return {"__type__": tag, **fields}
    return {"__type__": tag, "value": fields}  # a model that does not dump to an object


def _untag_listed(index: int, tag: str, payload: Any) -> dict[str, Any]:
    """A hook anchor whose one list field holds [type, fields] pairs (see ``own_fields``)."""
    name, key = tag.split(LISTED_SEP, 1)
    items = payload.get(key) if isinstance(payload, dict) else None
    # The field name comes from the sender's type slot and can be anything (an email): an error
    # that becomes a 400's body names only the slot, never the sent text.
    if not isinstance(items, list):
        raise WireFormatError(f"event {index}: the payload has no list field of the name its type gives")
    pairs = []
    for item in items:
        if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], str) and item[0]):
            raise WireFormatError(f"event {index}: the listed field must hold [type, fields] pairs")
        pairs.append(_tagged(item[0], item[1]))
    return {"__type__": name, **payload, key: pairs}


def _decode_event(index: int, item: Any) -> CapturedEvent:
    if not isinstance(item, list) or len(item) != _FIELDS:
        raise WireFormatError(f"event {index}: expected an array of {_FIELDS} fields")
    (event_id, tenant, corr, user, team_id, team_type, seq, ts_ns, kind, payload, sender, recipient,
     topic_type, topic_source, duration_ns) = item  # fmt: skip
    strings = (event_id, tenant, corr, user, team_id, team_type, sender, recipient, topic_type, topic_source)
    if not all(isinstance(s, str) and len(s) <= _MAX_ID_CHARS for s in strings):
        raise WireFormatError(f"event {index}: an id field is not a short string")
    if not event_id or not tenant or not corr:
        raise WireFormatError(f"event {index}: event id, tenant and correlation id are required")
    numbers = (seq, ts_ns, duration_ns)
    if not all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n < 2**63 for n in numbers):
        raise WireFormatError(f"event {index}: seq, ts_ns and duration_ns must be non-negative integers")
    event_kind = _KINDS.get(kind) if isinstance(kind, str) else None
    if event_kind is None:
        raise WireFormatError(f"event {index}: unknown kind")
    return CapturedEvent(
        gseq=0,
        task=TaskRef(tenant, corr, user, team_id, team_type),
        seq=seq,
        ts_ns=ts_ns,
        kind=event_kind,
        payload=payload,
        sender=sender,
        recipient=recipient,
        topic_type=topic_type,
        topic_source=topic_source,
        duration_ns=duration_ns,
        event_id=event_id,
    )
