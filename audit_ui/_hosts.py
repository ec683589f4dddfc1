"""Refuse requests addressed to another host name than the loopback one the service listens on.

A service bound to 127.0.0.1 is out of reach of other machines, but not of a web page in the
operator's browser: DNS rebinding points a name the page controls at 127.0.0.1, and the browser
then lets the page read the answers, since to it they come from the page's own origin. Such a
request carries that name in its Host header. For `serve --demo` (keyless, every visitor an admin)
that would hand the page every tenant's data, so a loopback-bound service answers only requests
whose Host is a loopback name or address.
"""

from __future__ import annotations

import ipaddress
from typing import Any

__all__ = ["LoopbackHostOnly", "is_loopback_host"]


def is_loopback_host(header: str) -> bool:
    """Whether a Host header (``name[:port]``, ``[v6][:port]``) names this machine's loopback."""
    if header.startswith("["):
        name = header[1 : header.find("]")] if "]" in header else ""
    else:
        name = header.rsplit(":", 1)[0] if header.count(":") == 1 else header
    if name.casefold() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class LoopbackHostOnly:
    """ASGI middleware: HTTP requests without a loopback Host get 421 and reach no route."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            host = next((v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"host"), "")
            if not is_loopback_host(host):
                body = b'{"detail":"this service answers only requests addressed to a loopback host"}'
                await send({
                    "type": "http.response.start", "status": 421,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
                })  # fmt: skip
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
