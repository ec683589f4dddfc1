"""``autogen-audit tasks``: the most recent tasks, newest first."""

from __future__ import annotations

import argparse
from typing import Any

TASKS_SQL = """
SELECT tenant_id, correlation_id, user_id, team_type, started_at, status, stop_reason,
       message_count, prompt_tokens + completion_tokens AS tokens
FROM tasks FINAL
WHERE ({tenant:String} = '' OR tenant_id = {tenant:String})
ORDER BY started_at DESC, correlation_id DESC
LIMIT {limit:UInt32}
"""


def _limit(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"the limit is 0 to {2**32 - 1}, not {value}")
    return value


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("tasks", help="list recent tasks, newest first")
    parser.add_argument("--tenant", default="", help="only this tenant")
    parser.add_argument("--limit", type=_limit, default=20, help="most tasks listed (default 20)")
    parser.add_argument("--format", choices=["table", "json", "csv"], default="table")


def run(args: argparse.Namespace) -> int:
    from ._access import open_query_target
    from ._output import render

    target = open_query_target(args.dsn)
    try:
        columns, rows = target.query(TASKS_SQL, parameters={"tenant": args.tenant, "limit": args.limit})
    finally:
        target.close()
    print(render(columns, rows, args.format))
    return 0
