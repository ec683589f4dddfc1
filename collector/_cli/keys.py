"""``autogen-audit keys add|list|revoke``: auditor API keys (only their hashes are stored).

Works on the store directly, or through the running `serve` that owns an embedded store.
"""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("keys", help="manage auditor API keys for the UI and API")
    sub = parser.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    add = sub.add_parser("add", help="create a key and print it once")
    add.add_argument("--name", required=True, help="a unique label, e.g. the auditor's email")
    scope = add.add_mutually_exclusive_group(required=True)
    scope.add_argument("--tenant", action="append", default=[], help="a tenant the key may see (repeatable)")
    scope.add_argument("--admin", action="store_true", help="the key sees every tenant and the admin API")
    lst = sub.add_parser("list", help="list keys (names and scopes, never the keys)")
    lst.add_argument("--format", choices=["table", "json", "csv"], default="table")
    rev = sub.add_parser("revoke", help="revoke a key; its sessions end at once")
    rev.add_argument("name")


def run(args: argparse.Namespace) -> int:
    from ..errors import ConfigError
    from ._access import ServiceClient, open_store_or_service
    from ._args import require_tenant
    from ._output import render

    if args.keys_command == "add":
        for tenant in args.tenant:
            require_tenant(tenant)  # the key would otherwise be stored for the other tenants alone, or refused vaguely
    # Only `add` sets a store up; `list` and `revoke` at a mistyped path would find no keys there.
    target = open_store_or_service(args.dsn, create=args.keys_command == "add")
    try:
        if isinstance(target, ServiceClient):
            rows = _via_service(target, args)
        else:
            from audit_ui import UIError

            try:
                rows = _direct(target, args)
            except UIError as exc:
                raise ConfigError(str(exc)) from exc
    finally:
        target.close()
    if args.keys_command == "list":
        print(render(["name", "tenants", "admin", "created_at", "revoked"], rows, args.format))
    return 0


def _print_new(name: str, key: str) -> None:
    print(f"created key {name!r}. It is shown only this once; store it in a password manager:")
    print(key)


def _direct(store: Any, args: argparse.Namespace) -> list[tuple[Any, ...]]:
    from audit_ui import add_key, list_keys, revoke_key

    if args.keys_command == "add":
        _print_new(args.name, add_key(store, args.name, args.tenant, args.admin))
    elif args.keys_command == "revoke":
        revoke_key(store, args.name)
        print(f"revoked key {args.name!r}")
    else:
        return [(k.name, ",".join(k.tenants), k.admin, k.created_at, k.revoked) for k in list_keys(store)]
    return []


def _via_service(service: Any, args: argparse.Namespace) -> list[tuple[Any, ...]]:
    if args.keys_command == "add":
        body = {"name": args.name, "tenants": args.tenant, "admin": args.admin}
        _print_new(args.name, service.call("POST", "/api/admin/keys", body)["key"])
    elif args.keys_command == "revoke":
        from urllib.parse import quote

        service.call("POST", f"/api/admin/keys/{quote(args.name, safe='')}/revoke", {})
        print(f"revoked key {args.name!r}")
    else:
        keys = service.call("GET", "/api/admin/keys")
        return [(k["name"], ",".join(k["tenants"]), k["admin"], k["created_at"], k["revoked"]) for k in keys]
    return []
