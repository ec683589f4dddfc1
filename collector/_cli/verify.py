"""``autogen-audit verify``: recompute hash chains, check signatures, name the first break."""

from __future__ import annotations

import argparse
import json
from typing import Any


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "verify",
        help="prove the trail was not altered or trimmed (exit 1 when anything is broken, or nothing was there)",
    )
    parser.add_argument("--tenant", default="", help="only this tenant")
    parser.add_argument("--task", default="", help="only this task (correlation id)")
    parser.add_argument("--since", default="", help="start at the checkpoint interval holding this time (ISO or 7d)")
    parser.add_argument(
        "--pubkey", action="append", default=[], help="trust only this public key (PEM file; repeat for rotation)"
    )
    parser.add_argument(
        "--anchor",
        default="",
        help="the file anchor (the AUDIT_CHECKPOINT_EXPORT_DIR directory or its checkpoints.jsonl): every checkpoint, "
        "tombstone and hold-log entry in it must still be in the store, unchanged",
    )
    parser.add_argument("--format", choices=["text", "json"], default="text")
    parser.add_argument("--max-findings", type=int, default=50, help="most findings printed per tenant")


def run(args: argparse.Namespace) -> int:
    from .._integrity import pinned_public_keys, store_public_keys, verify_store, verify_task
    from .._integrity._cliutil import parse_when
    from .._store._client import Store
    from ._access import resolve_dsn

    # Not created: an empty store at a mistyped path would verify "nothing stored", which reads like a pass.
    store = Store.open(resolve_dsn(args.dsn), create=False)
    try:
        keys = pinned_public_keys(args.pubkey) if args.pubkey else store_public_keys(store)
        if args.task:
            return _task(store, args, keys, verify_task)
        report = verify_store(store, keys, args.tenant, parse_when(args.since), args.anchor)
    finally:
        store.close()
    if args.format == "json":
        for t in report.tenants:
            print(json.dumps({"tenant_id": t.tenant_id, "ok": t.ok, "events": t.events, "checkpoints": t.checkpoints,
                              "findings": [vars(f) | {"breaks": f.breaks} for f in t.findings]}))  # fmt: skip
        return 0 if report.ok and _verified_any(report) else 1
    trust = (
        "pinned keys" if args.pubkey else "keys registered in the store (pin with --pubkey for an independent check)"
    )
    print(f"trust: {trust}")
    if report.breaks:
        print(f"FIRST BREAK: {report.breaks[0].describe()}")
    for t in report.tenants:
        state = "INTACT" if t.ok else "BROKEN"
        if t.ok and _empty(t):
            state = "EMPTY"  # a mistyped --tenant: nothing was verified
        print(f"{state} tenant {t.tenant_id}: {t.events} events, {t.checkpoints} checkpoints")
        for finding in t.findings[: args.max_findings]:
            print(f"  {finding.describe()}")
        if len(t.findings) > args.max_findings:
            print(f"  ... {len(t.findings) - args.max_findings} more")
    if not report.tenants:
        print("nothing stored yet: nothing verified")
    return 0 if report.ok and _verified_any(report) else 1


def _verified_any(report: Any) -> bool:
    """Whether anything was there to verify: a store or tenant with nothing in it is not a pass."""
    return not all(_empty(t) for t in report.tenants)


def _empty(tenant: Any) -> bool:
    return not tenant.events and not tenant.checkpoints and not tenant.findings


def _task(store: Any, args: argparse.Namespace, keys: Any, verify_task: Any) -> int:
    if args.tenant:
        tenants = [args.tenant]
    else:
        _, rows = store.query(
            "SELECT DISTINCT tenant_id FROM events WHERE correlation_id = {c:String}", parameters={"c": args.task}
        )
        tenants = [str(r[0]) for r in rows] or [""]
    ok = True
    for tenant in tenants:
        verdict = verify_task(store, tenant, args.task, keys)
        ok = ok and verdict.verified
        if args.format == "json":
            print(json.dumps({"tenant_id": tenant, "correlation_id": args.task, "status": verdict.status,
                              "events": verdict.events, "detail": verdict.detail}))  # fmt: skip
        else:
            print(f"{verdict.status.upper()} task {args.task} of tenant {tenant}: {verdict.events} events")
            for finding in verdict.findings[: args.max_findings]:
                print(f"  {finding.describe()}")
    return 0 if ok else 1
