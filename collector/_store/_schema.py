"""Apply the versioned DDL under ``deploy/clickhouse/schema`` idempotently."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from ..errors import SchemaError


def find_schema_dir() -> Path:
    """The migrations: under ``deploy/`` in a checkout (and an editable install), under
    ``<prefix>/share/autogen-audit/schema`` in an installed wheel (pyproject's data-files), since a
    wheel's packages land in site-packages, away from ``deploy/``."""
    in_tree = Path(__file__).resolve().parents[2] / "deploy" / "clickhouse" / "schema"
    if in_tree.is_dir():
        return in_tree
    return Path(sys.prefix) / "share" / "autogen-audit" / "schema"


SCHEMA_DIR = find_schema_dir()
_MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")

MIGRATIONS_DDL = """
CREATE TABLE IF NOT EXISTS schema_migrations
(
    version    UInt32,
    name       String,
    applied_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
ORDER BY version
"""


def migration_files(schema_dir: Path = SCHEMA_DIR) -> list[tuple[int, Path]]:
    """The numbered ``NNN_name.sql`` files, in order."""
    found: list[tuple[int, Path]] = []
    for path in sorted(schema_dir.glob("*.sql")):
        match = _MIGRATION_NAME.match(path.name)
        if match:
            found.append((int(match.group(1)), path))
    return found


def split_statements(sql: str) -> list[str]:
    """Split a DDL file on ``;`` at line end, dropping comment-only chunks."""
    statements = []
    for chunk in re.split(r";\s*(?:\n|$)", sql):
        body = "\n".join(line for line in chunk.splitlines() if not line.strip().startswith("--"))
        if body.strip():
            statements.append(body.strip())
    return statements


def schema_version(schema_dir: Path = SCHEMA_DIR) -> int:
    """The newest migration number this code ships."""
    files = migration_files(schema_dir)
    return files[-1][0] if files else 0


def applied_versions(client: Any) -> set[int] | None:
    """The versions ``schema_migrations`` records; None when it cannot be read (not created yet)."""
    try:
        return {int(row[0]) for row in client.query("SELECT version FROM schema_migrations").result_rows}
    except Exception:  # noqa: BLE001 - a missing table (or any failure) means: take the DDL path
        return None


def apply_schema(client: Any, schema_dir: Path = SCHEMA_DIR) -> int:
    """Create or upgrade the schema; returns the version now in force.

    Each migration is written so that re-running it is harmless (IF NOT EXISTS), so a crash
    between a migration and its bookkeeping row only means it runs once more. A schema that
    already records every migration gets no statement at all, only that one SELECT: so the UI
    (``serve --ui-only``, ``keys add``) and the sidecar can run as users without DDL rights on a
    schema an administrator applied (docs/deploy.md).
    """
    files = migration_files(schema_dir)
    if not files:
        # An install that lost its migrations would otherwise open a store without tables, and
        # every insert after would fail far from the cause.
        raise SchemaError(f"no schema migrations found under {schema_dir}: the installation is incomplete")
    recorded = applied_versions(client)
    if recorded is not None and {version for version, _ in files} <= recorded:
        return schema_version(schema_dir)
    try:
        client.command(MIGRATIONS_DDL)
        applied = {int(row[0]) for row in client.query("SELECT version FROM schema_migrations").result_rows}
        for version, path in files:
            if version in applied:
                continue
            for statement in split_statements(path.read_text(encoding="utf-8")):
                client.command(statement)
            client.insert("schema_migrations", [[version, path.stem]], column_names=["version", "name"])
    except Exception as exc:
        missing = sorted({version for version, _ in files} - (recorded or set()))
        raise SchemaError(
            f"cannot apply schema from {schema_dir} (migrations {missing} not recorded in schema_migrations; "
            f"a user without DDL rights needs them applied first): {type(exc).__name__}: {exc}"
        ) from exc
    return schema_version(schema_dir)
