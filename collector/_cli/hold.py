"""``autogen-audit hold``: place, release and list legal holds (every change is signed and logged)."""

from __future__ import annotations

import argparse
import getpass
from typing import Any


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("hold", help="legal holds: suspend retention for a tenant or a task")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    place = actions.add_parser("place", help="hold a whole tenant, or one task with --task")
    place.add_argument("--tenant", required=True)
    place.add_argument("--task", default="", help="correlation id (default: the whole tenant)")
    place.add_argument("--reason", required=True, help="case or ticket reference (redacted before storage)")
    release = actions.add_parser("release", help="release a hold")
    release.add_argument("--tenant", required=True)
    release.add_argument("--hold-id", required=True)
    release.add_argument("--reason", required=True)
    listing = actions.add_parser("list", help="active holds")
    listing.add_argument("--tenant", default="")
    log = actions.add_parser("log", help="the signed hold log of a tenant")
    log.add_argument("--tenant", required=True)
    for sub in (place, release):
        sub.add_argument("--actor", default="", help="who acts (default: the OS user)")


def run(args: argparse.Namespace) -> int:
    from .._integrity import IntegritySettings, open_writer
    from .._integrity._holds import active_holds, hold_log, place_hold, release_hold
    from .._store._client import Store
    from ._access import resolve_dsn
    from ._output import render

    store = Store.open(resolve_dsn(args.dsn))
    try:
        if args.action == "list":
            holds = active_holds(store, args.tenant)
            rows = [(h.tenant_id, h.correlation_id or "*", h.hold_id, h.reason, h.actor) for h in holds]
            print(render(["tenant_id", "task", "hold_id", "reason", "actor"], rows, "table"))
            return 0
        if args.action == "log":
            entries = hold_log(store, args.tenant)
            cols = ["seq", "action", "hold_id", "correlation_id", "reason", "actor", "key_id"]
            print(render(cols, [tuple(e[c] for c in cols) for e in entries], "table"))
            return 0
        from redaction import Redactor

        redactor = Redactor()

        def redact(text: str) -> str:
            return str(redactor.redact_text(text, args.tenant).value)

        writer = open_writer(IntegritySettings(), store)
        actor = args.actor or getpass.getuser()
        if args.action == "place":
            hold = place_hold(store, writer, args.tenant, args.task, args.reason, actor, redact)
        else:
            hold = release_hold(store, writer, args.tenant, args.hold_id, args.reason, actor, redact)
    finally:
        store.close()
    print(
        f"{args.action}d hold {hold.hold_id} on tenant {hold.tenant_id}"
        + (f" task {hold.correlation_id}" if hold.correlation_id else "")
    )
    return 0
