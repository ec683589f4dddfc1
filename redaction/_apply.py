"""Turn analyzer findings into redacted text under a tenant policy."""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from ._policy import TenantPolicy

_FUZZY = frozenset({"PERSON", "LOCATION", "NRP"})


@dataclass(frozen=True, slots=True)
class Finding:
    start: int
    end: int
    entity: str
    score: float


def merge(findings: Iterable[Finding]) -> list[Finding]:
    """Overlapping findings become one span covering all of them, labelled by the strongest.

    The union is kept (not the best span alone) so that no character any recognizer flagged
    survives: a partial overlap is a sign both saw something sensitive.
    """
    ordered = sorted(findings, key=lambda f: (f.start, -f.end))
    out: list[Finding] = []
    for f in ordered:
        if out and f.start < out[-1].end:
            last = out[-1]
            better = _rank(f) > _rank(last)
            out[-1] = Finding(
                last.start,
                max(last.end, f.end),
                f.entity if better else last.entity,
                max(f.score, last.score),
            )
        else:
            out.append(f)
    return out


def _rank(f: Finding) -> tuple[bool, float, int]:
    # A checksum- or shape-based finding names a span better than a statistical name/place guess.
    return f.entity not in _FUZZY, f.score, f.end - f.start


def pseudonym(policy: TenantPolicy, entity: str, value: str) -> str:
    assert policy.pseudonym_key is not None  # checked when the policy was loaded
    normalized = " ".join(value.casefold().split())
    digest = hmac.new(policy.pseudonym_key, f"{entity}\0{normalized}".encode(), hashlib.sha256).hexdigest()
    return f"<{entity}:{digest[:12]}>"


def mask(value: str, keep_last: int) -> str:
    keep = keep_last if len(value) > keep_last * 2 else 0
    return "".join("*" if ch.isalnum() else ch for ch in value[: len(value) - keep]) + value[len(value) - keep :]


def render(policy: TenantPolicy, entity: str, value: str) -> str:
    op = policy.operator_for(entity)
    if op == "pseudonym":
        return pseudonym(policy, entity, value)
    if op == "mask":
        return mask(value, policy.mask_keep_last)
    if op == "drop":
        return ""
    return f"<{entity}>"


def kept(policy: TenantPolicy, text: str, findings: Iterable[Finding]) -> list[Finding]:
    """The findings the policy redacts: wanted entity, score over threshold, not allow-listed."""
    return [
        f for f in findings
        if f.entity in policy.entities and f.score >= policy.threshold_for(f.entity)
        and text[f.start:f.end].strip().casefold() not in policy.allow_list
    ]  # fmt: skip


def apply(policy: TenantPolicy, text: str, findings: Iterable[Finding]) -> tuple[str, Counter[str]]:
    selected = kept(policy, text, findings)
    counts: Counter[str] = Counter()
    if not selected:
        return text, counts
    out, cursor = [], 0
    for f in merge(selected):
        out.append(text[cursor : f.start])
        out.append(render(policy, f.entity, text[f.start : f.end]))
        counts[f.entity] += 1
        cursor = f.end
    out.append(text[cursor:])
    return "".join(out), counts
