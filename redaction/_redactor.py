"""The Redactor: text and structured values in, redacted values and a summary out."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import Counter, OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ._engine import build_analyzer
from ._settings import RedactionSettings

log = logging.getLogger("redaction")

# Entities the product redacts by default. DATE_TIME is left out: on agent traffic it is mostly noise.
DEFAULT_ENTITIES = [
    "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS", "US_SSN",
    "US_BANK_NUMBER", "US_PASSPORT", "US_DRIVER_LICENSE", "CRYPTO", "MEDICAL_LICENSE", "URL_CREDENTIALS",
    "API_KEY", "JWT", "AUTH_HEADER", "PRIVATE_KEY", "PASSWORD", "PERSON", "LOCATION", "NRP",
]  # fmt: skip
POLICY_VERSION = "builtin-1"


@dataclass(frozen=True, slots=True)
class RedactionOutcome:
    """The redacted value, how many findings of each entity were replaced, and how it went."""

    value: Any
    counts: dict[str, int] = field(default_factory=dict)
    status: str = "ok"  # "ok", or "failed: <reason>" when a placeholder replaced the value
    policy_version: str = POLICY_VERSION


class Redactor:
    """Redacts text and JSON-like values with Presidio plus secret recognizers.

    Thread-safe. Repeated strings (agent traffic resends its history) are served from a cache
    keyed by a hash of the text, so the original never stays in memory as a key.
    """

    def __init__(self, settings: RedactionSettings | None = None) -> None:
        self.settings = settings or RedactionSettings()
        self._analyzer, self.ner_active = build_analyzer(self.settings)
        self._entities = [e for e in DEFAULT_ENTITIES if self._supported(e)]
        self._cache: OrderedDict[bytes, tuple[str, tuple[tuple[str, int], ...]]] = OrderedDict()
        self._lock = threading.Lock()

    def _supported(self, entity: str) -> bool:
        return entity in self._analyzer.get_supported_entities(language="en")

    def policy_version(self, tenant_id: str = "default") -> str:
        return POLICY_VERSION

    def redact_text(self, text: str, tenant_id: str = "default") -> RedactionOutcome:
        counts: Counter[str] = Counter()
        redacted = self._redact_str(text, counts)
        return RedactionOutcome(redacted, dict(counts), "ok", self.policy_version(tenant_id))

    def redact_value(self, value: Any, tenant_id: str = "default") -> RedactionOutcome:
        """Redact every string leaf of a JSON-like value; keys are kept, values redacted."""
        counts: Counter[str] = Counter()
        redacted = self._walk(value, counts)
        return RedactionOutcome(redacted, dict(counts), "ok", self.policy_version(tenant_id))

    def redact_many(self, items: Sequence[tuple[str, Any]]) -> list[RedactionOutcome]:
        """Redact (tenant_id, value) pairs. Fails closed per item: an error yields a placeholder."""
        outcomes = []
        for tenant_id, value in items:
            try:
                outcomes.append(self.redact_value(value, tenant_id))
            except Exception as exc:  # noqa: BLE001 - fail closed: never let the raw value through
                reason = f"redaction failed: {type(exc).__name__}"
                log.error("redaction: %s (value withheld)", reason)
                outcomes.append(RedactionOutcome(f"<{reason}>", {}, f"failed: {reason}", self.policy_version(tenant_id)))
        return outcomes

    def _walk(self, value: Any, counts: Counter[str]) -> Any:
        if isinstance(value, str):
            return self._redact_str(value, counts)
        if isinstance(value, dict):
            return {key: self._walk(item, counts) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self._walk(item, counts) for item in value]
        return value

    def _redact_str(self, text: str, counts: Counter[str]) -> str:
        if len(text) < 3 or text.isdigit() and len(text) < 6:
            return text
        key = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
        if hit is None:
            hit = self._analyze(text)
            if self.settings.cache_size:
                with self._lock:
                    self._cache[key] = hit
                    if len(self._cache) > self.settings.cache_size:
                        self._cache.popitem(last=False)
        for entity, n in hit[1]:
            counts[entity] += n
        return hit[0]

    def _analyze(self, text: str) -> tuple[str, tuple[tuple[str, int], ...]]:
        results = self._analyzer.analyze(
            text=text, language="en", entities=self._entities, score_threshold=self.settings.score_threshold
        )
        if not results:
            return text, ()
        # Keep the widest, then highest-scoring, finding where spans overlap.
        spans = sorted(results, key=lambda r: (r.start, -(r.end - r.start), -r.score))
        merged: list[tuple[int, int, str]] = []
        for r in spans:
            if merged and r.start < merged[-1][1]:
                start, end, entity = merged[-1]
                merged[-1] = (start, max(end, r.end), entity)
                continue
            merged.append((r.start, r.end, r.entity_type))
        out, cursor = [], 0
        found: Counter[str] = Counter()
        for start, end, entity in merged:
            out.append(text[cursor:start])
            out.append(f"<{entity}>")
            found[entity] += 1
            cursor = end
        out.append(text[cursor:])
        return "".join(out), tuple(sorted(found.items()))
