"""Entry point of ``autogen-audit``: parses arguments and dispatches to a subcommand module.

Subcommand modules are imported lazily so ``autogen-audit sql`` does not pay for Presidio or
FastAPI. Each module exposes ``add_parser(subparsers)`` and ``run(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from ..errors import AuditError

# name -> module under collector._cli
SUBCOMMANDS: dict[str, str] = {
    "demo": "demo",
    "sql": "sql",
    "tasks": "tasks",
    "redact": "redact",
    "serve": "serve",
    "keys": "keys",
    "verify": "verify",
    "evidence": "evidence",
    "retention": "retention",
    "hold": "hold",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="autogen-audit", description="Audit store for AutoGen agent apps.")
    parser.add_argument("--dsn", default=None, help="store DSN (default: $AUDIT_STORE_DSN or chdb://./audit-data)")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in SUBCOMMANDS.values():
        try:
            module = importlib.import_module(f"collector._cli.{module_name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"collector._cli.{module_name}":
                continue  # a subcommand not built in this checkout
            raise
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    module = importlib.import_module(f"collector._cli.{SUBCOMMANDS[args.command]}")
    try:
        code: int = module.run(args)
    except AuditError as exc:
        print(f"autogen-audit {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    raise SystemExit(main())
