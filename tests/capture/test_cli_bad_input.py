"""Likely mistakes on the command line get one clear line on stderr and exit 2, never a traceback, and
the message names the argument, never stored content or a secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from collector._cli.main import main


@pytest.fixture(scope="module")
def dsn(tmp_path_factory: pytest.TempPathFactory) -> str:
    store = tmp_path_factory.mktemp("bad-input") / "store"
    store.mkdir()  # verify refuses a path with no store at all before it reads its other arguments
    return f"chdb://{store}"


def one_line_error(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    """Run the CLI in this process; it must exit 2 with exactly one line on stderr and nothing on stdout."""
    code = main(argv)
    out, err = capsys.readouterr()
    assert (code, out) == (2, ""), (argv, code, out, err)
    assert err.endswith("\n") and err.count("\n") == 1, err
    return err.rstrip("\n")


@pytest.mark.parametrize(
    "argv",
    [
        ["verify", "--since", "99999999999d"],
        ["evidence", "export", "--tenant", "t", "--since", "99999999999d", "--out", "unused"],
        ["evidence", "export", "--tenant", "t", "--since", "1d", "--until", "9" * 30 + "s", "--out", "unused"],
        ["retention", "apply", "--dry-run", "--now", "99999999999d"],
    ],
    ids=["verify", "export-since", "export-until", "retention-now"],
)
def test_an_age_too_large_for_a_date(dsn: str, capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    err = one_line_error(capsys, ["--dsn", dsn, *argv])
    assert err.endswith("that age reaches back before the year 1"), err


@pytest.mark.parametrize(
    "argv",
    [
        ["tasks"],
        ["sql", "SELECT 1"],
        ["verify"],
        ["keys", "list"],
        ["hold", "list"],
        ["retention", "list"],
        ["evidence", "export", "--tenant", "t", "--since", "1d", "--out", "unused"],
        ["demo", "--tenants", "1", "--tasks-per-tenant", "1"],
        ["serve", "--port", "0"],
    ],
    ids=lambda argv: argv[0] + ("-" + argv[1] if argv[0] in ("keys", "hold", "retention") else ""),
)
def test_a_store_path_that_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a store")
    err = one_line_error(capsys, ["--dsn", f"chdb://{a_file}", *argv])
    assert err.endswith(f"error: cannot open store chdb://{a_file}: {a_file} is a file, not a store directory"), err
    assert a_file.read_text() == "not a store"
    err = one_line_error(capsys, ["--dsn", f"chdb://{a_file}/store", *argv])
    if argv[0] in ("demo", "serve"):  # they set a store up, so they try to create it
        assert err.endswith(f"the directory {a_file}/store cannot be created (Not a directory)"), err
    else:  # reads only: it never creates a store, so it says there is none
        assert err.endswith(f"error: no store at {a_file}/store (check --dsn or AUDIT_STORE_DSN)"), err


# Every command that only reads, or acts on what is stored: at a mistyped path an empty store would
# answer "nothing there" (an empty table, no keys, nothing to expire), which reads like the truth.
READERS = {
    "tasks": ["tasks"],
    "sql": ["sql", "SELECT 1"],
    "verify": ["verify"],
    "keys-list": ["keys", "list"],
    "keys-revoke": ["keys", "revoke", "ops"],
    "retention-list": ["retention", "list"],
    "retention-apply": ["retention", "apply"],
    "retention-apply-dry-run": ["retention", "apply", "--dry-run"],
    "hold-list": ["hold", "list"],
    "hold-log": ["hold", "log", "--tenant", "t"],
    "hold-release": ["hold", "release", "--tenant", "t", "--hold-id", "hold-1", "--reason", "r"],
    "evidence-export": ["evidence", "export", "--tenant", "t", "--since", "1d", "--out", "OUT"],
}


@pytest.mark.parametrize("argv", READERS.values(), ids=READERS.keys())
def test_a_reader_refuses_a_store_path_with_nothing_there_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    typo = tmp_path / "audit-dat"
    out = tmp_path / "bundle"
    argv = [str(out) if a == "OUT" else a for a in argv]
    err = one_line_error(capsys, ["--dsn", f"chdb://{typo}", *argv])
    assert err == f"autogen-audit {argv[0]}: error: no store at {typo} (check --dsn or AUDIT_STORE_DSN)"
    assert sorted(tmp_path.iterdir()) == []  # neither the store nor a bundle directory


@pytest.mark.parametrize(
    "argv",
    [
        ["keys", "add", "--name", "ops", "--admin"],
        ["retention", "set", "--days", "30"],
        ["hold", "place", "--tenant", "t", "--reason", "case 1", "--actor", "legal"],
    ],
    ids=lambda argv: "-".join(argv[:2]),
)
def test_a_command_that_sets_a_store_up_still_creates_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    monkeypatch.setenv("AUDIT_KEY_DIR", str(tmp_path / "keys"))
    store = tmp_path / "store"
    assert main(["--dsn", f"chdb://{store}", *argv]) == 0, capsys.readouterr().err
    assert store.is_dir()


@pytest.mark.parametrize("tenant", ["", "  "], ids=["empty", "blank"])
@pytest.mark.parametrize(
    "argv",
    [
        ["retention", "set", "--days", "30", "--tenant"],
        ["hold", "place", "--reason", "case 1", "--actor", "legal", "--tenant"],
        ["keys", "add", "--name", "ops", "--tenant"],
        ["keys", "add", "--name", "ops", "--tenant", "acme", "--tenant"],
    ],
    ids=["retention-set", "hold-place", "keys-add", "keys-add-second"],
)
def test_a_tenant_that_names_no_tenant_is_refused_before_anything_is_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str], tenant: str
) -> None:
    # No event has an empty tenant: a rule, hold or key for one would be accepted and never apply.
    monkeypatch.setenv("AUDIT_KEY_DIR", str(tmp_path / "keys"))
    err = one_line_error(capsys, ["--dsn", f"chdb://{tmp_path / 'store'}", *argv, tenant])
    every = ", or * for every tenant" if argv[0] == "retention" else ""
    assert err == (
        f"autogen-audit {argv[0]}: error: --tenant {tenant!r} names no tenant: give a tenant id{every} "
        "(no event has an empty one)"
    )
    assert sorted(tmp_path.iterdir()) == []  # no store set up, no signing key generated


@pytest.mark.parametrize(
    "argv",
    [
        ["hold", "place", "--reason", "case 1", "--actor", "legal", "--tenant", "*"],
        ["keys", "add", "--name", "ops", "--tenant", " * "],
    ],
    ids=["hold-place", "keys-add"],
)
def test_a_wildcard_tenant_is_refused_where_it_would_match_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    # Only retention rules read * as every tenant. A hold for "*" protected no event while looking
    # like it protected all; a key for "*" saw nothing.
    monkeypatch.setenv("AUDIT_KEY_DIR", str(tmp_path / "keys"))
    err = one_line_error(capsys, ["--dsn", f"chdb://{tmp_path / 'store'}", *argv])
    assert err == (
        f"autogen-audit {argv[0]}: error: --tenant '*' is not a tenant here: give one tenant id "
        "(only retention rules take *)"
    )
    assert sorted(tmp_path.iterdir()) == []


def test_a_tenant_in_spaces_is_stored_without_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # No event has " acme " as its tenant: a rule or hold stored with the spaces never applied.
    monkeypatch.setenv("AUDIT_KEY_DIR", str(tmp_path / "keys"))
    dsn = f"chdb://{tmp_path / 'store'}"
    assert main(["--dsn", dsn, "retention", "set", "--tenant", " acme ", "--days", "30"]) == 0
    assert main(["--dsn", dsn, "hold", "place", "--tenant", " acme", "--reason", "case 1", "--actor", "legal"]) == 0
    capsys.readouterr()
    query = (
        "SELECT (SELECT groupArray(tenant_id) FROM retention_policies), (SELECT groupArray(tenant_id) FROM legal_holds)"
    )
    assert main(["--dsn", dsn, "sql", "--format", "json", query]) == 0
    out = capsys.readouterr().out
    assert out.count('"acme"') == 2 and " acme" not in out, out


def test_evidence_export_needs_a_scope_and_never_overwrites(
    dsn: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = ["--dsn", dsn, "evidence", "export", "--tenant", "t"]
    out = tmp_path / "case-42"
    err = one_line_error(capsys, [*export, "--out", str(out)])
    assert err == "autogen-audit evidence: error: export needs --task, or --since for a time range"
    a_file = tmp_path / "notes.txt"
    a_file.write_text("keep me")
    err = one_line_error(capsys, [*export, "--since", "1d", "--out", str(a_file)])
    assert err == f"autogen-audit evidence: error: {a_file} is a file: give a new or empty directory for the bundle"
    out.mkdir()
    (out / "manifest.json").write_text("the bundle handed over last week")
    err = one_line_error(capsys, [*export, "--since", "1d", "--out", str(out)])
    assert err.endswith(f"{out} already holds manifest.json (an earlier bundle?): give a new or empty directory; "
                        "nothing was written")  # fmt: skip
    assert a_file.read_text() == "keep me"
    assert [p.name for p in out.iterdir()] == ["manifest.json"]
    assert (out / "manifest.json").read_text() == "the bundle handed over last week"


@pytest.mark.parametrize("port", ["99999", "-1", "http"])
def test_serve_port_outside_0_65535(dsn: str, capsys: pytest.CaptureFixture[str], port: str) -> None:
    with pytest.raises(SystemExit) as exited:  # argparse: the usage line, then the error
        main(["--dsn", dsn, "serve", "--port", port])
    err = capsys.readouterr().err
    assert exited.value.code == 2 and "Traceback" not in err
    assert err.splitlines()[-1].startswith("autogen-audit serve: error: argument --port: "), err


def test_serve_on_an_address_it_cannot_bind(dsn: str, capsys: pytest.CaptureFixture[str]) -> None:
    # 192.0.2.1 (TEST-NET-1) is on no interface of this machine.
    err = one_line_error(capsys, ["--dsn", dsn, "serve", "--ui-only", "--host", "192.0.2.1", "--port", "0"])
    assert err == "autogen-audit serve: error: cannot listen on 192.0.2.1: Cannot assign requested address"


@pytest.mark.parametrize(
    "argv",
    [["verify"], ["hold", "list"], ["retention", "apply", "--dry-run"]],
    ids=["verify", "hold-list", "retention-apply"],
)
def test_a_pubkey_file_that_is_no_key(
    dsn: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    binary = tmp_path / "key.der"
    binary.write_bytes(b"\x30\x82\xff\xfe secret-bytes")  # not UTF-8 text
    text = tmp_path / "key.pem"
    text.write_text("secret-words, not a key")
    for path in (binary, text):
        err = one_line_error(capsys, ["--dsn", dsn, *argv, "--pubkey", str(path)])
        assert err.endswith(f": error: {path} is not an Ed25519 public key (PEM or base64)"), err
        assert "secret" not in err.replace(str(tmp_path), "")


def test_redact_with_a_policy_file_that_is_not_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_bytes(b"version: 1\n\xff\xfe secret-bytes")
    err = one_line_error(capsys, ["redact", "--policy", str(policy)])
    assert err == f"autogen-audit redact: cannot load redaction policy {policy}: UnicodeDecodeError"


@pytest.mark.parametrize("limit", ["-1", str(2**32), "ten"])
def test_tasks_limit_outside_uint32(dsn: str, capsys: pytest.CaptureFixture[str], limit: str) -> None:
    with pytest.raises(SystemExit) as exited:  # argparse, before any query: not ClickHouse's parse error
        main(["--dsn", dsn, "tasks", "--limit", limit])
    err = capsys.readouterr().err
    assert exited.value.code == 2 and "DB::Exception" not in err
    assert err.splitlines()[-1].startswith("autogen-audit tasks: error: argument --limit: "), err


def test_a_signing_key_file_that_is_no_key(
    dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    binary = tmp_path / "signing.der"
    binary.write_bytes(b"\x30\x82\xff\xfe secret-bytes")
    text = tmp_path / "signing.pem"
    text.write_text("secret-words, not a key")
    expected = {binary: "not UTF-8 text", text: "Error"}
    for path, reason in expected.items():
        monkeypatch.setenv("AUDIT_SIGNING_KEY_FILE", str(path))
        err = one_line_error(capsys, ["--dsn", dsn, "retention", "apply"])
        message = f"AUDIT_SIGNING_KEY_FILE {path}: the signing key cannot be read ({reason})"
        assert err == f"autogen-audit retention: error: {message}"
