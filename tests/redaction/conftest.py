"""One engine per session: building Presidio with spaCy takes about a second."""

from __future__ import annotations

import pytest

from redaction import RedactionSettings, Redactor


@pytest.fixture(scope="session")
def redactor() -> Redactor:
    return Redactor(RedactionSettings(ner=True))


@pytest.fixture(scope="session")
def pattern_redactor() -> Redactor:
    return Redactor(RedactionSettings(ner=False))
