"""``autogen-audit retention``: per-tenant/classification rules; expiry leaves signed tombstones."""

from __future__ import annotations

import argparse
from typing import Any

PUBKEY_HELP = (
    "also count hold releases signed under this public key (PEM file; repeat), e.g. the signing key before a "
    "rotation; releases count only under the configured signing key otherwise"
)


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("retention", help="retention rules and expiry of whole checkpoint intervals")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    rule = actions.add_parser("set", help="keep events of a tenant/classification for N days")
    rule.add_argument("--tenant", default="*", help="tenant, or * for every tenant")
    rule.add_argument("--class", dest="classification", default="*", help="standard, pii, failed, or *")
    rule.add_argument("--days", type=int, required=True)
    actions.add_parser("list", help="the rules in force")
    apply = actions.add_parser(
        "apply",
        help="expire every due interval not under a legal hold (with AUDIT_CHECKPOINT_EXPORT_DIR set, a hold the "
        "anchor file places and never releases counts too)",
    )
    apply.add_argument("--tenant", default="")
    apply.add_argument("--now", default="", help="pretend it is this time (ISO), for a rehearsal")
    apply.add_argument("--dry-run", action="store_true", help="report what would expire; change nothing")
    apply.add_argument("--pubkey", action="append", default=[], help=PUBKEY_HELP)


def run(args: argparse.Namespace) -> int:
    from .._integrity import IntegritySettings, open_writer
    from .._integrity._cliutil import parse_when
    from .._integrity._keys import release_keys
    from .._integrity._retention import apply_retention, policies, set_policy
    from .._store._client import Store
    from ._access import resolve_dsn
    from ._args import require_tenant
    from ._output import render

    if args.action == "set":
        args.tenant = require_tenant(args.tenant, wildcard=True)
    # Only `set` sets a store up; `list` and `apply` at a mistyped path would find nothing to list or expire.
    store = Store.open(resolve_dsn(args.dsn), create=args.action == "set")
    try:
        if args.action == "set":
            policy = set_policy(store, args.tenant, args.classification, args.days)
            print(f"retention {policy.tenant_id}/{policy.classification}: {policy.days} days")
            return 0
        if args.action == "list":
            rows = [(p.tenant_id, p.classification, p.days) for p in policies(store)]
            print(render(["tenant_id", "classification", "days"], rows, "table"))
            return 0
        settings = IntegritySettings()
        writer = None if args.dry_run else open_writer(settings, store)
        keys = release_keys(settings, store.dsn, args.pubkey, writer.key if writer is not None else None)
        results = apply_retention(store, writer, parse_when(args.now) or None, args.tenant, args.dry_run, keys=keys)
    finally:
        store.close()
    for r in results:
        verb = "would expire" if args.dry_run else "expired"
        print(f"tenant {r.tenant_id}: {verb} {len(r.expired)} interval(s) {list(r.expired)} "
              f"({r.events_deleted} events); kept for legal hold: {list(r.held)}")  # fmt: skip
        for note in r.notes:
            print(f"  {note}")
    return 0
