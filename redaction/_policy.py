"""Per-tenant redaction policies from a YAML file versioned with the app.

The file has a ``version``, a ``defaults`` block and optional ``tenants`` overrides; a tenant's
effective policy is the defaults with its override merged on top (mappings merge, lists replace).
Pseudonym keys are named by the file (an environment variable or a file path) and never stored in
it; only the *name* enters the policy hash, so rotating a key does not change the version string.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ._structured import normal_key
from .errors import PolicyError

DEFAULT_POLICY_PATH = Path(__file__).parent / "policies" / "default.yaml"
OPERATORS = frozenset({"replace", "mask", "pseudonym", "drop"})
_FIELDS = frozenset(
    {"entities", "operator", "operators", "score_threshold", "thresholds", "allow_list", "max_chars",
     "sensitive_keys", "mask_keep_last", "pseudonym_key"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class TenantPolicy:
    """The effective policy of one tenant, ready to apply."""

    tenant_id: str
    entities: frozenset[str]
    operators: tuple[tuple[str, str], ...]  # entity -> operator, for entities not using the default
    default_operator: str
    score_threshold: float
    thresholds: tuple[tuple[str, float], ...]
    allow_list: frozenset[str]  # casefolded
    max_chars: int
    sensitive_keys: frozenset[str]  # dict keys (normal_key form) whose whole value is a secret
    mask_keep_last: int
    version: str  # "<file version>+<sha of the effective policy>"
    pseudonym_key: bytes | None  # resolved at load; never logged

    def operator_for(self, entity: str) -> str:
        return dict(self.operators).get(entity, self.default_operator)

    def threshold_for(self, entity: str) -> float:
        return dict(self.thresholds).get(entity, self.score_threshold)

    @property
    def needs_pseudonym(self) -> bool:
        return self.default_operator == "pseudonym" or any(op == "pseudonym" for _, op in self.operators)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        out[key] = {**out[key], **value} if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def _read_key(source: Any, where: str) -> bytes:
    if not isinstance(source, dict) or not ({"env"} <= source.keys() or {"file"} <= source.keys()):
        raise PolicyError(f"{where}: pseudonym_key must be {{env: NAME}} or {{file: PATH}}")
    if "env" in source:
        value = os.environ.get(str(source["env"]), "")
        if not value:
            raise PolicyError(f"{where}: pseudonym key variable {source['env']} is not set or empty")
        return value.encode("utf-8")
    path = Path(str(source["file"]))
    try:
        value = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{where}: cannot read pseudonym key file {path}: {type(exc).__name__}") from exc
    if not value:
        raise PolicyError(f"{where}: pseudonym key file {path} is empty")
    return value.encode("utf-8")


class PolicySet:
    """All tenants' policies from one file. Unknown tenants get the defaults."""

    def __init__(self, path: Path | str | None = None, known_entities: frozenset[str] | None = None) -> None:
        self.path = Path(path) if path else DEFAULT_POLICY_PATH
        try:
            raw = yaml.safe_load(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:  # the name of the error, never the text
            raise PolicyError(f"cannot load redaction policy {self.path}: {type(exc).__name__}") from exc
        if not isinstance(raw, dict) or "version" not in raw or not isinstance(raw.get("defaults"), dict):
            raise PolicyError(f"{self.path}: a policy needs `version` and a `defaults` mapping")
        self.file_version = str(raw["version"])
        self._defaults: dict[str, Any] = raw["defaults"]
        self._tenants: dict[str, dict[str, Any]] = raw.get("tenants") or {}
        self._known = known_entities
        self._cache: dict[str, TenantPolicy] = {}
        self._keys: dict[str, bytes] = {}
        for tenant in ["default", *self._tenants]:
            self.get(tenant)  # validate every tenant at start: a bad policy must fail loudly, early

    def get(self, tenant_id: str) -> TenantPolicy:
        hit = self._cache.get(tenant_id)
        if hit is None:
            hit = self._build(tenant_id)
            if len(self._cache) < 10_000:
                self._cache[tenant_id] = hit
        return hit

    def _build(self, tenant_id: str) -> TenantPolicy:
        override = self._tenants.get(tenant_id) or {}
        eff = _merge(self._defaults, override)
        where = f"{self.path} tenant {tenant_id!r}"
        unknown = set(eff) - _FIELDS
        if unknown:
            raise PolicyError(f"{where}: unknown policy fields {sorted(unknown)}")
        entities = frozenset(str(e) for e in eff.get("entities", []))
        if self._known is not None and entities - self._known:
            raise PolicyError(f"{where}: unknown entities {sorted(entities - self._known)}")
        operators = {str(k): str(v) for k, v in (eff.get("operators") or {}).items()}
        default_op = str(eff.get("operator", "replace"))
        for op in [default_op, *operators.values()]:
            if op not in OPERATORS:
                raise PolicyError(f"{where}: unknown operator {op!r} (use one of {sorted(OPERATORS)})")
        digest = hashlib.sha256(json.dumps(eff, sort_keys=True, default=str).encode()).hexdigest()[:12]
        policy = TenantPolicy(
            tenant_id=tenant_id,
            entities=entities,
            operators=tuple(sorted(operators.items())),
            default_operator=default_op,
            score_threshold=float(eff.get("score_threshold", 0.5)),
            thresholds=tuple(sorted((str(k), float(v)) for k, v in (eff.get("thresholds") or {}).items())),
            allow_list=frozenset(str(a).casefold() for a in eff.get("allow_list") or []),
            max_chars=int(eff.get("max_chars", 32_768)),
            sensitive_keys=frozenset(normal_key(str(k)) for k in eff.get("sensitive_keys") or []),
            mask_keep_last=int(eff.get("mask_keep_last", 4)),
            version=f"{self.file_version}+{digest}",
            pseudonym_key=None,
        )
        if policy.needs_pseudonym:
            source = eff.get("pseudonym_key")
            memo = json.dumps(source, sort_keys=True, default=str)
            if memo not in self._keys:  # read once at start; rotating a key needs a restart
                self._keys[memo] = _read_key(source, where)
            key = self._keys[memo]
            # The tenant id is mixed in so a key shared through `defaults` still yields tokens that
            # cannot be joined across tenants.
            tenant_key = hmac.new(key, b"tenant\0" + tenant_id.encode("utf-8"), hashlib.sha256).digest()
            policy = _with_key(policy, tenant_key)
        return policy


def _with_key(policy: TenantPolicy, key: bytes) -> TenantPolicy:
    fields = {name: getattr(policy, name) for name in TenantPolicy.__slots__}
    fields["pseudonym_key"] = key
    return TenantPolicy(**fields)
