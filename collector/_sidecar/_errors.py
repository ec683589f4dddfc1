"""Errors of the sidecar link. Messages name reasons and sizes, never content or tokens."""

from __future__ import annotations

from ..errors import AuditError, ConfigError


class SidecarError(AuditError):
    """Base class of every error the sidecar link raises."""


class WireFormatError(SidecarError):
    """A request body is not a valid batch (bad JSON, wrong shape, unknown kind)."""


class IngestConfigError(SidecarError):
    """The ingest routes cannot run as configured (e.g. no shared token)."""


class SidecarUrlError(SidecarError, ConfigError):
    """AUDIT_SIDECAR_URL is not an http(s) URL with a host (a ConfigError too)."""
