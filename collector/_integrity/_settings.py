"""Settings of the integrity package, read from ``AUDIT_*`` variables."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class IntegritySettings(BaseSettings):
    """Hash chain, checkpoint and signing-key knobs (docs/integrity.md)."""

    model_config = SettingsConfigDict(env_prefix="AUDIT_", extra="ignore", frozen=True)

    integrity_enabled: bool = Field(
        default=True, description="Chain every stored event and sign checkpoints (AUDIT_INTEGRITY_ENABLED)."
    )
    signing_key_file: str = Field(
        default="", description="Path of the Ed25519 private key (PEM, or raw 32-byte seed in base64)."
    )
    signing_key: SecretStr = Field(
        default=SecretStr(""), description="The Ed25519 private key itself (PEM or base64 seed), if not in a file."
    )
    key_dir: str = Field(
        default="",
        description="Where a key is generated when none is configured (default: the chdb store directory, "
        "or ./.autogen-audit for a server store).",
    )
    checkpoint_every: int = Field(
        default=1000, ge=1, description="Seal a tenant's chain in a signed checkpoint after this many events."
    )
    checkpoint_interval_s: float = Field(
        default=30.0,
        ge=0,
        description="Also seal any tenant whose unsealed events are older than this (0 disables the timer).",
    )
    checkpoint_export_dir: str = Field(
        default="",
        description="If set, every checkpoint, tombstone and legal-hold log entry is also appended to "
        "DIR/checkpoints.jsonl, outside ClickHouse, as an independent anchor for `verify --anchor`.",
    )
    unsealed_grace_s: float = Field(
        default=3600.0,
        gt=0,
        description="`verify` reports a break when events older than this are not sealed by a checkpoint "
        "(deleted checkpoints look like an unsealed tail otherwise).",
    )
