"""Read-only guard for user-supplied SQL (``autogen-audit sql``, the UI's admin SQL endpoint).

On chdb the ``readonly=1`` setting cannot be used: the embedded session is shared with the
pipeline writer, so the guard enforces read-only itself, in two layers:

1. a lexer (strings, quoted identifiers and comments aware) that accepts exactly one statement
   and rejects ``INTO OUTFILE`` and ``SETTINGS`` clauses (limits are ours to set);
2. the server's own parser (``EXPLAIN AST``): the statement must be a SELECT/WITH, SHOW,
   DESCRIBE or EXPLAIN of one of those, with no table function other than a few generators
   and no function that reads files or URLs anywhere in the tree.

For an http(s) server, :func:`limit_settings` adds ``readonly=1`` so the server enforces it too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import QueryError
from ._queryable import Queryable

__all__ = [
    "ALLOWED_TABLE_FUNCTIONS",
    "QueryLimits",
    "ReadOnlyViolation",
    "check_read_only",
    "explain_with",
    "limit_settings",
    "run_read_only",
]

# Generators only: every other table function reaches files, URLs, other servers or Python objects.
ALLOWED_TABLE_FUNCTIONS = frozenset({"numbers", "numbers_mt", "zeros", "zeros_mt", "values", "generate_series"})
# Scalar functions with side channels to the filesystem or network.
_DENIED_FUNCTIONS = frozenset({"file", "url", "s3", "remote", "remotesecure", "executable", "input"})
_ONLY = "only SELECT, WITH, SHOW, DESCRIBE and EXPLAIN are allowed"
_FIRST_WORDS = frozenset({"SELECT", "WITH", "SHOW", "DESCRIBE", "DESC", "EXPLAIN", "("})
_DENIED_NODES = frozenset({"InsertQuery", "Set", "SetQuery"})
_ALLOWED_ROOTS = ("SelectWithUnionQuery", "SelectIntersectExceptQuery", "ShowTables", "ShowCreate",
                  "ShowColumns", "ShowIndexes", "DescribeQuery", "Explain", "ShowDatabases",
                  "ShowSettings", "ShowFunctions", "ShowEngines")  # fmt: skip


class ReadOnlyViolation(QueryError):
    """The statement is not a single read-only query."""


@dataclass(frozen=True, slots=True)
class QueryLimits:
    """Per-query resource limits applied as settings of that call only."""

    max_execution_time_s: float = 30.0
    max_memory_bytes: int = 2 * 1024**3
    max_result_rows: int = 0  # 0 = unlimited


def limit_settings(limits: QueryLimits, *, server: bool) -> dict[str, Any]:
    """Settings for one guarded query. ``server`` adds readonly=1, which chdb cannot take."""
    settings: dict[str, Any] = {
        "max_execution_time": limits.max_execution_time_s,
        "max_memory_usage": limits.max_memory_bytes,
    }
    if limits.max_result_rows:
        settings["max_result_rows"] = limits.max_result_rows
        settings["result_overflow_mode"] = "throw"
    if server:
        settings["readonly"] = 1
    return settings


_TOKEN = re.compile(
    r"""(?P<ws>\s+)|(?P<line>--[^\n]*|\#[^\n]*)|(?P<block>/\*.*?\*/)
    |(?P<str>'(?:[^'\\]|\\.|'')*')|(?P<qid>"(?:[^"\\]|\\.|"")*"|`(?:[^`\\]|\\.|``)*`)
    |(?P<semi>;)|(?P<word>[A-Za-z_][A-Za-z0-9_]*)|(?P<other>.)""",
    re.VERBOSE | re.DOTALL,
)


def _words_and_statements(sql: str) -> tuple[list[list[str]], bool]:
    """Upper-cased bare words per statement, and whether a literal or comment was left open."""
    statements: list[list[str]] = [[]]
    pos = 0
    while pos < len(sql):
        match = _TOKEN.match(sql, pos)
        if match is None or match.end() == pos:
            return statements, True
        kind = match.lastgroup
        text = match.group()
        if kind == "other" and text in "'\"`":
            return statements, True  # an unterminated literal or identifier
        if kind == "other" and text == "/" and sql.startswith("/*", pos):
            return statements, True
        if kind == "semi":
            statements.append([])
        elif kind in ("word", "other", "str", "qid"):
            token = text.upper() if kind == "word" else text if kind == "other" else f"<{kind}>"
            statements[-1].append(token)
        pos = match.end()
    return [s for s in statements if s], False


def _lex_check(sql: str) -> None:
    statements, broken = _words_and_statements(sql)
    if broken:
        raise ReadOnlyViolation("unterminated string, identifier or comment")
    if not statements:
        raise ReadOnlyViolation("empty query")
    if len(statements) > 1:
        raise ReadOnlyViolation(f"only one statement per query is allowed (got {len(statements)})")
    words = statements[0]
    if words[0] not in _FIRST_WORDS:
        raise ReadOnlyViolation(f"{_ONLY} (got {words[0]})")
    for i, word in enumerate(words):
        if word == "OUTFILE" and i and words[i - 1] == "INTO":
            raise ReadOnlyViolation("INTO OUTFILE is not allowed: results go to the terminal only")
        if word == "SETTINGS":
            raise ReadOnlyViolation(
                "a SETTINGS clause is not allowed: limits are set with --max-execution-time / --max-memory"
            )
        following = words[i + 1] if i + 1 < len(words) else ""
        if word == "FORMAT" and following.isidentifier() and words[i - 1 : i] != ["AS"]:
            raise ReadOnlyViolation("a FORMAT clause is not allowed: choose the output with --format")


@dataclass(frozen=True, slots=True)
class _Node:
    depth: int
    kind: str
    name: str


def _parse_ast(lines: list[str]) -> list[_Node]:
    nodes = []
    for line in lines:
        stripped = line.lstrip(" ")
        parts = stripped.split()
        if not parts:
            continue
        kind = parts[0]
        name = parts[1] if len(parts) > 1 and not parts[1].startswith("(") else ""
        nodes.append(_Node(len(line) - len(stripped), kind, name))
    return nodes


def _ast_check(nodes: list[_Node]) -> None:
    if not nodes:
        raise ReadOnlyViolation("the query could not be parsed")
    root = nodes[0]
    if not root.kind.startswith(_ALLOWED_ROOTS):
        raise ReadOnlyViolation(f"{_ONLY} (got {root.kind})")
    if root.kind == "Explain":
        inner = [n for n in nodes[1:] if n.depth == root.depth + 1]
        if not inner or not inner[0].kind.startswith("Select"):
            raise ReadOnlyViolation("EXPLAIN is allowed for SELECT queries only")
    parents: list[_Node] = []
    for node in nodes:
        while parents and parents[-1].depth >= node.depth:
            parents.pop()
        parent = parents[-1] if parents else None
        if node.kind == "Function":
            name = node.name.lower()
            in_from = parent is not None and parent.kind == "TableExpression"
            if name in _DENIED_FUNCTIONS or (in_from and name not in ALLOWED_TABLE_FUNCTIONS):
                raise ReadOnlyViolation(f"function {node.name}() is not allowed: it reads outside the audit store")
        if node.kind in _DENIED_NODES or node.kind.startswith(("Alter", "Create", "Drop")):
            raise ReadOnlyViolation(f"{node.kind} is not allowed in a read-only query")
        parents.append(node)


def check_read_only(sql: str, explain: Callable[[str], list[str]]) -> str:
    """Return the statement (trailing ``;`` removed) if it is a single read-only query.

    ``explain`` runs ``EXPLAIN AST <sql>`` on the store and returns its lines; it is passed in so
    that the same guard serves the CLI, the service and the UI over any store handle.
    Raises :class:`ReadOnlyViolation` with a one-line reason otherwise.
    """
    _lex_check(sql)
    # A trailing line comment would swallow the FORMAT clause the client appends: end on a newline.
    statement = sql.strip().rstrip(";").strip() + "\n"
    try:
        lines = explain(statement)
    except QueryError as exc:
        raise QueryError(_server_message(str(exc))) from None
    _ast_check(_parse_ast(lines))
    return statement


def explain_with(query: Callable[..., tuple[list[str], list[tuple[Any, ...]]]]) -> Callable[[str], list[str]]:
    """Adapt a ``Store.query``-like callable into the ``explain`` argument of :func:`check_read_only`."""

    def explain(statement: str) -> list[str]:
        _, rows = query("EXPLAIN AST " + statement)
        return [str(row[0]) for row in rows]

    return explain


def _server_message(text: str) -> str:
    """The server's reason without its code prefix (positions refer to the wrapped query)."""
    text = re.sub(r"^Code: \d+\. DB::Exception: ", "", text)
    if text.startswith("Syntax error"):
        return "syntax error: the query does not parse"
    # The tail echoes the query (with our settings) and the parser's wish list: not useful on one line.
    return re.split(r" Expected one of|\.? [Ii]n scope ", text, maxsplit=1)[0].strip()


def run_read_only(
    target: Queryable, sql: str, limits: QueryLimits | None = None, *, server: bool
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Check ``sql`` with :func:`check_read_only`, then run it under ``limits``.

    ``server`` is true for an http(s) ClickHouse, which also gets ``readonly=1``.
    """
    limits = limits or QueryLimits()
    statement = check_read_only(sql, explain_with(target.query))
    try:
        return target.query(statement, settings=limit_settings(limits, server=server))
    except QueryError as exc:
        text = str(exc)
        if "Timeout exceeded" in text or "TIMEOUT_EXCEEDED" in text:
            raise QueryError(
                f"query stopped at the time limit of {limits.max_execution_time_s:g} s "
                "(raise it with --max-execution-time)"
            ) from None
        if "memory limit" in text.lower():
            raise QueryError(
                f"query stopped at the memory limit of {limits.max_memory_bytes} bytes (raise it with --max-memory)"
            ) from None
        raise QueryError(_server_message(text)) from None
