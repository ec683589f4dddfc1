"""Errors raised by the auditor UI. Every one derives from :class:`UIError`.

Messages name what was refused and why, never a key, a secret or captured content.
"""

from __future__ import annotations


class UIError(Exception):
    """Base class of every error this package raises."""


class NotAuthenticated(UIError):
    """No valid key, bearer token or session came with the request."""


class SessionEnded(NotAuthenticated):
    """A session cookie came with the request but no longer holds: the response clears it."""


class Forbidden(UIError):
    """The caller is authenticated but the operation needs an admin key."""


class NotFound(UIError):
    """No such task or event among the tenants the caller may see."""


class BadRequest(UIError):
    """A filter, cursor or body could not be understood."""


class KeyAdminError(UIError):
    """A key operation was refused (duplicate name, unknown name, bad scope)."""


class ServiceConfigError(UIError):
    """`serve` was asked for an unsafe or impossible configuration."""
