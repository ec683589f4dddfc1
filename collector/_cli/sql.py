"""``autogen-audit sql "SELECT ..."``: run one read-only query against the store and print it.

The query passes the read-only guard (collector._store._readonly) and runs under a time and a
memory limit set for that call only, so the same store can keep serving the pipeline writer.
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def parse_size(text: str) -> int:
    """``2G``, ``512M``, ``1048576`` -> bytes."""
    match = _SIZE.match(text)
    if not match:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (use e.g. 512M or 2G)")
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("the time limit must be positive")
    return value


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sql",
        help="run a read-only SQL query against the store",
        description="Run one read-only statement (SELECT, WITH, SHOW, DESCRIBE, EXPLAIN) against the "
        "store. Views v_* answer the common questions; see docs/sql-cookbook.md.",
    )
    parser.add_argument("query", help="the SQL to run; '-' reads it from standard input")
    parser.add_argument("--format", choices=["table", "json", "csv"], default="table")
    parser.add_argument(
        "--max-execution-time",
        type=_positive_seconds,
        default=30.0,
        metavar="SECONDS",
        help="stop the query after this many seconds (default 30)",
    )
    parser.add_argument(
        "--max-memory",
        type=parse_size,
        default=parse_size("2G"),
        metavar="SIZE",
        help="stop the query when it needs more memory than this, e.g. 512M (default 2G)",
    )
    parser.add_argument("--max-rows", type=int, default=0, metavar="N", help="fail if the result has more than N rows")


def run(args: argparse.Namespace) -> int:
    from .._store._readonly import QueryLimits, run_read_only
    from ._access import open_query_target
    from ._output import render

    sql = sys.stdin.read() if args.query == "-" else args.query
    limits = QueryLimits(
        max_execution_time_s=args.max_execution_time,
        max_memory_bytes=args.max_memory,
        max_result_rows=max(0, args.max_rows),
    )
    target = open_query_target(args.dsn)
    try:
        # A Store over http(s) is a shared server: let it enforce readonly=1 as well.
        server = getattr(target, "embedded", True) is False
        columns, rows = run_read_only(target, sql, limits, server=server)
    finally:
        target.close()
    print(render(columns, rows, args.format))
    return 0
