"""The UI's settings: one pydantic-settings object, read from ``AUDIT_UI_*`` variables."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class UISettings(BaseSettings):
    """Every knob of the auditor UI. Each field is documented in docs/ui.md."""

    model_config = SettingsConfigDict(env_prefix="AUDIT_UI_", extra="ignore", frozen=True)

    host: str = Field(default="127.0.0.1", description="Address `serve` binds to.")
    port: int = Field(default=8700, ge=0, le=65535, description="Port `serve` listens on (0 = any free port).")
    secret: SecretStr | None = Field(
        default=None,
        description="Key that signs session cookies. Unset: a random one is generated once and kept in "
        "<store dir>/.ui-secret (mode 0600); for a server store it lives only as long as the process.",
    )
    cookie_secure: bool = Field(
        default=True,
        description="Mark the session cookie Secure (HTTPS only). `serve` turns it off only when bound "
        "to a loopback address, where browsers treat http://127.0.0.1 as a secure context.",
    )
    session_hours: float = Field(default=8.0, gt=0, le=24 * 30, description="Lifetime of a login session.")
    open_access: bool = Field(
        default=False,
        description="Serve without keys, every visitor an admin, but only until a key is first active: the "
        "first key created ends it. Only `serve --demo` on a loopback address may turn this on; `serve` "
        "refuses it otherwise.",
    )
    page_size: int = Field(default=50, ge=1, le=500, description="Tasks per page of the task list.")
    max_timeline_events: int = Field(
        default=5000, ge=10, description="Most events one timeline page shows; the export has them all."
    )
    collapse_chars: int = Field(
        default=600, ge=40, description="Contents longer than this are collapsed behind <details>."
    )
    key_cache_s: float = Field(
        default=2.0,
        ge=0,
        description="How long the verified key list is cached; a revocation made elsewhere takes effect "
        "within this time (revocations through the running service take effect at once).",
    )
