"""``autogen-audit sql "SELECT ..."``: run a query against the store and print the result."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("sql", help="run a read-only SQL query against the store")
    parser.add_argument("query", help="the SQL to run (SELECT, SHOW, DESCRIBE, EXPLAIN, WITH)")
    parser.add_argument("--format", choices=["table", "json", "csv"], default="table")


def run(args: argparse.Namespace) -> int:
    from ._access import open_query_target
    from ._output import render

    target = open_query_target(args.dsn)
    try:
        columns, rows = target.query(args.query)
    finally:
        target.close()
    print(render(columns, rows, args.format))
    return 0
