"""Evidence bundles: one task or time range, self-contained, verifiable offline by an auditor."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._offline import GENESIS
from ._signed import load_checkpoints, load_tombstones
from ._verify import chain_rows, sealed_window
from .errors import IntegrityError

if TYPE_CHECKING:
    from .._store._client import Store

OFFLINE_SOURCE = Path(__file__).with_name("_offline.py")
# Every file of a bundle but manifest.json, which lists their SHA-256.
BUNDLE_FILES = (
    "events.jsonl",
    "checkpoints.jsonl",
    "tombstones.jsonl",
    "public_keys.json",
    "verify_bundle.py",
    "README.txt",
)
README = """Evidence bundle exported by autogen-audit ({scope}).

Files: events.jsonl (redacted events of whole checkpoint intervals of tenant {tenant}, with their
chain fields), checkpoints.jsonl and tombstones.jsonl (Ed25519-signed), public_keys.json (the
signing keys' public halves), manifest.json (scope, chain window, SHA-256 of every file), and
verify_bundle.py (the verifier autogen-audit itself runs; needs Python 3.11+ and `cryptography`).

Procedure:
  1. Obtain the operator's public key(s) through a separate channel (not from this bundle).
  2. python -m pip install cryptography
  3. python verify_bundle.py . --pubkey operator-key.pem
     (without --pubkey the keys in public_keys.json are trusted, which only proves consistency).
  4. "INTACT" and exit status 0: every event recomputes to its hash, every link and Merkle root
     matches a signed checkpoint, and expired intervals are covered by signed tombstones.
     Otherwise each problem is printed: ALTERED, MISSING, REORDERED, INSERTED, SIGNATURE, ...
"""


def export_bundle(
    store: Store, out: Path, tenant: str, correlation_id: str = "", since_ns: int = 0, until_ns: int = 0
) -> Path:
    """Write a bundle for one task (correlation_id) or a time range of one tenant into ``out``."""
    if not tenant:
        raise IntegrityError("an evidence bundle covers one tenant: give --tenant")
    _check_out(out)
    lo, hi, unchained = _scope(store, tenant, correlation_id, since_ns, until_ns)
    if hi == 0:
        raise IntegrityError("no chained events in that scope")
    cps = load_checkpoints(store, tenant)
    start, prev, stop = sealed_window(cps, lo, hi)
    rows = list(chain_rows(store, tenant, start, stop))
    end = stop if stop is not None else max(int(r["chain_seq"]) for r in rows)
    in_window = [c for c in cps if start <= int(c["to_seq"]) <= end]
    tombs = [t for t in load_tombstones(store, tenant) if start <= int(t["to_seq"]) <= end]
    _, keys = store.query("SELECT key_id, any(public_key) FROM signing_keys GROUP BY key_id ORDER BY key_id")
    scope = f"task {correlation_id}" if correlation_id else f"time range {since_ns}..{until_ns or 'now'} (ns)"
    try:
        out.mkdir(parents=True, exist_ok=True)
        _write_jsonl(out / "events.jsonl", rows)
        _write_jsonl(out / "checkpoints.jsonl", in_window)
        _write_jsonl(out / "tombstones.jsonl", tombs)
        public = json.dumps({str(k): str(v) for k, v in keys}, indent=2)
        (out / "public_keys.json").write_text(public, encoding="utf-8")
        (out / "verify_bundle.py").write_text(OFFLINE_SOURCE.read_text(encoding="utf-8"), encoding="utf-8")
        (out / "README.txt").write_text(README.format(scope=scope, tenant=tenant), encoding="utf-8")
        manifest = {
            "format": "autogen-audit-evidence/1", "tenant_id": tenant, "correlation_id": correlation_id,
            "since_ns": since_ns, "until_ns": until_ns, "from_seq": start, "to_seq": end,
            "anchor_hash": prev or GENESIS, "sealed": stop is not None, "unchained_rows_in_scope": unchained,
            "created_ns": time.time_ns(),
            "files": {name: hashlib.sha256((out / name).read_bytes()).hexdigest() for name in BUNDLE_FILES},
        }  # fmt: skip
        # Written last: a bundle cut short by a write error has no manifest, so it never verifies.
        (out / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    except OSError as exc:
        raise IntegrityError(f"cannot write the bundle to {out}: {exc.strerror or type(exc).__name__}") from exc
    return out


def _check_out(out: Path) -> None:
    """Refuse a bundle directory that would overwrite anything: an earlier bundle may be the evidence
    already handed over."""
    if out.exists() and not out.is_dir():
        raise IntegrityError(f"{out} is a file: give a new or empty directory for the bundle")
    taken = [name for name in (*BUNDLE_FILES, "manifest.json") if (out / name).exists()]
    if taken:
        raise IntegrityError(
            f"{out} already holds {taken[0]} (an earlier bundle?): give a new or empty directory; nothing was written"
        )


def _scope(store: Store, tenant: str, task: str, since_ns: int, until_ns: int) -> tuple[int, int, int]:
    _, rows = store.query(
        "SELECT minIf(chain_seq, chain_hash != ''), maxIf(chain_seq, chain_hash != ''), countIf(chain_hash = '') "
        "FROM events WHERE tenant_id = {t:String} AND ({c:String} = '' OR correlation_id = {c:String}) "
        "AND toUnixTimestamp64Micro(ts) >= {s:Int64} AND ({u:Int64} = 0 OR toUnixTimestamp64Micro(ts) < {u:Int64})",
        parameters={"t": tenant, "c": task, "s": -(-since_ns // 1000), "u": -(-until_ns // 1000)},
    )
    lo, hi, unchained = (int(v or 0) for v in rows[0])
    return lo, hi, unchained


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, separators=(",", ":"), sort_keys=True) + "\n")
