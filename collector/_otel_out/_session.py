"""The HTTP session of the audit export's OTLP exporters: the audit endpoint's settings only.

The SDK's OTLP/HTTP exporters merge the app's ``OTEL_EXPORTER_OTLP_[TRACES_|LOGS_]HEADERS`` into
every request, whatever headers they are given, and take the app's CA bundle, client certificate
and credential provider from the same variables. Those configure the app's own exporters: its
vendor's API key must not be sent to the audit endpoint, nor its private CA decide whether the
audit endpoint is trusted. This session sends the protocol's headers and the configured
``AUDIT_OTLP_EXPORT_HEADERS`` only, verifies with the default CAs and presents no client certificate.
"""

from __future__ import annotations

from typing import Any

import requests

# Set by the exporter itself (protobuf body, gzip when compressing, its user agent).
_PROTOCOL_HEADERS = frozenset({"content-type", "content-encoding", "user-agent"})


class _AuditSession(requests.Session):
    def __init__(self, headers: dict[str, str]) -> None:
        super().__init__()
        self._audit_headers = dict(headers)

    def prepare_request(self, request: requests.Request) -> requests.PreparedRequest:
        sent: dict[str, Any] = {k: v for k, v in request.headers.items() if k.lower() in _PROTOCOL_HEADERS}
        sent.update(self._audit_headers)
        request.headers = sent
        # The exporter's transport sets these from OTEL_EXPORTER_OTLP_CERTIFICATE / CLIENT_*; the
        # request reads them right after preparing.
        self.verify, self.cert = True, None
        return super().prepare_request(request)


def audit_session(headers: dict[str, str]) -> requests.Session:
    """A requests session for one OTLP exporter of the audit export (``session=``)."""
    return _AuditSession(headers)
