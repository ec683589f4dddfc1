"""``autogen-audit serve``: the auditor UI and JSON API; in embedded mode also the store's owner.

A chdb store is locked by one process, so `serve` opens it and hosts whatever else needs it (the
demo recording, a collector pipeline). CLI commands reach the store through the service meanwhile
(see ``_access.py``).
"""

from __future__ import annotations

import argparse
import ipaddress
from typing import Any

BANNER = """
==============================================================================
  DEMO MODE: no API key is required. Anyone who can reach {url} sees every tenant.
  It is bound to a loopback address only. Create keys for real use (the first one
  ends keyless access at once, for every visitor):
      autogen-audit keys add --name NAME --tenant TENANT
==============================================================================
"""


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("serve", help="serve the auditor UI and JSON API")
    parser.add_argument("--host", default=None, help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=port_number, default=None, help="port (default 8700; 0 = any free port)")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="record the demo team runs first; keyless on loopback only, until the first key is created",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--ingest-only",
        action="store_true",
        help="sidecar mode: only the ingest API for remote hooks and OTLP/HTTP (needs AUDIT_INGEST_TOKEN), no UI",
    )
    mode.add_argument("--ui-only", action="store_true", help="only the UI and JSON API: no ingest routes, no pipeline")


def port_number(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0-65535, not {port}")
    return port


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def decide_access(*, demo: bool, loopback: bool, has_keys: bool, env_open: bool) -> bool:
    """Whether to serve without keys; raises ConfigError for every unsafe combination."""
    from ..errors import ConfigError

    if has_keys:
        return False
    if demo and loopback:
        return True
    if demo or env_open:
        raise ConfigError(
            "keyless demo access is allowed only on 127.0.0.1/localhost; bind there or create a key "
            "first: autogen-audit keys add --name NAME --tenant TENANT"
        )
    raise ConfigError(
        "no API keys exist, so nobody could log in: create one first with "
        "`autogen-audit keys add --name NAME --tenant TENANT` (or --admin), "
        "or try `autogen-audit serve --demo` on 127.0.0.1"
    )


def serving_line(url: str, dsn: str) -> str:
    from .._store._client import redact_dsn

    # A server store's DSN carries its password, and this line lands in terminals and service logs.
    return f"autogen-audit: serving {url}/tasks (store {redact_dsn(dsn)})"


def sidecar_line(host: str, port: int, dsn: str) -> str:
    from .._store._client import redact_dsn

    return f"autogen-audit: ingest-only sidecar on http://{host}:{port} (store {redact_dsn(dsn)})"


def _free_port(host: str) -> int:
    import socket

    from ..errors import ConfigError

    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
            sock.bind((host, 0))
            found: int = sock.getsockname()[1]
            return found
    except OSError as exc:  # socket.gaierror too: a host name that does not resolve
        raise ConfigError(f"cannot listen on {host}: {exc.strerror or type(exc).__name__}") from exc


def check_listen(host: str, port: int) -> None:
    """Refuse with one line an address uvicorn cannot listen on, above all a port in use: uvicorn
    would log its error and exit 3, after the demo ran and the store, service file and pipeline were
    set up. Binds as asyncio's create_server does for uvicorn (every address the host resolves to,
    SO_REUSEADDR, IPv6 sockets v6-only), then lets go. uvicorn binds again a moment later: a port
    taken in between still gets its own error."""
    import socket

    from ..errors import ConfigError

    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    sockets: list[socket.socket] = []
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        for family, kind, proto, _, address in dict.fromkeys(infos):
            try:
                sock = socket.socket(family, kind, proto)
            except OSError:
                continue  # a family this machine lacks: asyncio skips it too
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6 and hasattr(socket, "IPPROTO_IPV6"):
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
    except OSError as exc:  # socket.gaierror too: a host name that does not resolve
        raise ConfigError(f"cannot listen on {where}: {exc.strerror or type(exc).__name__}") from exc
    finally:
        for sock in sockets:
            sock.close()


def record_demo(dsn: str | None) -> None:
    """Record the demo team runs (the demo opens and closes the store itself, before we own it)."""
    import importlib

    # Imported by name: the demo module is the lead's and may be absent from a partial checkout.
    demo = importlib.import_module("collector._cli.demo")
    code: int = demo.run(argparse.Namespace(dsn=dsn, tenants=4, tasks_per_tenant=3))
    if code != 0:
        print("serve --demo: the demo recorded with losses; serving what was stored")


def build_service(store: Any, settings: Any, pipeline: Any = None, service_token: str | None = None) -> Any:
    """The FastAPI app; a seam for modes that host a pipeline (ingest) or none (UI only)."""
    from audit_ui import create_app

    app = create_app(store, settings, pipeline, service_token=service_token)
    if pipeline is not None and hasattr(pipeline, "health"):
        from .._health import health_router

        app.include_router(health_router(pipeline))
    return app


def mount_health(app: Any, store: Any, pipeline: Any = None) -> None:
    """The probes of docs/deploy.md: /healthz, /readyz and /metrics of the pipeline this service
    hosts, or, with none (``--ui-only``, or no ingest token), /healthz and /readyz of the store."""
    from .._health import health_router, store_health_router

    app.include_router(health_router(pipeline) if pipeline is not None else store_health_router(store))


def guard_loopback_hosts(app: Any) -> None:
    """On a loopback bind, answer only requests addressed to a loopback host (see audit_ui._hosts:
    DNS rebinding would otherwise let a web page in the operator's browser read the service)."""
    from audit_ui._hosts import LoopbackHostOnly

    app.add_middleware(LoopbackHostOnly)


def _server_class() -> Any:
    """uvicorn's Server, minus re-raising SIGTERM/SIGINT after shutdown.

    uvicorn re-delivers the signal once it has stopped, which kills the process before our
    ``finally`` removes the service file and closes the store; here a signal only stops serving.
    """
    import contextlib
    import signal
    from collections.abc import Iterator

    import uvicorn

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    return Server


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from audit_ui import UISettings, list_keys

    from .._store._client import Store
    from ._access import remove_service_file, resolve_dsn, store_dir, write_service_file

    if getattr(args, "ingest_only", False):
        return _run_ingest_only(args)
    base = UISettings()
    host = args.host or base.host
    port = base.port if args.port is None else args.port
    if port == 0:
        port = _free_port(host)
    check_listen(host, port)  # before the demo runs and the store is opened: nothing to undo
    loopback = is_loopback(host)
    dsn = resolve_dsn(args.dsn)
    if args.demo:
        record_demo(dsn)
    store = Store.open(dsn)
    directory = store_dir(dsn)
    info = None
    pipeline = None
    try:
        has_keys = any(not k.revoked for k in list_keys(store))
        open_access = decide_access(demo=args.demo, loopback=loopback, has_keys=has_keys, env_open=base.open_access)
        # Off-loopback the session cookie is always Secure; on loopback browsers treat http as secure.
        settings = base.model_copy(
            update={"open_access": open_access, "cookie_secure": base.cookie_secure and not loopback}
        )
        url_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104 - we only compare
        url = f"http://{'[' + url_host + ']' if ':' in url_host else url_host}:{port}"
        if directory is not None:
            info = write_service_file(directory, url)
        app = build_service(store, settings, service_token=info.token if info else None)
        if loopback:
            guard_loopback_hosts(app)
        if not getattr(args, "ui_only", False):
            from .._sidecar import mount_ingest

            pipeline = mount_ingest(app, store, dsn)
            print(
                "autogen-audit: ingest "
                + (
                    "on /v1/audit/events, /v1/traces, /v1/logs"
                    if pipeline
                    else "off (set AUDIT_INGEST_TOKEN to accept remote hooks and OTLP)"
                )
            )
        mount_health(app, store, pipeline)
        if open_access:
            print(BANNER.format(url=url))
        print(serving_line(url, dsn))
        _server_class()(uvicorn.Config(app, host=host, port=port, log_level="info")).run()
    finally:
        if pipeline is not None:
            pipeline.shutdown(30.0)
        if directory is not None and info is not None:
            remove_service_file(directory, info)
        store.close()
    return 0


def _run_ingest_only(args: argparse.Namespace) -> int:
    """The sidecar next to an app: ingest + pipeline, no UI, no keys (the bearer token guards it)."""
    import uvicorn

    from .._sidecar import create_sidecar_app, ingest_pipeline
    from .._store._client import Store
    from ._access import resolve_dsn

    host, port = args.host or "127.0.0.1", 8700 if args.port is None else args.port
    check_listen(host, port)  # before the store is opened and the pipeline started: nothing to undo
    dsn = resolve_dsn(args.dsn)
    store = Store.open(dsn)
    pipeline = None
    try:
        pipeline, settings = ingest_pipeline(store, dsn)
        app = create_sidecar_app(pipeline, settings, own_pipeline=False)
        print(sidecar_line(host, port, dsn))
        _server_class()(uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)).run()
    finally:
        if pipeline is not None:
            pipeline.shutdown(30.0)
        store.close()
    return 0
