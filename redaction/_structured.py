"""Split JSON-like values into the strings to analyse, and put the redacted strings back.

Values are redacted one by one: a tool call's arguments, a tool result, a multimodal message's
parts, and a string that is itself a JSON object or array (parsed, redacted field by field,
re-serialized). Integers of nine digits or more are analysed as their digits (a card or phone number in a tool
call's JSON arguments). Keys are analysed too (an app's dict may be keyed by a customer's email), except
the serializer's ``__dunder__`` tags; field names repeat endlessly, so one found clean is
remembered per policy (``clean_keys``) and costs a set lookup after that. A value under a sensitive
key (``password``, ``dbPassword``, ``client_secret``) is a secret whatever it looks like.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_MAX_DEPTH = 64
# The serializer's own tags (__type__, __placeholder__): never analysed as keys.
_DUNDER = re.compile(r"__[A-Za-z0-9_]{1,40}__")
_TAGS = frozenset({"__type__", "__placeholder__"})  # the usual ones, without the regex

# Values that are structure, not content: the type tags and placeholders of the collector's
# serializer, message, agent and team ids, and timestamps. Each is kept only when it has the
# exact shape expected under its key, so a user's own {"id": "jane@example.com"} is still
# analysed. NER otherwise mangles them ("max-depth" became <PERSON>) and spends most of its time
# on them.
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_.:-]{0,80}")
# collector/_fallback_ids.py repeats these id shapes (the app's hook must not import Presidio).
_UUID_OR_HEX = re.compile(
    r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}|[0-9a-f]{16,64}"
)
_ISO_TS = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?")
_MESSAGE_TYPE = re.compile(r"[A-Z][A-Za-z]{2,60}(?:Message|Event|Result|Request|Response|Call|Start|Termination)")
# An AgentId as autogen-core logs it ("type/key"): a developer-chosen type and a key that is a
# team's uuid or "default". A key of any other shape (an app may key agents by user) is analysed.
_AGENT_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_.:-]{0,160}/(?:" + _UUID_OR_HEX.pattern + r"|default)")
STRUCTURAL: dict[str, re.Pattern[str]] = {
    "__type__": _IDENT,
    "__placeholder__": _IDENT,
    "type": _MESSAGE_TYPE,
    "id": _UUID_OR_HEX,
    "message_id": _UUID_OR_HEX,
    "created_at": _ISO_TS,
    # Every team run has fresh ids, so the repeat cache never holds them: analysing them cost a
    # spaCy pass each (three per team run, most of NER's time in the remote-mode workload).
    "agent_id": _AGENT_ID,
    "sender": _AGENT_ID,
    "recipient": _AGENT_ID,
    "topic_source": _UUID_OR_HEX,
    "team_id": _UUID_OR_HEX,
}


@dataclass(frozen=True, slots=True)
class Leaf:
    index: int  # position in the item's list of strings to analyse


@dataclass(frozen=True, slots=True)
class NumberLeaf:
    """A long integer, analysed as its digits (a card or phone number sent as a JSON number): kept
    as the number when nothing was found in it, else replaced by the redacted text."""

    index: int
    value: int


# Integers of fewer digits cannot be a card, phone or account number; longer ones are analysed.
_NUMBER_MIN = 10**8


@dataclass(frozen=True, slots=True)
class Secret:
    """A value under a sensitive key: replaced whole, never analysed."""

    value: str


@dataclass(frozen=True, slots=True)
class KeyedDict:
    """A dict some of whose keys are Leaf nodes (keys to analyse). Most dicts have none once their
    field names are known clean: those stay plain dicts, rebuilt by the faster path of join."""

    items: dict[Any, Any]


@dataclass(frozen=True, slots=True)
class JsonText:
    tree: Any  # the parsed JSON, with Leaf/Secret nodes in place of strings


def is_json_text(text: str) -> bool:
    stripped = text.strip()
    return len(stripped) >= 2 and (stripped[0], stripped[-1]) in (("{", "}"), ("[", "]"))


def split(
    value: Any,
    sensitive_keys: frozenset[str],
    texts: list[str],
    depth: int = 0,
    clean_keys: frozenset[str] | set[str] = frozenset(),
    key_leaves: list[int] | None = None,
) -> Any:
    """Return ``value`` with every string (dict keys too) replaced by a node; the strings are
    appended to ``texts``, and the positions of the keys among them to ``key_leaves``. A key in
    ``clean_keys`` (analysed before, nothing found) is kept as it is."""
    if depth > _MAX_DEPTH:
        return Secret("")  # deeper than any real message: withheld rather than analysed
    if isinstance(value, str):
        if is_json_text(value):
            try:
                parsed = json.loads(value)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict | list):
                return JsonText(split(parsed, sensitive_keys, texts, depth + 1, clean_keys, key_leaves))
        texts.append(value)
        return Leaf(len(texts) - 1)
    if type(value) is int and not -_NUMBER_MIN < value < _NUMBER_MIN:
        texts.append(str(value))
        return NumberLeaf(len(texts) - 1, value)
    if isinstance(value, dict):
        # Per item: a string of the exact shape STRUCTURAL expects under its key is kept; any
        # non-empty value under a sensitive key is a secret, whole; anything else is split. Tested by the
        # item's type first: this loop runs for every key of every payload stored, and on cache
        # hits it is most of the redactor's cost.
        out: dict[Any, Any] = {}
        keyed = False
        for key, item in value.items():
            node: Any
            if isinstance(item, dict | list):
                if item and isinstance(key, str) and is_sensitive(key, sensitive_keys):
                    node = Secret(json.dumps(item, ensure_ascii=False, default=str))  # a cookie jar, a JWK
                else:
                    node = split(item, sensitive_keys, texts, depth + 1, clean_keys, key_leaves)
            elif item is None or isinstance(item, bool) or (isinstance(item, str) and not item):
                node = item  # what split would give back (an empty string has nothing to redact)
            elif not isinstance(key, str):
                node = split(item, sensitive_keys, texts, depth + 1, clean_keys, key_leaves)
            elif isinstance(item, str) and (pattern := STRUCTURAL.get(key)) is not None and pattern.fullmatch(item):
                node = item
            elif is_sensitive(key, sensitive_keys):
                node = Secret(str(item))
            else:
                node = split(item, sensitive_keys, texts, depth + 1, clean_keys, key_leaves)
            if type(key) is str and key not in clean_keys and key not in _TAGS and not _DUNDER.fullmatch(key):
                texts.append(key)
                if key_leaves is not None:
                    key_leaves.append(len(texts) - 1)
                out[Leaf(len(texts) - 1)] = node
                keyed = True
            else:
                out[key] = node
        return KeyedDict(out) if keyed else out
    if isinstance(value, list | tuple):
        return [split(item, sensitive_keys, texts, depth + 1, clean_keys, key_leaves) for item in value]
    return value


def normal_key(key: str) -> str:
    """A key as sensitive keys are matched: casefolded, without ``_``, ``-``, ``.`` or spaces, so
    ``api_key``, ``API-Key`` and ``apiKey`` are one key."""
    return _SEPARATORS.sub("", key.casefold())


_SEPARATORS = re.compile(r"[-_. ]")
# Per set of sensitive keys (one per policy), each payload key's verdict: keys repeat endlessly
# ("content", "source", ...), and the suffix test below is a loop.
_SENSITIVE: dict[frozenset[str], dict[str, bool]] = {}


def is_sensitive(key: str, sensitive_keys: frozenset[str]) -> bool:
    """Whether the value under ``key`` is a secret: its normal form is a sensitive key or ends with
    one (``db_password``, ``accessToken``, ``proxy-authorization``). ``sensitive_keys`` are in
    normal form (the policy loader makes them so)."""
    verdicts = _SENSITIVE.get(sensitive_keys)
    if verdicts is None:
        if len(_SENSITIVE) >= 1_000:  # a set per policy version: bounded across reloads
            _SENSITIVE.clear()
        verdicts = _SENSITIVE[sensitive_keys] = {}
    verdict = verdicts.get(key)
    if verdict is None:
        normal = normal_key(key)
        verdict = any(normal.endswith(sensitive) for sensitive in sensitive_keys)
        if len(verdicts) < 100_000:
            verdicts[key] = verdict
    return verdict


def join(tree: Any, redacted: list[str], secret: Callable[[str], str]) -> Any:
    """Rebuild the value from the nodes and the redacted strings."""
    if isinstance(tree, Leaf):
        return redacted[tree.index]
    if isinstance(tree, Secret):
        return secret(tree.value)
    if isinstance(tree, NumberLeaf):
        text = redacted[tree.index]
        return tree.value if text == str(tree.value) else text
    if isinstance(tree, JsonText):
        return json.dumps(join(tree.tree, redacted, secret), ensure_ascii=False)
    if isinstance(tree, dict):
        return {key: join(item, redacted, secret) for key, item in tree.items()}
    if isinstance(tree, list):
        return [join(item, redacted, secret) for item in tree]
    if isinstance(tree, KeyedDict):
        out: dict[Any, Any] = {}
        for key, item in tree.items.items():
            name = redacted[key.index] if type(key) is Leaf else key
            if name in out:  # two keys redacted alike ("<EMAIL_ADDRESS>"): both values are kept
                name = _free_name(name, out)
            out[name] = join(item, redacted, secret)
        return out
    return tree


def _free_name(name: Any, taken: dict[Any, Any]) -> str:
    n = 2
    while f"{name}#{n}" in taken:
        n += 1
    return f"{name}#{n}"
