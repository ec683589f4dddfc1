"""The integrity algorithm: canonical event encoding, Merkle roots, signed messages and the chain walk.

This module is deliberately self-contained (standard library + ``cryptography`` only, no package
imports): evidence bundles ship a verbatim copy of it as ``verify_bundle.py``, so the auditor's
offline check and ``autogen-audit verify`` run the very same code. Run it as
``python verify_bundle.py BUNDLE_DIR [--pubkey PEM ...]``; exit 0 means intact.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The fields an event hash covers, in this order (encoding v1). A column added to `events` later is
# NOT covered until a new encoding version is introduced; changing this tuple breaks old chains.
FIELDS_V1 = (
    "event_id", "tenant_id", "correlation_id", "seq", "ts_us", "kind", "user_id", "team_id", "team_type",
    "sender", "recipient", "topic_type", "topic_source", "message_type", "message_id", "source", "content",
    "payload", "prompt_tokens", "completion_tokens", "model", "tool_name", "duration_ms", "is_error", "error",
    "redaction", "redaction_status", "policy_version", "truncated", "content_chars", "chain_seq", "chain_prev",
)  # fmt: skip
GENESIS = "0" * 64
_EVENT_TAG = b"autogen-audit/event/v1\n"
# Long text goes after the JSON of the other fields, length-prefixed as UTF-8: hashing it this way
# skips JSON escaping of the largest values (the chain's main cost on the write path).
_LONG = ("content", "payload", "error")
_SHORT = tuple(name for name in FIELDS_V1 if name not in _LONG)
_AS_INT = tuple(_SHORT.index(name) for name in ("is_error", "truncated"))
_REDACTION = _SHORT.index("redaction")
_DURATION = _SHORT.index("duration_ms")
# Kinds of finding that mean the trail is NOT intact; the others are notes.
BREAKS = frozenset({"altered", "missing", "reordered", "inserted", "unchained", "checkpoint", "signature"})


def canonical(row: Mapping[str, Any]) -> bytes:
    """The bytes an event hash covers (encoding v1): a tag; a JSON array (ASCII, no spaces) of the
    short fields in FIELDS_V1 order, booleans as 0/1 and the redaction map as sorted [key, count]
    pairs; then content, payload and error, each as b"\\n" + UTF-8 byte length + b":" + UTF-8 bytes."""
    return canonical_parts([row[name] for name in _SHORT], [str(row[name]) for name in _LONG])


def canonical_parts(short: list[Any], long: Sequence[str]) -> bytes:
    """`canonical` from the short fields (in _SHORT order, modified in place) and the long texts."""
    for index in _AS_INT:
        short[index] = int(short[index])
    short[_REDACTION] = sorted([str(k), int(v)] for k, v in dict(short[_REDACTION]).items())
    short[_DURATION] = float(short[_DURATION])
    parts = [_EVENT_TAG, json.dumps(short, separators=(",", ":")).encode("ascii")]
    for text in long:
        data = text.encode("utf-8", "surrogatepass")
        parts.append(b"\n%d:" % len(data))
        parts.append(data)
    return b"".join(parts)


def event_hash(row: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(row)).hexdigest()


def merkle_root(leaves: Sequence[str]) -> str:
    """RFC 6962 Merkle tree hash over hex leaf hashes (0x00 leaf prefix, 0x01 node prefix)."""
    if not leaves:
        return hashlib.sha256(b"").hexdigest()
    level = [hashlib.sha256(b"\x00" + bytes.fromhex(leaf)).digest() for leaf in leaves]
    while len(level) > 1:
        # Pairing left to right and promoting an odd last node equals RFC 6962's split at the
        # largest power of two below n.
        nxt = [hashlib.sha256(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0].hex()


def checkpoint_message(cp: Mapping[str, Any]) -> bytes:
    keys = ("tenant_id", "from_seq", "to_seq", "first_prev", "last_hash", "merkle_root", "prev_signature")
    return b"autogen-audit/checkpoint/v1\n" + _msg(cp, (*keys, "key_id", "created_ns"))


def tombstone_message(tb: Mapping[str, Any]) -> bytes:
    keys = ("tenant_id", "from_seq", "to_seq", "events", "last_hash", "reason", "prev_signature")
    return b"autogen-audit/tombstone/v1\n" + _msg(tb, (*keys, "key_id", "created_ns"))


def hold_message(entry: Mapping[str, Any]) -> bytes:
    keys = ("tenant_id", "seq", "action", "hold_id", "correlation_id", "reason", "actor", "created_ns")
    return b"autogen-audit/hold/v1\n" + _msg(entry, (*keys, "prev_signature", "key_id"))


def _msg(record: Mapping[str, Any], keys: Sequence[str]) -> bytes:
    return json.dumps([record[k] for k in keys], separators=(",", ":")).encode("ascii")


def public_key_from_text(text: str) -> Any:
    """An Ed25519 public key from PEM or raw base64 (32 bytes)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    text = text.strip()
    if text.startswith("-----BEGIN"):
        key = load_pem_public_key(text.encode())
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("not an Ed25519 public key")
        return key
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(text))


