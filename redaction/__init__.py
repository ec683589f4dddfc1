"""Presidio-based redaction of PII and secrets for agent traffic.

Importing this package sets ``TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS`` (if unset) so that Presidio
never tries to download anything.
"""

from ._redactor import RedactionOutcome, Redactor
from ._settings import RedactionSettings
from .errors import EngineError, PolicyError, RedactionError

__all__ = [
    "EngineError",
    "PolicyError",
    "RedactionError",
    "RedactionOutcome",
    "RedactionSettings",
    "Redactor",
]
