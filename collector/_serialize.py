"""Turn any captured object into a JSON-safe value, without ever failing.

Agent messages are attacker- and bug-shaped: huge, cyclic, binary, invalid UTF-8, or of types
nobody anticipated. Every oddity becomes a bounded placeholder with a reason instead of an
exception, so one bad message never stops the pipeline. Placeholders name types and sizes only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from ._json_text import fast_json_text

_MARK = "…[truncated {n} chars]"


@dataclass(slots=True)
class SerializeReport:
    """What happened while serializing one value."""

    truncated: bool = False
    placeholders: list[str] = field(default_factory=list)


def clean_str(text: str, limit: int, report: SerializeReport) -> str:
    """Bound a string and replace lone surrogates (invalid UTF-8 decoded with surrogateescape)."""
    if len(text) > limit:
        report.truncated = True
        text = text[:limit] + _MARK.format(n=len(text) - limit)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
        report.placeholders.append("invalid-utf8")
    return text


def valid_utf8(value: Any) -> str:
    """``value`` as valid UTF-8: each lone surrogate (invalid UTF-8 decoded with surrogateescape, an
    escaped surrogate in JSON) becomes ``?``, as in ``clean_str``. The store's client cannot encode
    a string that holds one, so a row with it would never be inserted. Anything else than a string
    (an app's ticket number as correlation id) is its ``str``: the client refuses it too."""
    text = value if type(value) is str else str(value)
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


def to_jsonable(obj: Any, *, max_depth: int, max_chars: int, report: SerializeReport | None = None) -> Any:
    """Convert obj to dicts, lists, str, int, float, bool and None."""
    report = report if report is not None else SerializeReport()
    return _convert(obj, max_depth, max_chars, report, set())


def _placeholder(kind: str, report: SerializeReport, **attrs: Any) -> dict[str, Any]:
    report.placeholders.append(kind)
    return {"__placeholder__": kind, **attrs}


def _convert(obj: Any, depth: int, limit: int, report: SerializeReport, active: set[int]) -> Any:
    if obj is None or isinstance(obj, bool | int):
        return obj
    if isinstance(obj, float):
        return obj if obj == obj and obj not in (float("inf"), float("-inf")) else str(obj)
    if isinstance(obj, str):
        return clean_str(obj, limit, report)
    if isinstance(obj, bytes | bytearray | memoryview):
        # Raw bytes may hold anything (images, files, secrets): keep only the size.
        return _placeholder("bytes", report, size=len(obj))
    if isinstance(obj, enum.Enum):
        return _convert(obj.value, depth, limit, report, active)
    if isinstance(obj, dt.datetime | dt.date | dt.time):
        return obj.isoformat()
    if isinstance(obj, uuid.UUID):
        return str(obj)
    if depth <= 0:
        return _placeholder("max-depth", report, type=type(obj).__name__)
    marker = id(obj)
    if marker in active:
        return _placeholder("cycle", report, type=type(obj).__name__)
    active.add(marker)
    try:
        return _convert_container(obj, depth - 1, limit, report, active)
    except Exception as exc:  # noqa: BLE001 - any failure of user types becomes a placeholder
        return _placeholder("unserializable", report, type=type(obj).__name__, reason=type(exc).__name__)
    finally:
        active.discard(marker)


def _convert_container(obj: Any, depth: int, limit: int, report: SerializeReport, active: set[int]) -> Any:
    if isinstance(obj, dict):
        out: dict[str, Any] = {}
        for i, (key, value) in enumerate(obj.items()):
            if i >= limit // 8:
                report.truncated = True
                out["__truncated_items__"] = len(obj) - i
                break
            out[clean_str(str(key), 256, report)] = _convert(value, depth, limit, report, active)
        return out
    if isinstance(obj, list | tuple | set | frozenset):
        items = list(obj)
        cap = limit // 8
        converted = [_convert(item, depth, limit, report, active) for item in items[:cap]]
        if len(items) > cap:
            report.truncated = True
            converted.append({"__truncated_items__": len(items) - cap})
        return converted
    type_name = type(obj).__name__
    dump = getattr(obj, "model_dump", None)
    if callable(dump):  # pydantic models: AgentChat messages, autogen-core payloads
        fast = _fast_autogen_model(obj, type_name, depth, limit, report)
        if fast is not None:
            return fast
        return _tagged(type_name, _fields_of_model(obj), depth, limit, report, active)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        fields = {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
        return _tagged(type_name, fields, depth, limit, report, active)
    if type_name == "Image" and hasattr(obj, "to_base64"):  # autogen_core.Image: never store pixels
        return _placeholder("image", report, type=type_name)
    kwargs = getattr(obj, "kwargs", None)
    if isinstance(kwargs, dict):  # autogen_core.logging events keep their fields in .kwargs
        return _tagged(type_name, kwargs, depth, limit, report, active)
    if isinstance(obj, BaseException):
        return {"__type__": type_name, "message": clean_str(str(obj), limit, report)}
    attrs = getattr(obj, "__dict__", None)
    if isinstance(attrs, dict):
        return _tagged(type_name, attrs, depth, limit, report, active)
    return _placeholder("unknown-type", report, type=type_name)


def _fast_autogen_model(obj: Any, type_name: str, depth: int, limit: int, report: SerializeReport) -> Any:
    text = fast_json_text(obj)  # None for anything but AutoGen's own models, or odd ones
    if text is None:
        return None
    return from_json_text(text, max_depth=depth, max_chars=limit, report=report)


def _bound(value: Any, depth: int, limit: int, report: SerializeReport) -> Any:
    """Apply the walk's bounds to an already JSON-safe tree: depth, string length, item count,
    and no image pixels (autogen_core.Image dumps as exactly {"data": <base64>})."""
    if isinstance(value, str):
        return clean_str(value, limit, report) if len(value) > limit else value
    if isinstance(value, dict):
        if len(value) == 1 and isinstance(value.get("data"), str):
            return _placeholder("image", report, type="Image")
        if depth <= 0:
            return _placeholder("max-depth", report, type="dict")
        if len(value) > limit // 8:
            report.truncated = True
            items = list(value.items())[: limit // 8]
            out = {k: _bound(v, depth - 1, limit, report) for k, v in items}
            out["__truncated_items__"] = len(value) - len(items)
            return out
        return {k: _bound(v, depth - 1, limit, report) for k, v in value.items()}
    if isinstance(value, list):
        if depth <= 0:
            return _placeholder("max-depth", report, type="list")
        cap = limit // 8
        out_list = [_bound(v, depth - 1, limit, report) for v in value[:cap]]
        if len(value) > cap:
            report.truncated = True
            out_list.append({"__truncated_items__": len(value) - cap})
        return out_list
    return value


def _fields_of_model(obj: Any) -> dict[str, Any]:
    # Walk pydantic fields ourselves: model_dump() raises on cycles and on arbitrary types.
    names = list(getattr(type(obj), "model_fields", {}))
    return {name: getattr(obj, name, None) for name in names}


def _tagged(
    type_name: str, fields: dict[str, Any], depth: int, limit: int, report: SerializeReport, active: set[int]
) -> dict[str, Any]:
    out: dict[str, Any] = {"__type__": type_name}
    for key, value in fields.items():
        if str(key).startswith("_"):
            continue
        out[str(key)] = _convert(value, depth, limit, report, active)
    return out


def dumps_bounded(value: Any, max_chars: int, report: SerializeReport) -> str:
    """JSON text of a jsonable value, cut to max_chars (then it is no longer valid JSON, and says so)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    if len(text) > max_chars:
        report.truncated = True
        text = text[:max_chars] + _MARK.format(n=len(text) - max_chars)
    return text


def to_json_text(value: Any, *, max_depth: int, max_chars: int) -> str:
    """JSON text of any payload; never raises. AutoGen's own models go through pydantic's Rust
    serializer and the runtime's log events through the C encoder, tagged with their type; anything
    else (or anything odd) takes the bounded walk. Field bounds are applied again when the text is
    turned into a record (``from_json_text``)."""
    try:
        text = fast_json_text(value)
    except Exception:  # noqa: BLE001 - the fast routes vouch for what they know; anything else is the walk's
        text = None
    if text is not None:
        return text
    report = SerializeReport()
    try:
        jsonable = to_jsonable(value, max_depth=max_depth, max_chars=max_chars, report=report)
    except Exception as exc:  # noqa: BLE001 - to_jsonable is total except for recursion limits
        jsonable = {"__placeholder__": "unserializable", "reason": type(exc).__name__}
    return json.dumps(jsonable, ensure_ascii=False, separators=(",", ":"), default=str)


def from_json_text(text: str, *, max_depth: int, max_chars: int, report: SerializeReport) -> Any:
    """The jsonable value of a snapshot, within the same bounds as ``to_jsonable``."""
    value = json.loads(text)
    # Text this short cannot hold a string over max_chars or a list over max_chars // 8 items.
    if len(text) < min(max_chars, 2 * (max_chars // 8)) and max_depth >= 16:
        return value
    return _bound(value, max_depth, max_chars, report)
