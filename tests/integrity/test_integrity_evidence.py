"""Evidence bundles verify offline with the bundled script; the chain survives a restart."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from collector import Store
from collector._integrity import merkle_root, verify_store, verify_task
from collector._integrity._evidence import export_bundle
from collector._integrity._keys import KEY_FILE_NAME

from ._support import Rig, rows


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory, redactor: object) -> Iterator[Rig]:
    base = tmp_path_factory.mktemp("evidence")
    store = Store.open(f"chdb://{base / 'store'}")
    rig = Rig(store, redactor, base / "keys")
    yield rig
    rig.close()
    store.close()


def public_pem(rig: Rig, tmp_path: Path) -> Path:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_private_key

    private = load_pem_private_key((Path(rig.integrity.key_dir) / KEY_FILE_NAME).read_bytes(), password=None)
    path = tmp_path / "operator.pem"
    path.write_bytes(private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    return path


def offline(bundle: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # Run from an empty directory with no PYTHONPATH: the script must need nothing of this repository.
    return subprocess.run([sys.executable, "-I", str(bundle / "verify_bundle.py"), str(bundle), *args],
                          capture_output=True, text=True, cwd=bundle, timeout=60, check=False)  # fmt: skip


def test_a_task_bundle_verifies_offline_and_detects_edits(rig: Rig, tmp_path: Path) -> None:
    for i in range(3):
        rig.run_task("tenant-ev", f"ev-{i}", 4, text="mail bob@example.com about")
    rig.seal()
    bundle = export_bundle(rig.store, tmp_path / "bundle", "tenant-ev", "ev-1")
    events = (bundle / "events.jsonl").read_text()
    assert "bob@example.com" not in events and "ev-1" in events
    pem = public_pem(rig, tmp_path)
    result = offline(bundle, "--pubkey", str(pem))
    assert result.returncode == 0 and "INTACT" in result.stdout, result.stdout + result.stderr

    # An edit caught by the manifest, and the same edit with the manifest "fixed" caught by the hashes.
    edited = events.replace("of ev-1", "of ev-X", 1)
    (bundle / "events.jsonl").write_text(edited)
    result = offline(bundle, "--pubkey", str(pem))
    assert result.returncode == 1 and "bundle file events.jsonl changed" in result.stdout
    manifest = json.loads((bundle / "manifest.json").read_text())
    import hashlib

    manifest["files"]["events.jsonl"] = hashlib.sha256(edited.encode()).hexdigest()
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    result = offline(bundle, "--pubkey", str(pem))
    assert result.returncode == 1 and "ALTERED" in result.stdout and "content does not match" in result.stdout


def test_a_restarted_writer_resumes_each_tenant_chain(rig: Rig, redactor: object, tmp_path: Path) -> None:
    rig.run_task("tenant-resume", "before", 3)
    second = Rig(rig.store, redactor, Path(rig.integrity.key_dir))  # a new process's processor: empty heads
    second.run_task("tenant-resume", "after", 3)
    second.seal()
    second.close()
    assert rows(rig.store, "SELECT groupArray(chain_seq) FROM (SELECT chain_seq FROM events WHERE tenant_id = "
                "'tenant-resume' ORDER BY chain_seq)") == [([1, 2, 3, 4, 5, 6],)]  # fmt: skip
    assert verify_store(rig.store, tenant="tenant-resume").ok
    assert verify_task(rig.store, "tenant-resume", "before").status == "verified"


def test_merkle_root_matches_rfc6962_split() -> None:
    import hashlib

    def reference(leaves: list[bytes]) -> bytes:
        if len(leaves) == 1:
            return hashlib.sha256(b"\x00" + leaves[0]).digest()
        k = 1
        while k * 2 < len(leaves):
            k *= 2
        return hashlib.sha256(b"\x01" + reference(leaves[:k]) + reference(leaves[k:])).digest()

    for n in (1, 2, 3, 5, 7, 8, 13):
        leaves = [hashlib.sha256(bytes([i])).hexdigest() for i in range(n)]
        assert merkle_root(leaves) == reference([bytes.fromhex(x) for x in leaves]).hex()
