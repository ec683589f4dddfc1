"""Errors raised by the redaction package. Every one derives from :class:`RedactionError`."""

from __future__ import annotations


class RedactionError(Exception):
    """Base class of every error this package raises. Messages never contain the analysed text."""


class PolicyError(RedactionError):
    """A redaction policy file is missing, malformed or names an unknown entity or operator."""


class EngineError(RedactionError):
    """The Presidio engine could not be built."""
