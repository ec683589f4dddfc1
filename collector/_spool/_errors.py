"""Errors raised by the durable spool. Every one derives from :class:`collector.errors.AuditError`.

Messages name paths, sizes and OS error names only, never record content.
"""

from __future__ import annotations

from ..errors import AuditError

__all__ = [
    "SpoolClosedError",
    "SpoolConfigError",
    "SpoolError",
    "SpoolFullError",
    "SpoolLockedError",
    "SpoolWriteError",
]


class SpoolError(AuditError):
    """Base class of the spool's errors."""


class SpoolConfigError(SpoolError):
    """A :class:`SpoolConfig` value cannot work (negative size, unknown fsync policy, ...)."""


class SpoolFullError(SpoolError):
    """Appending the batch would take the spool past ``max_bytes``; nothing was written."""


class SpoolWriteError(SpoolError):
    """The OS refused a write or fsync (ENOSPC, EIO, ...); the failed frame was cut back off."""


class SpoolLockedError(SpoolError):
    """Another process (or another open Spool in this one) owns the spool directory."""


class SpoolClosedError(SpoolError):
    """The spool was used after :meth:`Spool.close`."""
