"""An installed wheel (not a checkout) finds its schema, templates and redaction data.

A wheel puts the packages in site-packages, away from ``deploy/``: the schema lookup there found
no migrations, and a store opened from such an install got no tables. The wheel is built from this
checkout and installed, without its dependencies, into a fresh virtualenv that borrows the test
environment's packages (but not its editable install of this project).
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import collector, redaction, audit_ui
from collector import Store
from collector._store._schema import SCHEMA_DIR, migration_files
from pathlib import Path
import sys
assert "site-packages" in collector.__file__, collector.__file__
store = Store.open("chdb://" + sys.argv[1])
tables = {r[0] for r in store.query("SHOW TABLES")[1]}
print(len(migration_files()), sorted(tables & {"events", "tasks", "checkpoints", "api_keys"}))
print((Path(audit_ui.__file__).parent / "templates" / "base.html").is_file(),
      (Path(redaction.__file__).parent / "policies" / "default.yaml").is_file())
"""


@pytest.mark.slow
def test_an_installed_wheel_creates_the_schema(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = wheels.glob("autogen_audit-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr[-2000:]
    # The dependencies, from the test environment: a path line adds the directory without running
    # its .pth files, so this project's editable install there stays out.
    purelib = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site = Path(subprocess.check_output([str(python), "-c", purelib], text=True).strip())
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    probe = subprocess.run(
        [str(python), "-c", PROBE, str(tmp_path / "store")],
        capture_output=True, text=True, timeout=300, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert probe.returncode == 0, probe.stderr[-2000:]
    first, second = probe.stdout.strip().splitlines()[-2:]
    shipped = len(list((ROOT / "deploy" / "clickhouse" / "schema").glob("*.sql")))
    assert first == f"{shipped} ['api_keys', 'checkpoints', 'events', 'tasks']"
    assert second == "True True"


def test_a_store_without_its_migrations_is_a_clear_error(tmp_path: Path) -> None:
    from collector._store._schema import apply_schema
    from collector.errors import SchemaError

    with pytest.raises(SchemaError, match="no schema migrations found"):
        apply_schema(object(), tmp_path)  # nothing reaches the client
