"""Recognizers for the secrets agents leak, beyond Presidio's built-ins.

Each pattern names its entity; the shapes are specific enough that a match is a secret (score
0.85-0.99). Context-dependent ones (AWS secret keys, passwords) look behind for the key name.
Regexes use the standard ``re`` module and are linear, so they cannot time out and fail open.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from presidio_analyzer import LocalRecognizer, RecognizerResult

_KEYNAME = r"(?:password|passwd|pwd|pass|secret|client_secret|api[_-]?key|apikey|access[_-]?token|auth[_-]?token|token)"


def _basic_ok(match: str) -> bool:
    token = match.split()[-1]
    try:
        decoded = base64.b64decode(token + "=" * (-len(token) % 4), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return False
    return ":" in decoded


def _has_digit(match: str) -> bool:
    return any(ch.isdigit() for ch in match) or len(match.split()[-1]) >= 24


def _not_placeholder(match: str) -> bool:
    value = match.strip("\"'").lower()
    return value not in {
        "",
        "none",
        "null",
        "true",
        "false",
        "xxx",
        "xxxx",
        "****",
        "********",
        "redacted",
    } and (not value.startswith("<") and not value.startswith("${") and not value.startswith("{{"))


@dataclass(frozen=True, slots=True)
class SecretPattern:
    entity: str
    name: str
    regex: re.Pattern[str]
    score: float
    check: Callable[[str], bool] | None = None


def _p(entity: str, name: str, regex: str, score: float, check: Callable[[str], bool] | None = None) -> SecretPattern:
    return SecretPattern(entity, name, re.compile(regex), score, check)


SECRET_PATTERNS: list[SecretPattern] = [
    _p(
        "API_KEY",
        "anthropic_key",
        r"\bsk-ant-(?:api|admin)\d{2}-[A-Za-z0-9_-]{20,}|\bsk-ant-[A-Za-z0-9_-]{20,}",
        0.99,
    ),
    _p(
        "API_KEY",
        "openai_key",
        r"\bsk-(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_-]{20,}(?![A-Za-z0-9_-])",
        0.95,
        lambda s: any(c.isdigit() for c in s) and any(c.isupper() for c in s),
    ),
    _p("API_KEY", "aws_access_key_id", r"\b(?:AKIA|ASIA|AIDA|AROA|AGPA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b", 0.95),
    _p(
        "API_KEY",
        "aws_secret_key",
        r"(?i)(?<=aws_secret_access_key)[\"']?\s*[=:]\s*[\"']?[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])",
        0.95,
    ),
    _p(
        "API_KEY",
        "aws_secret_key_bare",
        r"(?<![A-Za-z0-9/+=])(?=[A-Za-z0-9/+]*[A-Z])(?=[A-Za-z0-9/+]*[a-z])"
        r"(?=[A-Za-z0-9/+]*\d)(?=[A-Za-z0-9/+]*/)[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])",
        0.6,
    ),
    _p("API_KEY", "github_token", r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})\b", 0.97),
    _p("API_KEY", "gitlab_token", r"\bglpat-[A-Za-z0-9_-]{20,}\b", 0.97),
    _p("API_KEY", "slack_token", r"\bxox[abposre]-[A-Za-z0-9-]{10,}\b", 0.97),
    _p("API_KEY", "slack_webhook", r"https://hooks\.slack\.com/services/[A-Za-z0-9/]{20,}", 0.97),
    _p("API_KEY", "google_api_key", r"\bAIza[0-9A-Za-z_-]{35}\b", 0.95),
    _p("API_KEY", "stripe_key", r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}\b", 0.97),
    _p("API_KEY", "hf_token", r"\bhf_[A-Za-z0-9]{30,}\b", 0.9),
    _p("JWT", "jwt", r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}", 0.97),
    _p("AUTH_HEADER", "bearer", r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{16,}", 0.9, _has_digit),
    _p("AUTH_HEADER", "basic", r"(?i)\bbasic\s+[A-Za-z0-9+/]{8,}={0,2}", 0.9, _basic_ok),
    _p(
        "AUTH_HEADER",
        "authorization",
        r"(?i)(?<=authorization:)\s*(?!bearer|basic)[A-Za-z0-9._~+/=-]{16,}",
        0.85,
    ),
    _p(
        "PRIVATE_KEY",
        "pem_private_key",
        r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|\Z)",  # noqa: E501
        0.99,
    ),
    _p("PASSWORD", "url_password", r"(?<=://)[^\s:/@?#]+:[^\s@/]+(?=@[^\s@])", 0.95),
    _p(
        "PASSWORD",
        "assigned_secret",
        rf"(?i)(?<![A-Za-z]){_KEYNAME}[\"']?\s*[=:]\s*[\"']?(?P<v>[^\s;,&\"'<>]{{4,}})",
        0.85,
        _not_placeholder,
    ),
]


def _value_span(p: SecretPattern, m: re.Match[str]) -> tuple[int, int]:
    if "v" in p.regex.groupindex and m.group("v") is not None:
        return m.span("v")
    start, end = m.span()
    text = m.group()
    lead = len(text) - len(text.lstrip("\"' \t=:"))  # separator captured by a look-behind pattern
    return start + lead, end


class AuditSecretRecognizer(LocalRecognizer):
    """All secret shapes of one entity type."""

    def __init__(self, entity: str, patterns: list[SecretPattern]) -> None:
        self._patterns = patterns
        super().__init__(supported_entities=[entity], name=f"audit_{entity.lower()}", supported_language="en")

    def load(self) -> None:
        pass

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        out = []
        for p in self._patterns:
            for m in p.regex.finditer(text):
                start, end = _value_span(p, m)
                if end <= start or (p.check is not None and not p.check(text[start:end])):
                    continue
                out.append(
                    RecognizerResult(
                        entity_type=p.entity,
                        start=start,
                        end=end,
                        score=p.score,
                        recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: f"audit_{p.name}"},
                    )
                )
        return out


def secret_recognizers() -> list[AuditSecretRecognizer]:
    by_entity: dict[str, list[SecretPattern]] = {}
    for p in SECRET_PATTERNS:
        by_entity.setdefault(p.entity, []).append(p)
    return [AuditSecretRecognizer(entity, patterns) for entity, patterns in by_entity.items()]


SECRET_ENTITIES = frozenset(p.entity for p in SECRET_PATTERNS)
