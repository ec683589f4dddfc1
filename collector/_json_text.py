"""JSON text of a captured payload by the fast routes: pydantic's Rust serializer for AutoGen's own
models, pydantic_core for the runtime's log events and the hook's own anchor payloads.

Each function returns None for anything it cannot vouch for (app-defined types, cycles, images,
odd values); the bounded walk in ``_serialize`` then takes the payload, so nothing here ever has
to make a placeholder.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pydantic_core

# A payload held as Python objects keeps the whole message graph alive, and CPython's cyclic
# garbage collector scans it again on every collection until the pipeline lets go of it: on an
# agent workload that costs more wall time than the hook itself. Text is not tracked by the
# collector, so the pipeline turns payloads into text promptly and redacts them later.
MAX_FAST_CHARS = 1_000_000
# AutoGen's own message models have known field types (text, ids, usage, nested messages, images):
# pydantic's Rust serializer dumps them ~8x faster than the walk in _serialize. User-defined content
# (StructuredMessage[T]) may hold raw bytes, which the walk turns into placeholders, so it is excluded.
_FAST_TEXT_MODULES = ("autogen_agentchat.", "autogen_core.")
# Dict payloads the hook builds itself, whose values it knows; app-built ones (CustomEvent attrs)
# can hold anything and take the walk.
_OWN_PAYLOADS = frozenset({"TaskStart", "TaskResult", "TaskUnfinished", "TaskError", "LogRecord"})


class JsonSnapshot:
    """A payload already encoded as JSON text (raw, unredacted: it lives only in memory)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def fast_json_text(value: Any) -> str | None:
    """The payload's JSON text, tagged with its type as the walk tags it, or None: the walk's job."""
    cls = type(value)
    if cls is dict:
        return _fast_anchor_text(value)
    route, prefix, _ = _ROUTES.get(cls) or route_of(cls)
    text: str | None = None
    try:
        if route is MODEL:
            text = cls.__pydantic_serializer__.to_json(value, fallback=unknown_placeholder).decode()
        elif route is LOG_EVENT:  # autogen_core.logging events keep their fields in .kwargs
            kwargs = getattr(value, "kwargs", None)
            if isinstance(kwargs, dict):
                # JSON-ready data (an LLM call carries its whole prompt as OpenAI-style dicts), which
                # pydantic_core encodes ~3.5x faster than the C json encoder. Valid UTF-8 bytes would
                # become text (redacted like any text); binary bytes, lone surrogates and unknown
                # objects raise, and the walk makes them placeholders.
                text = pydantic_core.to_json(kwargs).decode()
    except Exception:  # noqa: BLE001 - cycles, odd fields, invalid text: the walk handles them
        return None
    # Images (autogen_core.Image dumps as {"data": <base64>}) must become placeholders: the walk.
    if text is None or len(text) > MAX_FAST_CHARS or '{"data":"' in text or text[:1] != "{":
        return None
    return prefix + "}" if text == "{}" else prefix + "," + text[1:]


# Which fast path a type takes, the start of its tagged text and its type name, decided once per
# type: snapshotting runs for every event, and the module and attribute checks cost as much as
# serializing a small message.
MODEL, LOG_EVENT, WALK = "model", "log-event", "walk"
_ROUTES: dict[type, tuple[str, str, str]] = {}
_ROUTES_MAX = 4096  # generic models (StructuredMessage[T]) make new types; stay bounded


def route_of(cls: type) -> tuple[str, str, str]:
    """(route, tagged-text prefix, type name) of a payload type; use ``ROUTES.get(cls) or route_of(cls)``."""
    route = WALK
    if cls.__module__.startswith(_FAST_TEXT_MODULES):
        serializer = getattr(cls, "__pydantic_serializer__", None)
        if not callable(getattr(serializer, "to_json", None)) or not hasattr(cls, "model_dump_json"):
            route = LOG_EVENT
        elif not cls.__name__.startswith("StructuredMessage"):
            route = MODEL
    if len(_ROUTES) >= _ROUTES_MAX:
        _ROUTES.clear()
    entry = _ROUTES[cls] = (route, '{"__type__":' + json.dumps(cls.__name__), cls.__name__)
    return entry


ROUTES = _ROUTES  # read-only outside this module: the cache route_of fills


def anchor_shape(value: dict[str, Any]) -> tuple[str, tuple[str, ...]] | None:
    """(type name, keys of its list fields) of one of the hook's own payloads (``_OWN_PAYLOADS``)
    whose other values are JSON scalars under str keys, or None: an app's dict (whose "__type__"
    may hold anything), or one holding bytes, containers, app objects or a non-finite float
    (pydantic would write null where the walk writes a placeholder). What the lists hold is for
    the caller to check."""
    name = value.get("__type__")
    if type(name) is not str or name not in _OWN_PAYLOADS:
        return None
    lists: list[str] = []
    for key, item in value.items():
        cls = type(item)
        if type(key) is not str:
            return None
        if cls is list:
            lists.append(key)
        elif cls not in _SCALARS or (cls is float and not math.isfinite(item)):
            return None
    return name, tuple(lists)


def _fast_anchor_text(value: dict[str, Any]) -> str | None:
    """The hook's own payloads (task anchors, log lines): flat dicts of scalars, plus lists of
    AutoGen's models (a TaskResult's messages), each dumped by pydantic and tagged with its type as
    the walk tags it. Anything else inside (see ``anchor_shape``) or a lone surrogate makes it give
    up: the walk's job."""
    shape = anchor_shape(value)
    if shape is None:
        return None
    lists = shape[1]
    parts: list[str] = []
    try:
        for key, item in value.items():
            if key in lists:
                texts = [fast_json_text(model) if type(model) not in _SCALARS else None for model in item]
                if any(text is None for text in texts):
                    return None
                encoded = "[" + ",".join(texts) + "]"  # type: ignore[arg-type]  # None ruled out above
            else:
                encoded = pydantic_core.to_json(item).decode()
            parts.append(pydantic_core.to_json(key).decode() + ":" + encoded)
    except Exception:  # noqa: BLE001 - surrogates, odd values: the walk decides
        return None
    text = "{" + ",".join(parts) + "}"
    if len(text) > MAX_FAST_CHARS or '{"data":"' in text:
        return None
    return text


_SCALARS = frozenset({str, int, float, bool, type(None)})


def unknown_placeholder(value: Any) -> dict[str, Any]:
    """pydantic's fallback for a value it cannot serialize: its type name only, never its content."""
    return {"__placeholder__": "unknown-type", "type": type(value).__name__}
