"""Checks of command-line values, run before a command opens the store."""

from __future__ import annotations


def require_tenant(tenant: str, *, wildcard: bool = False) -> str:
    """A ``--tenant`` that names a tenant, without the spaces around it (as the UI's filters and
    ``keys add`` read it). No event has an empty or blank tenant id, or one in spaces, so a retention
    rule, hold or key for one would be accepted and then silently never apply."""
    from ..errors import ConfigError

    if not tenant.strip():
        every = ", or * for every tenant" if wildcard else ""
        raise ConfigError(f"--tenant {tenant!r} names no tenant: give a tenant id{every} (no event has an empty one)")
    if tenant.strip() == "*" and not wildcard:
        # Only retention rules read * as every tenant: a hold or key for "*" would match no event.
        raise ConfigError("--tenant '*' is not a tenant here: give one tenant id (only retention rules take *)")
    return tenant.strip()
