"""The correlation id of an event no task claims, without writing its key into the audit trail.

An event that no registered task, metadata or source convention claims is filed under its topic
source or agent key. Those are the app's choice, and a Core app may key by a user's email: stored
as the correlation id (the trail's key, never redacted) it would be a leak. A key of a shape that
cannot carry content (a uuid or hex id, ``default``, ``type/<uuid|hex|default>``) is kept, so an
AgentChat team's events still group under its team id; any other key is replaced by a keyed hash.

The hash key is drawn per process: events with the same key group under one task for the
process's life, and nobody can confirm a guessed key (an email) against the stored id. The key
itself still reaches the ``team_id`` column, redacted like every other field the app chooses.
"""

from __future__ import annotations

import hashlib
import re
import secrets

__all__ = ["PSEUDONYM_PREFIX", "fallback_correlation"]

PSEUDONYM_PREFIX = "src-"
# The id shapes of redaction/_structured.py (_UUID_OR_HEX, _AGENT_ID), written again here: this
# runs in the app's hook, and importing the redaction package loads Presidio.
_ID = r"(?:[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}|[0-9a-f]{16,64}|default)"
_STRUCTURAL_KEY = re.compile(r"(?:[A-Za-z_][A-Za-z0-9_.:-]{0,160}/)?" + _ID)
_SECRET = secrets.token_bytes(32)


def fallback_correlation(key: str) -> str:
    """``key`` when it is a structural id, else ``src-`` and a keyed hash of it."""
    if _STRUCTURAL_KEY.fullmatch(key):
        return key
    digest = hashlib.blake2b(key.encode("utf-8", "replace"), key=_SECRET, digest_size=10).hexdigest()
    return PSEUDONYM_PREFIX + digest