def key_id_of(public_key: Any) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return "ed25519:" + hashlib.sha256(raw).hexdigest()[:16]


def signature_ok(keys: Mapping[str, Any], key_id: str, signature: str, message: bytes) -> bool:
    key = keys.get(key_id)
    if key is None:
        return False
    try:
        key.verify(bytes.fromhex(signature), message)
    except Exception:  # noqa: BLE001 - InvalidSignature or a malformed hex signature: both are "not valid"
        return False
    return True


@dataclass(frozen=True)
class Finding:
    """One problem (or note) found in a chain, named as precisely as the store allows."""

    kind: str  # altered | missing | reordered | inserted | unchained | checkpoint | signature | expired | ...
    tenant_id: str
    chain_seq: int
    detail: str
    event_id: str = ""
    correlation_id: str = ""
    seq: int = -1

    @property
    def breaks(self) -> bool:
        return self.kind in BREAKS

    def describe(self) -> str:
        where = f"tenant {self.tenant_id} chain_seq {self.chain_seq}"
        if self.event_id:
            where += f" event {self.event_id} (task {self.correlation_id} seq {self.seq})"
        return f"{self.kind.upper()}: {where}: {self.detail}"


@dataclass
class Walker:
    """Walks one tenant's chain in chain_seq order, checking hashes, links, checkpoints and tombstones.

    Feed it rows sorted by chain_seq (duplicates adjacent), then call ``finish``. ``start`` and
    ``prev`` let a caller verify a window anchored on the checkpoint just before it.
    """

    tenant_id: str
    checkpoints: list[dict[str, Any]]
    tombstones: list[dict[str, Any]]
    keys: Mapping[str, Any]
    start: int = 1
    prev: str | None = GENESIS
    stop: int | None = None
    stale_before_us: int = 0  # unsealed events older than this mean checkpoints are missing
    findings: list[Finding] = field(default_factory=list)
    events: int = 0
    _group: list[dict[str, Any]] = field(default_factory=list)
    _leaves: dict[int, str] = field(default_factory=dict)
    _mismatched: list[dict[str, Any]] = field(default_factory=list)
    _tasks: dict[str, tuple[int, int]] = field(default_factory=dict)
    _gaps: list[tuple[int, int, int]] = field(default_factory=list)  # (from, to, finding index)
    _flagged: set[int] = field(default_factory=set)  # positions already reported event by event

    def __post_init__(self) -> None:
        self.pos = self.start
        self._sealed_to = max((int(c["to_seq"]) for c in self.checkpoints), default=0)
        self._stale = 0
        self._check_signed_records()

    def feed(self, row: dict[str, Any]) -> None:
        if self._group and row["chain_seq"] != self._group[0]["chain_seq"]:
            self._flush_group()
        self._group.append(row)

    def finish(self) -> list[Finding]:
        if self._group:
            self._flush_group()
        sealed_to = max((int(c["to_seq"]) for c in self.checkpoints), default=0)
        end = sealed_to if self.stop is None else min(sealed_to, self.stop)
        if self.pos <= end:
            self._gap(end + 1, trailing=True)
        self._check_checkpoint_roots()
        self._explain_swaps()
        if self._stale:
            self._add("checkpoint", sealed_to + 1, f"{self._stale} old events are not sealed by any checkpoint "
                      "(checkpoints deleted, or the writer stopped sealing)")  # fmt: skip
        if self.pos - 1 > sealed_to and self.stop is None:
            self._note("unsealed", self.pos - 1, f"{self.pos - 1 - sealed_to} newest events not yet in a checkpoint")
        return self.findings

    # -- events ---------------------------------------------------------------------------
    def _flush_group(self) -> None:
        group, self._group = self._group, []
        s = int(group[0]["chain_seq"])
        if s > self.pos:
            self._gap(s)
        self.pos = max(self.pos, s + 1)
        valid = [
            r for r in group if event_hash(r) == r["chain_hash"] and (self.prev is None or r["chain_prev"] == self.prev)
        ]
        chosen = valid[0] if valid else group[0]
        for other in group:
            if other is chosen:
                continue
            # Only an exact copy is harmless: the same covered fields, hashing to its own chain_hash.
            # A row that merely reuses the event id and hash (with other content) is an insertion.
            if (
                other["event_id"] == chosen["event_id"]
                and other["chain_hash"] == chosen["chain_hash"]
                and event_hash(other) == other["chain_hash"]
                and canonical(other) == canonical(chosen)
            ):
                self._note("duplicate", s, "the same event is stored twice (harmless)", other)
            else:
                self._add("inserted", s, "a second row claims this chain position", other)
        self._check_event(chosen, s)

    def _check_event(self, row: dict[str, Any], s: int) -> None:
        self.events += 1
        if event_hash(row) != row["chain_hash"]:
            self._add("altered", s, "content does not match its hash", row)
            self._mismatched.append(row)
        elif self.prev is not None and row["chain_prev"] != self.prev:
            self._add("altered", s, "chain link broken: previous hash does not match (earlier event rewritten?)", row)
        self.prev = row["chain_hash"]
        self._leaves[s] = row["chain_hash"]
        if s > self._sealed_to and int(row["ts_us"]) < self.stale_before_us:
            self._stale += 1
        task = row["correlation_id"]
        if task in self._tasks:
            last_seq, last_chain = self._tasks[task]
            if int(row["seq"]) > last_seq + 1:
                for lo, hi, index in self._gaps:
                    if last_chain < lo <= hi < s:
                        old = self.findings[index]
                        self.findings[index] = Finding(
                            old.kind, old.tenant_id, old.chain_seq,
                            old.detail + f"; task {task} is missing seq {last_seq + 1}..{int(row['seq']) - 1}",
                            correlation_id=task, seq=last_seq + 1,
                        )  # fmt: skip
        self._tasks[task] = (int(row["seq"]), s)

    def _gap(self, upto: int, trailing: bool = False) -> None:
        lo = self.pos
        while lo < upto:
            tomb = next((t for t in self.tombstones if int(t["from_seq"]) == lo), None)
            if tomb is None or int(tomb["to_seq"]) >= upto:
                break
            self._note("expired", lo, f"chain_seq {lo}..{tomb['to_seq']} expired by retention ({tomb['reason']})")
            self.prev = tomb["last_hash"]
            lo = int(tomb["to_seq"]) + 1
        if lo < upto:
            what = "trimmed after the last stored event" if trailing else "deleted"
            self._add("missing", lo, f"chain_seq {lo}..{upto - 1} {what}")
            self._gaps.append((lo, upto - 1, len(self.findings) - 1))
            self.prev = None  # the next link cannot be checked across a hole
        self.pos = upto

    # -- checkpoints and tombstones ---------------------------------------------------------
    def _check_signed_records(self) -> None:
        prev_sig = None
        prev_cp: dict[str, Any] | None = None
        ordered = sorted(self.checkpoints, key=lambda c: int(c["to_seq"]))
        if ordered and (
            int(ordered[0]["from_seq"]) != self.start or (self.start == 1 and ordered[0]["prev_signature"])
        ):
            self._add("checkpoint", self.start, f"the first checkpoint starts at {ordered[0]['from_seq']}, not at "
                      f"{self.start} (earlier checkpoints removed)")  # fmt: skip
        for cp in ordered:
            if not signature_ok(self.keys, cp["key_id"], cp["signature"], checkpoint_message(cp)):
                self._add(
                    "signature",
                    int(cp["to_seq"]),
                    f"checkpoint {cp['from_seq']}..{cp['to_seq']} signature invalid or key {cp['key_id']} not trusted",
                )
            if prev_cp is not None and (
                int(cp["from_seq"]) != int(prev_cp["to_seq"]) + 1 or cp["prev_signature"] != prev_sig
            ):
                self._add(
                    "checkpoint", int(cp["from_seq"]), "checkpoint chain broken (a checkpoint was removed or forged)"
                )
            prev_cp, prev_sig = cp, cp["signature"]
        starts = {int(c["from_seq"]) for c in self.checkpoints}
        ends = {int(c["to_seq"]): c for c in self.checkpoints}
        prev_tomb = ""
        for tb in sorted(self.tombstones, key=lambda t: int(t["to_seq"])):
            lo, hi = int(tb["from_seq"]), int(tb["to_seq"])
            if not signature_ok(self.keys, tb["key_id"], tb["signature"], tombstone_message(tb)):
                self._add("signature", lo, f"tombstone {lo}..{hi} signature invalid or key {tb['key_id']} not trusted")
            elif lo not in starts or hi not in ends or ends[hi]["last_hash"] != tb["last_hash"]:
                self._add("checkpoint", lo, f"tombstone {lo}..{hi} does not match whole checkpoint intervals")
            if tb["prev_signature"] != prev_tomb and (prev_tomb or self.start == 1):
                self._add("checkpoint", lo, f"tombstone chain broken before {lo}..{hi} (a tombstone was removed)")
            prev_tomb = tb["signature"]

    def _check_checkpoint_roots(self) -> None:
        for cp in self.checkpoints:
            lo, hi = int(cp["from_seq"]), int(cp["to_seq"])
            if lo < self.start or (self.stop is not None and hi > self.stop):
                continue
            leaves = [self._leaves.get(s) for s in range(lo, hi + 1)]
            if any(leaf is None for leaf in leaves) or any(lo <= s <= hi for s in self._flagged):
                continue  # a hole (reported as missing) or an expired interval (tombstone checked)
            if merkle_root([leaf for leaf in leaves if leaf]) != cp["merkle_root"] or leaves[-1] != cp["last_hash"]:
                self._add("checkpoint", lo, f"events {lo}..{hi} do not match their signed checkpoint (chain rewritten)")

    def _explain_swaps(self) -> None:
        rows = self._mismatched[:200]
        for i, a in enumerate(rows):
            for b in rows[i + 1 :]:
                for name in ("chain_seq", "seq", "ts_us"):
                    if a[name] == b[name]:
                        continue
                    if (
                        event_hash({**a, name: b[name]}) == a["chain_hash"]
                        and event_hash({**b, name: a[name]}) == b["chain_hash"]
                    ):
                        # The swap also explains the broken links right after the two positions.
                        after = {int(a["chain_seq"]) + 1, int(b["chain_seq"]) + 1} if name == "chain_seq" else set()
                        self.findings = [
                            f for f in self.findings
                            if not (f.kind == "altered" and (f.event_id in (a["event_id"], b["event_id"])
                                                             or (f.chain_seq in after and "link" in f.detail)))
                        ]  # fmt: skip
                        self._add(
                            "reordered",
                            int(a["chain_seq"]),
                            f"{name} swapped with event {b['event_id']} (chain_seq {b['chain_seq']})",
                            a,
                        )

    def _add(self, kind: str, s: int, detail: str, row: Mapping[str, Any] | None = None) -> None:
        if row is None:
            self.findings.append(Finding(kind, self.tenant_id, s, detail))
        else:
            self._flagged.add(s)
            self.findings.append(
                Finding(kind, self.tenant_id, s, detail, row["event_id"], row["correlation_id"], int(row["seq"]))
            )

    def _note(self, kind: str, s: int, detail: str, row: Mapping[str, Any] | None = None) -> None:
        """A finding that is not a break (duplicate, expired, unsealed). Unlike ``_add`` it flags no
        position: a flagged position exempts its interval from the checkpoint root check, and a
        note must not (one harmless duplicate per interval would otherwise switch that check off)."""
        if row is None:
            self.findings.append(Finding(kind, self.tenant_id, s, detail))
        else:
            self.findings.append(
                Finding(kind, self.tenant_id, s, detail, row["event_id"], row["correlation_id"], int(row["seq"]))
            )


