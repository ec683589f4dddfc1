"""One keep-alive HTTP/1.1 connection from the app's remote hook to the sidecar, on http.client.

The hook's sender thread shares the app's GIL, so its CPU time is the app's. Posting a 400 KB
batch over loopback took httpx about 1.4 ms of CPU, http.client 0.3 ms (measured on this VM, same
process, same receiver): here a request is the headers and then each piece of the body, written
as they are, and the answer is a short JSON object. Redirects, proxies, cookies and HTTP/2 have no
use on a link to a sidecar.
"""

from __future__ import annotations

import http.client
import ssl
import time
from collections.abc import Sequence
from urllib.parse import urlsplit

from ._errors import SidecarUrlError

__all__ = ["Poster"]

# uvicorn closes a keep-alive connection idle for 5 s; one idle for this long is replaced before it
# is used, rather than found closed halfway through a request.
_IDLE_REUSE_S = 2.0


class Poster:
    """``post(path, body) -> (status, error)``: status 0 and the exception's type name when the
    sidecar could not be reached or did not answer. Never raises; not thread-safe (one sender)."""

    def __init__(self, base_url: str, headers: dict[str, str], timeout: float) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SidecarUrlError(
                f"AUDIT_SIDECAR_URL must look like http://host:port (scheme {parts.scheme or 'missing'!r})"
            )
        try:
            port = parts.port
        except ValueError:
            raise SidecarUrlError("AUDIT_SIDECAR_URL has an invalid port") from None
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = port or (443 if self._https else 80)
        self._prefix = parts.path.rstrip("/")
        self._headers = dict(headers)
        self._timeout = timeout
        self._conn: http.client.HTTPConnection | None = None
        self._last_used = 0.0

    def post(self, path: str, body: Sequence[bytes | memoryview]) -> tuple[int, str]:
        """POST the body, given as the pieces to write in order (not joined: see batch_v2_chunks)."""
        reused = self._conn is not None and time.monotonic() - self._last_used < _IDLE_REUSE_S
        if not reused:
            self.close()
        for attempt in range(2):
            try:
                status = self._exchange(self._prefix + path, body)
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                # A reused connection the sidecar closed between requests: its request was never
                # read, so it is sent once more on a new one (the sidecar drops repeated ids anyway).
                if attempt == 0 and reused and isinstance(exc, _STALE):
                    continue
                return 0, type(exc).__name__
            self._last_used = time.monotonic()
            return status, ""
        return 0, "unreachable"  # pragma: no cover - the loop returns on its second pass

    def _exchange(self, target: str, body: Sequence[bytes | memoryview]) -> int:
        if self._conn is None:
            if self._https:
                self._conn = http.client.HTTPSConnection(
                    self._host, self._port, timeout=self._timeout, context=ssl.create_default_context()
                )
            else:
                self._conn = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
        headers = {**self._headers, "Content-Length": str(sum(len(chunk) for chunk in body))}
        self._conn.request("POST", target, body=body, headers=headers)
        response = self._conn.getresponse()
        response.read()  # the connection is reusable only once the answer is read whole
        if response.will_close:
            self.close()
        return response.status

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, ConnectionAbortedError)
