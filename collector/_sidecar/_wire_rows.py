"""Wire version 2 rows: a run of captured events encoded by one pydantic_core call.

The remote hook's sender thread shares the app's GIL, so every Python-level step per event is
paid by the app. Version 1 made each event's JSON text (one Rust call per payload), wrapped it in
a Python-built array, then joined the arrays. Here the sender builds one tuple per event and hands
the whole run to pydantic's Rust serializer at once; AutoGen's models are serialized as their
fields, with their type name in a slot of its own, and the sidecar tags them as version 1 did.

Any payload the one call cannot vouch for makes the run take the per-event route, where each
payload gets exactly the JSON text version 1 would have sent (``to_json_text``: the fast path or
the bounded walk, never an exception), carried as a string the sidecar parses. That route is
taken for a whole run when the call raises (cycles, bytes, unknown objects, lone surrogates),
when the output shows an image (``{"data": <base64>}``, which must become a placeholder) or is
larger than one payload may be on the fast path; and always for payloads outside AutoGen's own
models, log events and the hook's own anchors (app-defined types, app-built dicts).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import pydantic_core

from .._events import CapturedEvent, EventKind, TaskRef
from .._json_text import LOG_EVENT, MAX_FAST_CHARS, MODEL, ROUTES, JsonSnapshot, anchor_shape, route_of
from .._records import agent_str
from .._serialize import to_json_text

__all__ = ["LISTED_SEP", "TEXT_TAG", "WIRE_V2", "by_identity", "encode_rows", "own_fields", "payload_text"]

WIRE_V2 = 2
# The type slot of a row whose payload slot is JSON text for the sidecar to parse as it is.
TEXT_TAG = ""
# In a type slot "<type>;<key>": the payload's field <key> is a list of [type, fields] pairs.
LISTED_SEP = ";"
_IMAGE_MARK = b'{"data":"'
# Keyed by identity: an enum member's hash and its .value are Python-level calls.
_KIND_VALUE = {id(kind): kind.value for kind in EventKind}
# A task's five fields and an agent's "type/key" are the same for every event of it, and a run
# holds several events of each: kept per object, by identity (the object is held, so its id stays
# its own), bounded.
_TASKS: dict[int, tuple[Any, tuple[str, str, str, str, str]]] = {}
_AGENTS: dict[int, tuple[Any, str]] = {}
_CACHE_MAX = 4096
_T = TypeVar("_T")


def encode_rows(
    events: Sequence[CapturedEvent], event_ids: Sequence[str], *, max_depth: int, max_chars: int
) -> memoryview:
    """The events as comma-separated version 2 rows (no brackets), in order. Never raises. A view
    into the encoder's output: a run is sent as it is, never copied into a joined body."""
    rows: list[list[Any]] = []
    fast = False
    routes, tasks, agents, kinds = ROUTES, _TASKS, _AGENTS, _KIND_VALUE
    for event, event_id in zip(events, event_ids, strict=True):
        _, task, seq, ts, kind, payload, sender, recipient, topic_type, topic_source, duration, _ = event
        cls = type(payload)
        route, _, tag = routes.get(cls) or route_of(cls)
        if route is MODEL:
            fast = True
        elif route is LOG_EVENT and type(kwargs := getattr(payload, "kwargs", None)) is dict:
            payload, fast = kwargs, True
        elif cls is dict and (own := own_fields(payload)) is not None:
            (tag, payload), fast = own, True
        elif payload is None:  # an RPC's empty answer: every team turn has one
            tag, payload = TEXT_TAG, "null"
        else:
            tag = TEXT_TAG
            payload = payload_text(payload, max_depth, max_chars)
        # by_identity, inlined for the hits (nearly every event): a call per field costs as much
        # as the field's share of the encoding.
        known = tasks.get(id(task))
        task_fields = known[1] if known is not None and known[0] is task else by_identity(tasks, task, _task_fields)
        if type(sender) is not str:
            hit = agents.get(id(sender))
            sender = hit[1] if hit is not None and hit[0] is sender else by_identity(agents, sender, agent_str)
        if type(recipient) is not str:
            hit = agents.get(id(recipient))
            recipient = hit[1] if hit is not None and hit[0] is recipient else by_identity(agents, recipient, agent_str)
        rows.append([
            event_id, task_fields, seq, ts, kinds.get(id(kind)) or str(kind), tag, payload, sender, recipient,
            topic_type, topic_source, duration,
        ])  # fmt: skip
    if fast:
        try:
            out = pydantic_core.to_json(rows)
        except Exception:  # noqa: BLE001 - anything odd in the run: every payload takes the per-event route
            out = b""
        if out and _IMAGE_MARK not in out and len(out) <= MAX_FAST_CHARS:
            return memoryview(out)[1:-1]
        for row, event in zip(rows, events, strict=True):
            if row[5] != TEXT_TAG:
                row[5], row[6] = TEXT_TAG, payload_text(event[5], max_depth, max_chars)
    try:
        return memoryview(pydantic_core.to_json(rows))[1:-1]
    except Exception:  # noqa: BLE001 - a lone surrogate in an id: the C encoder, made valid UTF-8
        return memoryview(json.dumps(rows, ensure_ascii=False, separators=(",", ":"))[1:-1].encode("utf-8", "replace"))


def own_fields(payload: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """(type slot, fields) of one of the hook's own anchor dicts that the one call can carry, or
    None (the per-event route). Its scalars go as they are (see ``anchor_shape``); the one list a
    TaskResult has (its messages) must hold AutoGen's models only, and goes as ``[type, fields]``
    pairs with the type slot ``"<type>;<key>"``, so the sidecar tags each message as version 1 did."""
    shape = anchor_shape(payload)
    if shape is None or len(shape[1]) > 1:
        return None
    name, lists = shape
    if not lists:
        return name, payload
    (listed,) = lists
    pairs: list[list[Any]] = []
    for item in payload[listed]:
        route, _, tag = ROUTES.get(type(item)) or route_of(type(item))
        if route is not MODEL:
            return None
        pairs.append([tag, item])
    return f"{name}{LISTED_SEP}{listed}", {**payload, listed: pairs}


def payload_text(payload: Any, max_depth: int, max_chars: int) -> str:
    """A payload's version-1 JSON text: its snapshot's, or ``to_json_text``'s (never raises)."""
    if isinstance(payload, JsonSnapshot):
        return payload.text
    return to_json_text(payload, max_depth=max_depth, max_chars=max_chars)


def by_identity(cache: dict[int, tuple[Any, _T]], obj: Any, make: Callable[[Any], _T]) -> _T:
    """``make(obj)``, kept per object by identity (the object is kept too, so its id stays its own),
    in a cache cleared when it reaches ``_CACHE_MAX`` entries."""
    hit = cache.get(id(obj))
    if hit is not None and hit[0] is obj:
        return hit[1]
    value = make(obj)
    if len(cache) >= _CACHE_MAX:
        cache.clear()
    cache[id(obj)] = (obj, value)
    return value


def _task_fields(task: TaskRef) -> tuple[str, str, str, str, str]:
    return (task.tenant_id, task.correlation_id, task.user_id, task.team_id, task.team_type)
