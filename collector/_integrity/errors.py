"""Errors of the integrity package; every one derives from :class:`IntegrityError`."""

from __future__ import annotations

from ..errors import AuditError


class IntegrityError(AuditError):
    """A signing key, checkpoint, retention or hold operation cannot proceed."""
