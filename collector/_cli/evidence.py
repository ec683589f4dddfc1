"""``autogen-audit evidence``: export a task or time range as an offline-verifiable bundle, or verify one."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("evidence", help="export or verify a self-contained evidence bundle")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    export = actions.add_parser("export", help="write a bundle for one task or a time range of a tenant")
    export.add_argument("--tenant", required=True)
    export.add_argument("--task", default="", help="correlation id of the task")
    export.add_argument("--since", default="", help="start of the time range (ISO or age like 7d)")
    export.add_argument("--until", default="", help="end of the time range (ISO or age), default now")
    export.add_argument("--out", required=True, help="directory to write the bundle into")
    check = actions.add_parser("verify", help="verify a bundle offline (same code as the bundled script)")
    check.add_argument("bundle")
    check.add_argument("--pubkey", action="append", default=[], help="trusted public key PEM (repeatable)")


def run(args: argparse.Namespace) -> int:
    from .._integrity import _offline

    if args.action == "verify":
        argv = [item for key in args.pubkey for item in ("--pubkey", key)] + ["--", args.bundle]
        return _offline.main(argv, prog="autogen-audit evidence")
    from .._integrity._cliutil import parse_when
    from .._integrity._evidence import export_bundle
    from .._integrity.errors import IntegrityError
    from .._store._client import Store
    from ._access import resolve_dsn

    if not args.task and not args.since:
        raise IntegrityError("export needs --task, or --since for a time range")
    # Not created: at a mistyped path an empty store has nothing to export.
    store = Store.open(resolve_dsn(args.dsn), create=False)
    try:
        out = export_bundle(
            store, Path(args.out), args.tenant, args.task, parse_when(args.since), parse_when(args.until)
        )
    finally:
        store.close()
    print(f"bundle written to {out}; verify with: python {out / 'verify_bundle.py'} {out} --pubkey KEY.pem")
    return 0
