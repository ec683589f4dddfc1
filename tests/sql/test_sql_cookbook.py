"""Every ```sql block of docs/sql-cookbook.md runs, through the read-only guard, with the promised columns."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench._seed_store import DEGRADING_TENANT, Seeded
from collector._store._readonly import run_read_only

COOKBOOK = Path(__file__).resolve().parents[2] / "docs" / "sql-cookbook.md"
_BLOCK = re.compile(r"^### (?P<title>.+?)\n.*?^```sql\n(?P<sql>.*?)^```", re.MULTILINE | re.DOTALL)


def recipes() -> list[tuple[str, str]]:
    return [(m.group("title"), m.group("sql")) for m in _BLOCK.finditer(COOKBOOK.read_text(encoding="utf-8"))]


def expected_columns(sql: str) -> list[str]:
    match = re.search(r"^-- columns: (.+)$", sql, flags=re.MULTILINE)
    assert match, "each cookbook query states its columns in a '-- columns:' line"
    return [c.strip() for c in match.group(1).split(",")]


def test_cookbook_has_at_least_15_distinct_questions() -> None:
    found = recipes()
    assert len(found) >= 15
    assert len({sql for _, sql in found}) == len(found)
    # Every ```sql fence is a recipe: none escapes the runner below by sitting outside a ### section.
    assert COOKBOOK.read_text(encoding="utf-8").count("```sql") == len(found)


@pytest.mark.parametrize(("title", "sql"), recipes(), ids=[t.split(".")[0] for t, _ in recipes()])
def test_recipe_runs_and_returns_its_columns(seeded: Seeded, title: str, sql: str) -> None:
    columns, rows = run_read_only(seeded.store, sql, server=False)
    assert columns == expected_columns(sql)
    assert rows, f"{title}: no rows on the seeded store"


def test_doubled_abnormal_rate_recipe_finds_the_degrading_tenant(seeded: Seeded) -> None:
    (sql,) = [sql for title, sql in recipes() if "doubled" in title]
    _, rows = run_read_only(seeded.store, sql, server=False)
    assert DEGRADING_TENANT in [r[0] for r in rows]


def test_repeated_tool_failure_recipe_finds_only_repeats(seeded: Seeded) -> None:
    (sql,) = [sql for title, sql in recipes() if "repeated tool failures" in title]
    _, rows = run_read_only(seeded.store, sql, server=False)
    assert all(r[3] >= 3 for r in rows)
    assert {r[2] for r in rows} == {"fetch_url"}  # the seeder's stuck tasks retry fetch_url