def verify_hold_log(entries: Iterable[Mapping[str, Any]], keys: Mapping[str, Any]) -> list[Finding]:
    """Check the signed, chained log of legal holds of one tenant."""
    findings: list[Finding] = []
    prev = ""
    for expected, entry in enumerate(sorted(entries, key=lambda e: int(e["seq"])), start=1):
        tenant = str(entry["tenant_id"])
        if int(entry["seq"]) != expected or entry["prev_signature"] != prev:
            findings.append(Finding("checkpoint", tenant, int(entry["seq"]), "hold log entry missing or out of order"))
        if not signature_ok(keys, entry["key_id"], entry["signature"], hold_message(entry)):
            findings.append(
                Finding("signature", tenant, int(entry["seq"]), f"hold log entry {entry['hold_id']} signature invalid")
            )
        prev = entry["signature"]
    return findings


# -- offline bundle verification ---------------------------------------------------------------
class BundleError(Exception):
    """The bundle or a key file cannot be used at all, so nothing was verified (exit 2).

    Messages name paths and reasons only, never file contents."""


class _Damaged(Exception):
    """A bundle file no longer parses: it changed after export, so the bundle is not intact."""


def _jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    records = []
    for number, line in enumerate(_read(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if not isinstance(record, dict):
            raise _Damaged(f"bundle file {path.name} line {number} is not a JSON record")
        records.append(record)
    return records


def _read(path: Path) -> str:
    try:
        return _bytes(path).decode("utf-8")
    except UnicodeDecodeError:
        raise _Damaged(f"bundle file {path.name} is not UTF-8 text") from None


def _bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise BundleError(f"cannot read {path}: {exc.strerror or type(exc).__name__}") from exc


def _json_object(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(_read(path)) if path.exists() else {}
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise _Damaged(f"bundle file {path.name} is not a JSON object")
    return value


def _manifest(bundle: Path) -> dict[str, Any]:
    if not bundle.exists():
        raise BundleError(f"no bundle directory at {bundle}")
    if not bundle.is_dir():
        raise BundleError(f"{bundle} is not a directory: give the bundle directory")
    if not (bundle / "manifest.json").is_file():
        raise BundleError(f"{bundle} is not an evidence bundle: it has no manifest.json")
    manifest = _json_object(bundle / "manifest.json")
    if not isinstance(manifest.get("files"), dict):
        raise _Damaged("manifest.json lists no files")
    return manifest


def verify_bundle(bundle: Path, pinned: Sequence[str] = ()) -> list[Finding]:
    """Verify an evidence bundle directory written by ``autogen-audit evidence``.

    Raises BundleError when there is no bundle to verify; a bundle whose files no longer parse is
    reported as broken."""
    findings: list[Finding] = []
    tenant = ""
    try:
        manifest = _manifest(bundle)
        tenant = str(manifest.get("tenant_id", ""))
        for name, digest in manifest["files"].items():
            path = bundle / str(name)
            if not path.is_file():
                findings.append(Finding("missing", tenant, 0, f"bundle file {name} is missing"))
            elif hashlib.sha256(_bytes(path)).hexdigest() != digest:
                findings.append(Finding("altered", tenant, 0, f"bundle file {name} changed after export"))
        texts = pinned or _json_object(bundle / "public_keys.json").values()
        keys = {key_id_of(k): k for k in (public_key_from_text(t) for t in texts)}
        events = sorted(_jsonl(bundle / "events.jsonl"), key=lambda r: (int(r["chain_seq"]), r["event_id"]))
        walker = Walker(
            manifest["tenant_id"], _jsonl(bundle / "checkpoints.jsonl"), _jsonl(bundle / "tombstones.jsonl"), keys,
            start=int(manifest["from_seq"]), prev=manifest["anchor_hash"], stop=int(manifest["to_seq"]),
        )  # fmt: skip
        for row in events:
            walker.feed(row)
        return findings + walker.finish()
    except _Damaged as exc:
        return [*findings, Finding("altered", tenant, 0, f"{exc}: the bundle cannot be checked")]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        # A field missing or of the wrong type. The message would quote the value: name the class only.
        detail = f"a bundle record lacks a field or holds a wrong value ({type(exc).__name__})"
        return [*findings, Finding("altered", tenant, 0, f"{detail}: the bundle cannot be checked")]


def read_public_key(path: str) -> str:
    """The text of a trusted public key file (PEM or raw base64 Ed25519), checked; BundleError if unusable."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise BundleError(f"cannot read public key {path}: {exc.strerror or type(exc).__name__}") from exc
    try:
        text = data.decode("utf-8")
        public_key_from_text(text)
    except (ValueError, TypeError):
        # Never echo the file: it may be a private key given by mistake.
        raise BundleError(f"{path} is not an Ed25519 public key (PEM or base64)") from None
    return text


def main(argv: Sequence[str] | None = None, prog: str = "verify_bundle.py") -> int:
    """Exit 0: intact; 1: broken; 2: nothing to verify (a missing bundle or an unusable key file)."""
    import argparse

    parser = argparse.ArgumentParser(prog=prog, description="Verify an autogen-audit evidence bundle offline.")
    parser.add_argument("bundle", help="the bundle directory")
    parser.add_argument("--pubkey", action="append", default=[], help="trusted public key PEM file (repeatable)")
    args = parser.parse_args(argv)
    try:
        pinned = [read_public_key(path) for path in args.pubkey]
        findings = verify_bundle(Path(args.bundle), pinned)
    except BundleError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    for f in findings:
        print(f.describe())
    broken = [f for f in findings if f.breaks]
    print("BROKEN" if broken else "INTACT", f"({len(broken)} problem(s), {len(findings) - len(broken)} note(s))")
    return 1 if broken else 0


if __name__ == "__main__":
    raise SystemExit(main())
