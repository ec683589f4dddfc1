"""A second email recognizer, for addresses glued to a path or an id by a slash.

Presidio's EmailRecognizer accepts every character RFC 5322 allows in a local part, ``/``
included, so in ``assistant/jane.doe@example.com`` (an AgentId keyed by user, a URL path) it
matches the whole string; its domain check then reads that as a URL, finds no domain, and drops
the match: the address was kept. This one allows only the local-part characters real addresses
use, so the address after the slash is found. Both run; overlapping findings are merged.
"""

from __future__ import annotations

from presidio_analyzer import Pattern, PatternRecognizer

__all__ = ["slash_safe_email_recognizer"]

_EMAIL = (
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"[A-Za-z]{2,24}(?![A-Za-z0-9-])"
)


def slash_safe_email_recognizer() -> PatternRecognizer:
    return PatternRecognizer(
        supported_entity="EMAIL_ADDRESS",
        name="AuditEmailRecognizer",
        patterns=[Pattern("email, common local-part characters", _EMAIL, 0.9)],
    )
