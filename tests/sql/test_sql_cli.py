"""``autogen-audit sql``: formats, limits and one-line errors, in-process and as a real subprocess."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench._seed_store import Seeded
from collector._cli.main import main
from collector._cli.sql import parse_size

ROOT = Path(__file__).resolve().parents[2]
QUERY = "SELECT model, count() AS calls FROM v_llm_calls GROUP BY model ORDER BY model"


def run_cli(seeded: Seeded, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--dsn", seeded.dsn, "sql", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_csv_and_table_agree(seeded: Seeded, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(seeded, capsys, QUERY, "--format", "json")
    assert code == 0
    as_json = [json.loads(line) for line in out.splitlines()]
    assert [r["model"] for r in as_json] == ["claude-3-5-sonnet", "gpt-4o", "gpt-4o-mini"]
    assert sum(r["calls"] for r in as_json) == seeded.summary.llm_calls
    _, out, _ = run_cli(seeded, capsys, QUERY, "--format", "csv")
    as_csv = list(csv.DictReader(io.StringIO(out)))
    assert [(r["model"], int(r["calls"])) for r in as_csv] == [(r["model"], r["calls"]) for r in as_json]
    _, out, _ = run_cli(seeded, capsys, QUERY)
    lines = out.splitlines()
    assert lines[0].split(" | ")[0].strip() == "model"
    assert lines[-1] == "(3 rows)"


def test_refusal_and_limits_are_one_line_errors(seeded: Seeded, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(seeded, capsys, "DROP TABLE events")
    assert (code, out) == (2, "")
    assert err.strip().count("\n") == 0
    assert "only SELECT" in err
    slow = "SELECT count() FROM numbers_mt(1e11)"
    code, _, err = run_cli(seeded, capsys, slow, "--max-execution-time", "0.3")
    assert code == 2
    assert "time limit of 0.3 s" in err
    code, _, err = run_cli(seeded, capsys, "SELECT nosuchcolumn FROM events")
    assert code == 2
    assert "nosuchcolumn" in err
    assert "SETTINGS" not in err
    assert err.count("\n") == 1


def test_max_rows(seeded: Seeded, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(seeded, capsys, "SELECT * FROM numbers(100)", "--max-rows", "10")
    assert code == 2
    assert "Limit for result exceeded" in err


def test_parse_size() -> None:
    assert parse_size("2G") == 2 * 1024**3
    assert parse_size("512M") == 512 * 1024**2
    assert parse_size("1000") == 1000


def test_subprocess_prints_no_stack_trace(tmp_path: Path) -> None:
    # A separate process with its own store: no fixture holds this path. `sql` creates no store, so the
    # directory is made here (the CLI applies the schema to it); this process cannot open a second chdb path.
    (tmp_path / "store").mkdir()
    dsn = f"chdb://{tmp_path / 'store'}"
    cmd = [sys.executable, "-m", "collector", "--dsn", dsn, "sql"]
    done = subprocess.run([*cmd, "SELECT * FROM file('/etc/passwd')"], capture_output=True, text=True,
                          cwd=ROOT, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "autogen-audit sql: error: function file() is not allowed: it reads outside the audit store"
    )
    done = subprocess.run([*cmd, "SELECT count() AS n FROM events", "--format", "json"], capture_output=True,
                          text=True, cwd=ROOT, timeout=120, check=False)  # fmt: skip
    assert (done.returncode, done.stdout.strip()) == (0, '{"n": 0}')
