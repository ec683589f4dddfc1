"""``autogen-audit hold``: place, release and list legal holds (every change is signed and logged)."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from .retention import PUBKEY_HELP


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("hold", help="legal holds: suspend retention for a tenant or a task")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    place = actions.add_parser("place", help="hold a whole tenant, or one task with --task")
    place.add_argument("--tenant", required=True)
    place.add_argument("--task", default="", help="correlation id (default: the whole tenant)")
    place.add_argument("--reason", required=True, help="case or ticket reference (redacted before storage)")
    place.add_argument(
        "--unknown-task-ok",
        action="store_true",
        help="hold --task even though nothing of it is stored yet (else a mistyped id is refused: the real "
        "task would stay unprotected)",
    )
    release = actions.add_parser("release", help="release a hold")
    release.add_argument("--tenant", required=True)
    release.add_argument("--hold-id", required=True)
    release.add_argument("--reason", required=True)
    listing = actions.add_parser(
        "list",
        help="every hold retention obeys, and where it binds from: an active legal_holds row, the signed log, "
        "the anchor file (AUDIT_CHECKPOINT_EXPORT_DIR)",
    )
    listing.add_argument("--tenant", default="")
    listing.add_argument("--pubkey", action="append", default=[], help=PUBKEY_HELP)
    log = actions.add_parser("log", help="the signed hold log of a tenant")
    log.add_argument("--tenant", required=True)
    for sub in (place, release):
        sub.add_argument("--actor", default="", help="who acts (default: the OS user)")


def run(args: argparse.Namespace) -> int:
    from .._integrity import IntegritySettings, open_writer
    from .._integrity._holds import hold_log, place_hold, release_hold
    from .._store._client import Store
    from ._access import resolve_dsn
    from ._args import require_tenant
    from ._output import render

    if args.action == "place":
        args.tenant = require_tenant(args.tenant)  # before the store is opened and a signing key generated
    # Only `place` sets a store up; `list`, `log` and `release` at a mistyped path would find no holds.
    store = Store.open(resolve_dsn(args.dsn), create=args.action == "place")
    try:
        if args.action == "list":
            return _list(store, args)
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
            if args.task and not args.unknown_task_ok and not _task_stored(store, args.tenant, args.task):
                print(f"autogen-audit hold: error: nothing of task {args.task} is stored for tenant {args.tenant} "
                      "(a mistyped id? --unknown-task-ok holds it anyway)", file=sys.stderr)  # fmt: skip
                return 2
            hold = place_hold(store, writer, args.tenant, args.task, args.reason, actor, redact)
        else:
            in_force = _in_force(store, args.tenant, args.hold_id, writer)
            hold = release_hold(store, writer, args.tenant, args.hold_id, args.reason, actor, redact, in_force)
    finally:
        store.close()
    print(
        f"{args.action}d hold {hold.hold_id} on tenant {hold.tenant_id}"
        + (f" task {hold.correlation_id}" if hold.correlation_id else "")
    )
    return 0


def _task_stored(store: Any, tenant: str, task: str) -> bool:
    _, rows = store.query(
        "SELECT (SELECT count() FROM tasks WHERE tenant_id = {t:String} AND correlation_id = {c:String}) + "
        "(SELECT count() FROM events WHERE tenant_id = {t:String} AND correlation_id = {c:String})",
        parameters={"t": tenant, "c": task},
    )
    return bool(rows and rows[0][0])


def _in_force(store: Any, tenant: str, hold_id: str, writer: Any) -> Any:
    """The hold as retention sees it: one whose row a forged release marked released still binds
    through the signed log, and only a signed release ends it."""
    from .._integrity import IntegritySettings
    from .._integrity._keys import release_keys
    from .._integrity._retention import holds_in_force

    settings = IntegritySettings()
    keys = release_keys(settings, store.dsn, key=writer.key)
    for bound in holds_in_force(store, keys, _anchor(settings), tenant):
        for hold in bound.holds:
            if hold.hold_id == hold_id:
                return hold
    return None


def _anchor(settings: Any) -> Any:
    from .._integrity._anchor import export_anchor

    return export_anchor(settings.checkpoint_export_dir)


def _list(store: Any, args: argparse.Namespace) -> int:
    """The holds as ``retention apply`` sees them: the plain table alone would hide a hold that binds
    only through the signed log or the anchor, and show one released by a release that does not count."""
    from .._integrity import IntegritySettings
    from .._integrity._keys import release_keys
    from .._integrity._retention import holds_in_force
    from ._output import render

    settings = IntegritySettings()
    keys = release_keys(settings, store.dsn, args.pubkey)
    anchored = _anchor(settings)
    if anchored.unreadable:
        lines = ", ".join(map(str, anchored.unreadable))
        print(f"warning: anchor file line(s) {lines} unreadable: a hold anchored there is not listed, and "
              "retention apply refuses to run (see verify --anchor)", file=sys.stderr)  # fmt: skip
    bindings = holds_in_force(store, keys, anchored, args.tenant)
    rows = [
        (h.tenant_id, h.correlation_id or "*", h.hold_id, h.reason, h.actor, ", ".join(h.via))
        for b in bindings
        for h in b.holds
    ]
    print(render(["tenant_id", "task", "hold_id", "reason", "actor", "binds via"], rows, "table"))
    for b in bindings:
        for note in b.refused:
            print(f"tenant {b.tenant_id}: {note}")
    return 0
