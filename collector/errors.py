"""Errors raised by the collector. Every one derives from :class:`AuditError`.

Messages never contain captured content: they name types, sizes and reasons only.
"""

from __future__ import annotations


class AuditError(Exception):
    """Base class of every error this package raises."""


class ConfigError(AuditError):
    """A setting has a value that cannot work (bad DSN, bad pattern, ...)."""


class StoreError(AuditError):
    """The ClickHouse store refused or failed an operation."""


class StoreLockedError(StoreError):
    """The embedded chdb store is owned by another process."""


class QueryError(StoreError):
    """A user-supplied SQL query was rejected or failed."""


class SchemaError(StoreError):
    """The store's schema cannot be applied or does not match what this version expects."""
