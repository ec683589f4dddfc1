"""Entry point of ``autogen-audit``: parses arguments and dispatches to a subcommand module.

Subcommand modules are imported lazily so ``autogen-audit sql`` does not pay for Presidio or
FastAPI. Each module exposes ``add_parser(subparsers)`` and ``run(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from ..errors import AuditError

# What a shell reports for a process that SIGPIPE ended: 128 + signal 13.
EXIT_BROKEN_PIPE = 128 + 13

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
        sys.stdout.flush()  # a reader that went away shows up here, not in the interpreter's last flush
    except BrokenPipeError:
        return _reader_went_away()
    except AuditError as exc:
        print(f"autogen-audit {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return code


def _reader_went_away() -> int:
    """Whoever read our output closed it (``autogen-audit tasks | head -1``): stop quietly, with the
    status of a process that SIGPIPE ended. Standard output now points at /dev/null, so the flush of
    what is still buffered, when the interpreter exits, does not raise a second time."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, sys.stdout.fileno())
        finally:
            os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass  # stdout is not a file descriptor (replaced in-process, e.g. by a test): nothing to redirect
    return EXIT_BROKEN_PIPE


if __name__ == "__main__":
    raise SystemExit(main())
