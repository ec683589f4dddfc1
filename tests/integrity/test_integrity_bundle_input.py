"""`evidence verify` and the bundled verify_bundle.py on bad input: a missing bundle or key file is one
line on stderr and exit 2 (nothing was verified); a bundle whose files were deleted or no longer parse
is BROKEN (exit 1), never a traceback."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from collector import Store
from collector._cli.main import main
from collector._integrity._evidence import export_bundle
from collector._integrity._keys import KEY_FILE_NAME
from collector._integrity.errors import IntegrityError

from ._support import Rig


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory, redactor: object) -> Iterator[Rig]:
    base = tmp_path_factory.mktemp("bundle-input")
    store = Store.open(f"chdb://{base / 'store'}")
    rig = Rig(store, redactor, base / "keys")
    try:
        for i in range(2):
            rig.run_task("tenant-bi", f"bi-{i}", 4)
        rig.seal()
        yield rig
    finally:
        rig.close()
        store.close()


@pytest.fixture(scope="module")
def bundle(rig: Rig) -> Path:
    return export_bundle(rig.store, Path(rig.integrity.key_dir).parent / "bundle", "tenant-bi", "bi-1")


def verify(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["evidence", "verify", *args])
    out, err = capsys.readouterr()
    return code, out, err


def copy_of(bundle: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(bundle, tmp_path / "copy"))


def test_the_untouched_bundle_is_intact(bundle: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = verify(capsys, str(bundle))
    assert (code, out.splitlines()[-1]) == (0, "INTACT (0 problem(s), 0 note(s))")


def test_no_bundle_there_is_one_line_and_exit_2(
    bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "empty").mkdir()
    cases = {
        tmp_path / "nope": f"no bundle directory at {tmp_path / 'nope'}",
        tmp_path / "a-file": f"{tmp_path / 'a-file'} is not a directory: give the bundle directory",
        tmp_path / "empty": f"{tmp_path / 'empty'} is not an evidence bundle: it has no manifest.json",
    }
    for path, message in cases.items():
        assert verify(capsys, str(path)) == (2, "", f"autogen-audit evidence: error: {message}\n")


def test_an_unusable_pubkey_file_is_one_line_and_exit_2(
    bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "operator.pem"
    assert verify(capsys, str(bundle), "--pubkey", str(missing)) == (
        2, "", f"autogen-audit evidence: error: cannot read public key {missing}: No such file or directory\n"
    )  # fmt: skip
    assert verify(capsys, str(bundle), "--pubkey", str(tmp_path))[0] == 2
    # A private key given by mistake, or any other text: refused, and never echoed.
    private = bundle.parent / "keys" / KEY_FILE_NAME
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not-a-key secret-words")
    for path in (private, garbage):
        code, out, err = verify(capsys, str(bundle), "--pubkey", str(path))
        assert (code, out) == (2, "")
        assert err == f"autogen-audit evidence: error: {path} is not an Ed25519 public key (PEM or base64)\n"
    assert "secret-words" not in err and "PRIVATE" not in err


def test_the_bundled_script_gives_the_same_errors(bundle: Path, tmp_path: Path) -> None:
    def script(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-I", str(bundle / "verify_bundle.py"), *args], cwd=tmp_path,
                              capture_output=True, text=True, timeout=60, check=False)  # fmt: skip

    done = script(str(bundle), "--pubkey", "missing.pem")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == "verify_bundle.py: error: cannot read public key missing.pem: No such file or directory\n"
    done = script(str(tmp_path / "nope"))
    assert done.returncode == 2
    assert done.stderr == f"verify_bundle.py: error: no bundle directory at {tmp_path / 'nope'}\n"
    done = script(str(bundle), "--pubkey")
    assert done.returncode == 2 and "Traceback" not in done.stderr and "expected one argument" in done.stderr


def test_a_deleted_bundle_file_is_broken(bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy = copy_of(bundle, tmp_path)
    (copy / "tombstones.jsonl").unlink()
    code, out, err = verify(capsys, str(copy))
    assert (code, err) == (1, "")
    assert "MISSING: tenant tenant-bi chain_seq 0: bundle file tombstones.jsonl is missing" in out
    assert out.splitlines()[-1].startswith("BROKEN")


@pytest.mark.parametrize(
    ("name", "damage"),
    [
        ("events.jsonl", lambda text: text + "this line was typed by hand\n"),
        ("events.jsonl", lambda text: text + '{"chain_seq": "not a number"}\n'),
        ("checkpoints.jsonl", lambda text: "[1, 2]\n" + text),
        ("public_keys.json", lambda text: "{"),
        ("manifest.json", lambda text: "{"),
        ("manifest.json", lambda text: json.dumps({**json.loads(text), "from_seq": "secret-words"})),
    ],
    ids=["events-text", "events-field", "checkpoints-array", "keys", "manifest", "manifest-field"],
)
def test_a_bundle_file_that_no_longer_parses_is_broken(
    bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, damage: object
) -> None:
    copy = copy_of(bundle, tmp_path)
    path = copy / name
    path.write_text(damage(path.read_text()))  # type: ignore[operator]
    code, out, err = verify(capsys, str(copy))
    assert (code, err) == (1, "")
    assert "the bundle cannot be checked" in out and out.splitlines()[-1].startswith("BROKEN")
    assert "secret-words" not in out and "not a number" not in out


def test_export_into_a_directory_that_cannot_be_made(rig: Rig, tmp_path: Path) -> None:
    a_file = tmp_path / "notes.txt"
    a_file.write_text("keep me")
    with pytest.raises(IntegrityError) as caught:
        export_bundle(rig.store, a_file / "case", "tenant-bi", "bi-1")
    assert str(caught.value) == f"cannot write the bundle to {a_file / 'case'}: Not a directory"
    assert a_file.read_text() == "keep me"


def test_export_never_overwrites_a_bundle(rig: Rig, bundle: Path) -> None:
    before = {p.name: p.read_bytes() for p in bundle.iterdir()}
    with pytest.raises(IntegrityError, match=r"already holds events\.jsonl"):
        export_bundle(rig.store, bundle, "tenant-bi", "bi-0")
    assert {p.name: p.read_bytes() for p in bundle.iterdir()} == before
