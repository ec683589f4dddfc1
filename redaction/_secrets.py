"""Recognizers for the secrets agents leak, beyond Presidio's built-ins."""

from __future__ import annotations

from presidio_analyzer import Pattern, PatternRecognizer

# (entity, name, regex, score). Scores are high: these shapes rarely occur by chance.
SECRET_PATTERNS: list[tuple[str, str, str, float]] = [
    ("API_KEY", "openai_key", r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}\b", 0.95),
    ("API_KEY", "anthropic_key", r"\bsk-ant-[A-Za-z0-9_-]{20,}\b", 0.95),
    ("API_KEY", "aws_access_key_id", r"\b(?:AKIA|ASIA|AIDA|AROA)[A-Z0-9]{16}\b", 0.95),
    ("API_KEY", "github_token", r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})\b", 0.95),
    ("API_KEY", "slack_token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b", 0.95),
    ("JWT", "jwt", r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b", 0.95),
    ("AUTH_HEADER", "bearer", r"(?i)\b(?:bearer|basic)\s+[A-Za-z0-9._~+/=-]{12,}", 0.9),
    (
        "PRIVATE_KEY",
        "pem_private_key",
        r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----[\s\S]*?(?:-----END (?:[A-Z]+ )?PRIVATE KEY-----|$)",
        0.99,
    ),
    ("PASSWORD", "url_password", r"(?<=://)[^\s:/@]+:[^\s@/]+(?=@)", 0.9),
    ("PASSWORD", "assigned_password", r"(?i)(?<=password[=:]\s?)[^\s;,&]{4,}|(?<=pwd=)[^\s;,&]{4,}", 0.85),
    (
        "API_KEY",
        "aws_secret_key",
        r"(?i)(?<=aws_secret_access_key[\"']?\s?[=:]\s?[\"']?)[A-Za-z0-9/+=]{40}",
        0.95,
    ),
]


def secret_recognizers() -> list[PatternRecognizer]:
    by_entity: dict[str, list[Pattern]] = {}
    for entity, name, regex, score in SECRET_PATTERNS:
        by_entity.setdefault(entity, []).append(Pattern(name=name, regex=regex, score=score))
    return [
        PatternRecognizer(supported_entity=entity, patterns=patterns, name=f"audit_{entity.lower()}")
        for entity, patterns in by_entity.items()
    ]
