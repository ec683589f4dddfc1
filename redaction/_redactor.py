"""The Redactor: text and structured values in, redacted values and a summary out."""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections import Counter, OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import _structured as st
from ._apply import Finding, apply, kept, merge, render
from ._engine import NER_ENTITIES, Engine
from ._policy import PolicySet, TenantPolicy
from ._pool import AnalysisPool
from ._settings import RedactionSettings

log = logging.getLogger("redaction")
_SECRET_ENTITY = "SECRET"  # noqa: S105 - an entity name
_TRUNCATED = "…[truncated {n} chars]"
# A base64 data URL (a multimodal message's image, an attached document) is withheld like an
# autogen_core.Image: a photo or a scanned passport is PII no text recognizer can see, and base64
# read as text only makes false findings. Its media type and size are kept; text around it is
# analysed as usual. The payload stops at the first character base64 cannot hold (a space).
_DATA_URL = re.compile(r"data:([\w.+-]+/[\w.+-]+)?(?:;[\w.+-]+=[^;,\s]*)*;base64,[A-Za-z0-9+/_-]*=*")
# A dict key shaped like a program's field name (camelCase, snake_case, kebab-case, dotted): see
# _analyse_all. An email, a phone number or a name with a space in it is not one.
_FIELD_NAME = re.compile(r"[A-Za-z_$][A-Za-z0-9_$.:-]{0,127}")
_NONE: frozenset[int] = frozenset()
# Field names found clean, per policy version (see _remember_clean_keys).
_CLEAN_KEYS_MAX = 50_000


@dataclass(frozen=True, slots=True)
class RedactionOutcome:
    """The redacted value, how many findings of each entity were replaced, and how it went."""

    value: Any
    counts: dict[str, int] = field(default_factory=dict)
    status: str = "ok"  # "ok", or "failed: <reason>" when a placeholder replaced the value
    policy_version: str = ""


@dataclass(frozen=True, slots=True)
class RedactionStats:
    """Counters since start: items (values), texts analysed, cache hits, failed items."""

    items: int
    analysed: int
    cache_hits: int
    failures: int


