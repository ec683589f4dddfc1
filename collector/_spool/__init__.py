"""Durable write-ahead spool of redacted batches (issue #5); see docs/durability.md."""

from ._errors import (
    SpoolClosedError,
    SpoolConfigError,
    SpoolError,
    SpoolFullError,
    SpoolLockedError,
    SpoolWriteError,
)
from ._spool import Spool
from ._types import BatchId, FsyncPolicy, SpoolBatch, SpoolConfig, SpoolStats

__all__ = [
    "BatchId",
    "FsyncPolicy",
    "Spool",
    "SpoolBatch",
    "SpoolClosedError",
    "SpoolConfig",
    "SpoolConfigError",
    "SpoolError",
    "SpoolFullError",
    "SpoolLockedError",
    "SpoolStats",
    "SpoolWriteError",
]
