"""``autogen-audit demo``: record real AgentChat team runs for several tenants into the store."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("demo", help="run demo teams (replayed models, planted PII) into the store")
    parser.add_argument("--tenants", type=int, default=4, choices=range(1, 5), metavar="1-4")
    parser.add_argument("--tasks-per-tenant", type=int, default=3)


def recorded_line(tasks: int, written: int, lost: int, dsn: str) -> str:
    from .._store._client import redact_dsn

    # A server store's DSN carries its password: the summary must not print it.
    return f"recorded {tasks} tasks ({written} events, {lost} lost) into {redact_dsn(dsn)}"


def run(args: argparse.Namespace) -> int:
    import asyncio
    import logging

    from .._demo import run_demo
    from .._hook import AuditHook
    from ._access import resolve_dsn

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # The replay model client warns on every call about features it ignores: noise in a demo.
    logging.getLogger("autogen_core.events").setLevel(logging.ERROR)
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    dsn = resolve_dsn(args.dsn)

    async def main() -> tuple[list[str], bool, Any]:
        hook = AuditHook.from_env(store_dsn=dsn)
        ids = await run_demo(hook, tenants=args.tenants, tasks_per_tenant=args.tasks_per_tenant)
        complete = await hook.aclose()
        return ids, complete, hook.sink.stats()

    ids, complete, stats = asyncio.run(main())
    print(recorded_line(len(ids), stats.written, stats.lost, dsn))
    print('try: autogen-audit sql "SELECT tenant_id, count() FROM events GROUP BY tenant_id"')
    return 0 if complete and stats.lost == 0 else 1