class Redactor:
    """Redacts text and JSON-like values with Presidio plus the package's own recognizers.

    Thread-safe. Repeated strings (agent traffic resends its history) are served from a cache
    keyed by a hash of (tenant policy, text), so the original never stays in memory as a key.
    """

    def __init__(self, settings: RedactionSettings | None = None, policy_path: str | Path | None = None) -> None:
        self.settings = settings or RedactionSettings()
        self._engine = Engine(self.settings)
        self.ner_active = self._engine.ner_active
        known = self._engine.supported | {_SECRET_ENTITY}
        self.policies = PolicySet(policy_path or self.settings.policy_path, known_entities=known)
        self._cache: OrderedDict[bytes, tuple[str, tuple[tuple[str, int], ...]]] = OrderedDict()
        self._key_bases: dict[tuple[str, str], Any] = {}  # see _keys
        self._clean_keys: dict[str, set[str]] = {}
        self._lock = threading.Lock()
        self._counts = Counter[str]()
        self._pool = AnalysisPool(self.settings) if self.settings.process_pool else None

    @property
    def stats(self) -> RedactionStats:
        with self._lock:
            c = self._counts
            return RedactionStats(c["items"], c["analysed"], c["cache_hits"], c["failures"])

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()

    def policy_version(self, tenant_id: str = "default") -> str:
        return self.policies.get(tenant_id).version

    def redact_text(self, text: str, tenant_id: str = "default") -> RedactionOutcome:
        """Redact one text as text (a JSON-looking string is still redacted field by field)."""
        return self.redact_many([(tenant_id, text)])[0]

    def redact_value(self, value: Any, tenant_id: str = "default") -> RedactionOutcome:
        """Redact every string leaf of a JSON-like value; keys are kept, values redacted."""
        return self.redact_many([(tenant_id, value)])[0]

    def redact_many(self, items: Sequence[tuple[str, Any]]) -> list[RedactionOutcome]:
        """Redact (tenant_id, value) pairs in one batch. Fails closed per item."""
        plans: list[tuple[TenantPolicy, Any, list[str], list[bytes], list[int], frozenset[int]] | BaseException] = []
        for tenant_id, value in items:
            try:
                policy = self.policies.get(tenant_id)
                texts: list[str] = []
                key_leaves: list[int] = []
                clean_keys: set[str] | frozenset[str] = self._clean_keys.get(policy.version, frozenset())
                tree = st.split(value, policy.sensitive_keys, texts, 0, clean_keys, key_leaves)
                prepared = [self._prepare(t, policy) for t in texts]
                fielded = _NONE
                if key_leaves:
                    fielded = frozenset(i for i in key_leaves if _FIELD_NAME.fullmatch(prepared[i]))
                plans.append((policy, tree, prepared, self._keys(policy, prepared, fielded), key_leaves, fielded))
            except Exception as exc:  # noqa: BLE001 - fail closed: the item becomes a placeholder
                plans.append(exc)
        results = self._analyse_all([(p[0], p[2], p[3], p[5]) for p in plans if not isinstance(p, BaseException)])
        outcomes = []
        for (tenant_id, _), plan in zip(items, plans, strict=True):
            if isinstance(plan, BaseException):
                outcomes.append(self._failed(tenant_id, plan))
                continue
            policy, tree, prepared, keys, key_leaves, _ = plan
            try:
                counts: Counter[str] = Counter()
                redacted = []
                for key in keys:
                    hit = results[key]
                    if isinstance(hit, BaseException):
                        raise hit
                    redacted.append(hit[0])
                    counts.update(dict(hit[1]))
                secrets = 0

                def secret(raw: str, policy: TenantPolicy = policy) -> str:
                    nonlocal secrets  # counted as join meets them: a walk of its own cost as much as the join
                    secrets += 1
                    return render(policy, _SECRET_ENTITY, raw)

                value = st.join(tree, redacted, secret)
                self._remember_clean_keys(policy, prepared, redacted, key_leaves)
                if secrets:
                    counts[_SECRET_ENTITY] += secrets
                outcomes.append(RedactionOutcome(value, dict(counts), "ok", policy.version))
            except Exception as exc:  # noqa: BLE001 - fail closed per item
                outcomes.append(self._failed(tenant_id, exc))
        with self._lock:
            self._counts["items"] += len(items)
        return outcomes

    def _remember_clean_keys(
        self, policy: TenantPolicy, texts: list[str], redacted: list[str], key_leaves: list[int]
    ) -> None:
        """Keys analysed with nothing found skip analysis from now on under this policy version:
        field names repeat in every payload, and each would otherwise be hashed and looked up."""
        if not key_leaves:
            return
        clean = self._clean_keys.get(policy.version)
        if clean is None:
            if len(self._clean_keys) >= 1_000:  # a set per policy version: bounded across reloads
                self._clean_keys.clear()
            clean = self._clean_keys[policy.version] = set()
        for i in key_leaves:
            if redacted[i] == texts[i] and len(clean) < _CLEAN_KEYS_MAX:
                clean.add(texts[i])

    def _failed(self, tenant_id: str, exc: BaseException) -> RedactionOutcome:
        # The reason is the exception's type only: messages may quote the analysed text.
        reason = f"redaction failed: {type(exc).__name__}"
        log.error("redaction: %s for tenant %s (value withheld)", reason, tenant_id)
        with self._lock:
            self._counts["failures"] += 1
        try:
            version = self.policy_version(tenant_id)
        except Exception:  # noqa: BLE001 - a broken policy must still yield a placeholder
            version = "unknown"
        return RedactionOutcome(f"<{reason}>", {}, f"failed: {reason}", version)

    @staticmethod
    def _prepare(text: str, policy: TenantPolicy) -> str:
        if "data:" in text:
            text = _DATA_URL.sub(_withheld_data_url, text)
        if len(text) > policy.max_chars:
            return text[: policy.max_chars] + _TRUNCATED.format(n=len(text) - policy.max_chars)
        return text

    def _keys(self, policy: TenantPolicy, texts: list[str], fielded: frozenset[int] = frozenset()) -> list[bytes]:
        """Each text's cache key: blake2b(policy version, tenant when pseudonyms are used, text).
        Computed once per text (the hasher of the prefix is kept per policy and copied). Field
        names (``fielded``) are analysed without NER, so theirs come from another blake2b family."""
        memo = (policy.version, policy.tenant_id)
        bases = self._key_bases.get(memo)
        if bases is None:
            # Pseudonyms differ per tenant, so the tenant is part of the key whenever they are in use.
            prefix = f"{policy.version}\0{policy.tenant_id if policy.needs_pseudonym else ''}\0".encode()
            bases = (hashlib.blake2b(prefix, digest_size=16), hashlib.blake2b(prefix, digest_size=16, person=b"field"))
            if len(self._key_bases) < 10_000:  # one per tenant and policy version
                self._key_bases[memo] = bases
        base, field_base = bases
        keys = []
        for i, text in enumerate(texts):
            h = field_base.copy() if i in fielded else base.copy()
            h.update(text.encode("utf-8", "surrogatepass"))
            keys.append(h.digest())
        return keys

    def _analyse_all(
        self, plans: list[tuple[TenantPolicy, list[str], list[bytes], frozenset[int]]]
    ) -> dict[bytes, tuple[str, tuple[tuple[str, int], ...]] | BaseException]:
        results: dict[bytes, tuple[str, tuple[tuple[str, int], ...]] | BaseException] = {}
        todo: dict[bytes, tuple[TenantPolicy, str, frozenset[str]]] = {}
        hits = 0
        with self._lock:
            for policy, texts, keys, fielded in plans:
                for i, (text, key) in enumerate(zip(texts, keys, strict=True)):
                    if key in results or key in todo:
                        hits += 1
                        continue
                    if len(text) < 3:
                        results[key] = (text, ())
                        continue
                    hit = self._cache.get(key)
                    if hit is not None:
                        self._cache.move_to_end(key)
                        results[key] = hit
                        hits += 1
                    else:
                        # spaCy reads camelCase field names as people ("clientSecret" -> PERSON):
                        # a field name is checked by the pattern recognizers only.
                        todo[key] = (policy, text, policy.entities - NER_ENTITIES if i in fielded else policy.entities)
            self._counts["cache_hits"] += hits
            self._counts["analysed"] += len(todo)
        if not todo:
            return results
        keys = list(todo)
        jobs = [(todo[k][1], todo[k][2]) for k in keys]
        if self._pool is not None and len(jobs) >= self.settings.pool_min_items:
            found = self._pool.analyze(jobs)
        else:
            found = self._engine.analyze_batch(jobs)
        fresh = {}
        for key, findings in zip(keys, found, strict=True):
            if isinstance(findings, BaseException):
                results[key] = findings
                continue
            policy, text, _ = todo[key]
            redacted, counts = apply(policy, text, findings)
            results[key] = fresh[key] = (redacted, tuple(sorted(counts.items())))
        if self.settings.cache_size and fresh:
            with self._lock:
                self._cache.update(fresh)
                while len(self._cache) > self.settings.cache_size:
                    self._cache.popitem(last=False)
        return results

    def find_many(self, texts: Sequence[str], tenant_id: str = "default") -> list[list[Finding]]:
        """The merged findings each text would have redacted under the tenant's policy (for evaluation)."""
        policy = self.policies.get(tenant_id)
        found = self._engine.analyze_batch([(t, policy.entities) for t in texts])
        out = []
        for text, findings in zip(texts, found, strict=True):
            if isinstance(findings, BaseException):
                raise findings
            out.append(merge(kept(policy, text, findings)))
        return out


def _withheld_data_url(match: re.Match[str]) -> str:
    payload = match.group(0).rsplit(",", 1)[1]
    size = len(payload) * 3 // 4 - (len(payload) - len(payload.rstrip("=")))
    return f"<DATA_URL {match.group(1) or 'unknown'}, {max(size, 0)} bytes>"
