"""Backoff between insert attempts, and which ClickHouse failures are worth another attempt.

``classify`` answers one question for the writer: will the same insert, sent again unchanged, ever
succeed? ``retryable`` means yes, probably after a wait (network, overload, replication trouble);
``permanent`` means no: the request itself is wrong (schema, types, syntax, credentials). Because
every batch carries its spool id as the insert_deduplication_token, a retry of an insert that did
reach the server is deduplicated, so retrying is always safe; only whether it is useful is in
question. The table is in docs/durability.md.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "PERMANENT_CODES",
    "RETRYABLE_CODES",
    "Classification",
    "RetryPolicy",
    "classify",
    "error_code",
    "explain",
]

Classification = Literal["retryable", "permanent"]

# ClickHouse server error codes (src/Common/ErrorCodes.cpp) -> name, for explain() and the docs.
RETRYABLE_CODES: dict[int, str] = {
    3: "UNEXPECTED_END_OF_FILE",
    24: "CANNOT_WRITE_TO_OSTREAM",
    32: "ATTEMPT_TO_READ_AFTER_EOF",
    159: "TIMEOUT_EXCEEDED",
    198: "DNS_ERROR",
    201: "QUOTA_EXCEEDED",
    202: "TOO_MANY_SIMULTANEOUS_QUERIES",
    203: "NO_FREE_CONNECTION",
    209: "SOCKET_TIMEOUT",
    210: "NETWORK_ERROR",
    225: "NO_ZOOKEEPER",
    236: "ABORTED",
    241: "MEMORY_LIMIT_EXCEEDED",
    242: "TABLE_IS_READ_ONLY",
    243: "NOT_ENOUGH_SPACE",
    252: "TOO_MANY_PARTS",
    279: "ALL_CONNECTION_TRIES_FAILED",
    285: "TOO_FEW_LIVE_REPLICAS",
    319: "UNKNOWN_STATUS_OF_INSERT",
    394: "QUERY_WAS_CANCELLED",
    425: "SYSTEM_ERROR",
    439: "CANNOT_SCHEDULE_TASK",
    473: "DEADLOCK_AVOIDED",
    999: "KEEPER_EXCEPTION",
    1000: "POCO_EXCEPTION",
}
PERMANENT_CODES: dict[int, str] = {
    6: "CANNOT_PARSE_TEXT",
    8: "THERE_IS_NO_COLUMN",
    10: "NOT_FOUND_COLUMN_IN_BLOCK",
    16: "NO_SUCH_COLUMN_IN_TABLE",
    20: "NUMBER_OF_COLUMNS_DOESNT_MATCH",
    25: "CANNOT_PARSE_ESCAPE_SEQUENCE",
    26: "CANNOT_PARSE_QUOTED_STRING",
    27: "CANNOT_PARSE_INPUT_ASSERTION_FAILED",
    36: "BAD_ARGUMENTS",
    38: "CANNOT_PARSE_DATE",
    41: "CANNOT_PARSE_DATETIME",
    43: "ILLEGAL_TYPE_OF_ARGUMENT",
    44: "ILLEGAL_COLUMN",
    47: "UNKNOWN_IDENTIFIER",
    53: "TYPE_MISMATCH",
    60: "UNKNOWN_TABLE",
    62: "SYNTAX_ERROR",
    70: "CANNOT_CONVERT_TYPE",
    72: "CANNOT_PARSE_NUMBER",
    81: "UNKNOWN_DATABASE",
    115: "UNKNOWN_SETTING",
    117: "INCORRECT_DATA",
    164: "READONLY",
    192: "UNKNOWN_USER",
    193: "WRONG_PASSWORD",
    194: "REQUIRED_PASSWORD",
    497: "ACCESS_DENIED",
    516: "AUTHENTICATION_FAILED",
}
_BY_NAME: dict[str, Classification] = {
    **{name: "retryable" for name in RETRYABLE_CODES.values()},
    **{name: "permanent" for name in PERMANENT_CODES.values()},
}
_CODE = re.compile(r"\bCode:\s*(\d+)")
_NAME = re.compile(r"\(([A-Z][A-Z0-9_]{2,})\)")
_HTTP_STATUS = re.compile(r"response code (\d{3})|HTTP (?:status|error)[: ]+(\d{3})", re.IGNORECASE)
# Messages of transport trouble that some wrappers carry only as text.
_RETRYABLE_TEXT = ("lock timeout", "connection refused", "connection reset", "timed out")
# clickhouse-connect's DB-API classes: a transport failure vs. a request the server can never accept.
_RETRYABLE_TYPES = ("OperationalError", "StreamFailureError", "InternalError")
_PERMANENT_TYPES = ("ProgrammingError", "DataError", "NotSupportedError", "IntegrityError", "InterfaceError")


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo and len(seen) < 16:
        cur = todo.pop(0)
        if id(cur) in seen:
            continue
        seen.add(id(cur))
        yield cur
        todo.extend(e for e in (cur.__cause__, cur.__context__) if e is not None)


def error_code(exc: BaseException) -> int | None:
    """The ClickHouse error code of ``exc`` or of an exception it was raised from, if any."""
    for cur in _chain(exc):
        code = getattr(cur, "code", None)
        if isinstance(code, int) and not isinstance(code, bool) and code > 0:
            return code
        m = _CODE.search(str(cur))
        if m:
            return int(m.group(1))
    return None


def explain(exc: BaseException) -> tuple[Classification, str]:
    """The classification of ``exc`` and a short reason naming the rule that decided it."""
    chain = list(_chain(exc))
    # chdb 4.x reports a path locked by another process as code 36 BAD_ARGUMENTS "Error initializing
    # EmbeddedServer" (the "Cannot lock file" line goes to stderr only); the lock is what matters,
    # and it goes away when the other process closes the store.
    for cur in chain:
        text = str(cur).lower()
        if "cannot lock" in text or "error initializing embeddedserver" in text:
            return "retryable", "the embedded store is locked or could not start"
    code = error_code(exc)
    if code is not None:
        if code in PERMANENT_CODES:
            return "permanent", f"ClickHouse code {code} {PERMANENT_CODES[code]}"
        if code in RETRYABLE_CODES:
            return "retryable", f"ClickHouse code {code} {RETRYABLE_CODES[code]}"
    for cur in chain:
        text = str(cur)
        for name in _NAME.findall(text):
            if name in _BY_NAME:
                return _BY_NAME[name], f"ClickHouse error {name}"
        m = _HTTP_STATUS.search(text)
        if m:
            status = int(m.group(1) or m.group(2))
            if status in (401, 403):
                return "permanent", f"HTTP {status}"
            if status in (408, 429) or status >= 500:
                return "retryable", f"HTTP {status}"
        lowered = text.lower()
        for needle in _RETRYABLE_TEXT:
            if needle in lowered:
                return "retryable", f"message says {needle!r}"
    for cur in chain:
        mod = type(cur).__module__
        name = type(cur).__name__
        if isinstance(cur, OSError | TimeoutError) or mod.startswith(("urllib3", "http.client", "socket")):
            return "retryable", f"transport error {name}"
        if mod.startswith("clickhouse_connect") and name in _RETRYABLE_TYPES:
            return "retryable", f"clickhouse-connect {name}"
        if mod.startswith("clickhouse_connect") and name in _PERMANENT_TYPES:
            return "permanent", f"clickhouse-connect {name}"
    if code is not None:
        # An error code we have not sorted: the server answered, so nothing is wrong on our side that
        # we know of. Retrying keeps the batch (and the alarm on the spool's oldest_age_s fires)
        # instead of giving it up on a guess.
        return "retryable", f"unlisted ClickHouse code {code}"
    # No code, no transport error: a client-side failure such as a value that does not serialize
    # into its column type. The same rows would fail the same way.
    return "permanent", f"client-side {type(exc).__name__}"


def classify(exc: BaseException) -> Classification:
    """``retryable`` if sending the same insert again may succeed, else ``permanent``."""
    return explain(exc)[0]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Capped exponential backoff with jitter.

    ``full``: each delay is uniform in [0, min(max_s, initial_s * multiplier**n)] (spreads a herd of
    writers best). ``decorrelated``: uniform in [initial_s, previous * multiplier], capped (never
    shorter than initial_s). ``none``: the plain capped exponential, for tests and reasoning.
    """

    initial_s: float = 0.2
    max_s: float = 30.0
    multiplier: float = 2.0
    jitter: Literal["full", "decorrelated", "none"] = "full"

    def __post_init__(self) -> None:
        if not (0 < self.initial_s <= self.max_s):
            raise ValueError("RetryPolicy needs 0 < initial_s <= max_s")
        if self.multiplier < 1:
            raise ValueError("RetryPolicy multiplier must be at least 1")
        if self.jitter not in ("full", "decorrelated", "none"):
            raise ValueError(f"unknown RetryPolicy jitter {self.jitter!r}")

    def delays(self, rng: random.Random | None = None) -> Iterator[float]:
        """An endless iterator of delays in seconds; the caller decides when to give up."""
        rng = rng or random.Random()
        ceiling = self.initial_s
        previous = self.initial_s
        while True:
            if self.jitter == "full":
                yield rng.uniform(0, ceiling)
            elif self.jitter == "decorrelated":
                previous = min(self.max_s, rng.uniform(self.initial_s, previous * self.multiplier))
                yield previous
            else:
                yield ceiling
            ceiling = min(self.max_s, ceiling * self.multiplier)
