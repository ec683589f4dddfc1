"""docs/schema.md documents the LIVE schema: every table, view and column after all migrations."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from collector._store._client import Store
from collector._store._schema import migration_files, schema_version

DOC = Path(__file__).resolve().parents[2] / "docs" / "schema.md"
_HEADING = re.compile(r"^### `([a-z_0-9]+)`\s*$")
_ROW = re.compile(r"^\| `([a-z_0-9]+)` \| `([^`]+)` \| (.+?) \| (.+?) \|\s*$")


def documented(text: str) -> dict[str, dict[str, str]]:
    """table -> {column: type} from the markdown tables under each ### `name` heading."""
    tables: dict[str, dict[str, str]] = {}
    current: str | None = None
    for line in text.splitlines():
        heading = _HEADING.match(line)
        if heading:
            current = heading.group(1)
            tables[current] = {}
        elif line.startswith("## "):
            current = None
        elif current is not None:
            row = _ROW.match(line)
            if row:
                assert row.group(3).strip(), f"{current}.{row.group(1)}: no meaning"
                assert row.group(4).strip(), f"{current}.{row.group(1)}: no example"
                tables[current][row.group(1)] = row.group(2)
    return {name: cols for name, cols in tables.items() if cols}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str]]:
    store = Store.open(f"chdb://{tmp_path_factory.mktemp('schemadoc')}")
    try:
        _, rows = store.query(
            "SELECT table, name, type FROM system.columns WHERE database = currentDatabase() ORDER BY table, position"
        )
    finally:
        store.close()
    tables: dict[str, dict[str, str]] = {}
    for table, name, type_ in rows:
        tables.setdefault(table, {})[name] = type_
    return tables


def schema_problems(live: dict[str, dict[str, str]], doc: dict[str, dict[str, str]]) -> list[str]:
    problems = []
    for table, columns in live.items():
        if table not in doc:
            problems.append(f"table {table} is not documented in docs/schema.md")
            continue
        for name, type_ in columns.items():
            if name not in doc[table]:
                problems.append(f"column {table}.{name} ({type_}) is not documented in docs/schema.md")
            elif doc[table][name] != type_:
                documented_type = doc[table][name]
                problems.append(f"column {table}.{name}: documented {documented_type}, live type is {type_}")
        for name in doc[table].keys() - columns.keys():
            problems.append(f"column {table}.{name} is documented but does not exist")
    return problems


def test_every_live_column_is_documented_with_its_type(live: dict[str, dict[str, str]]) -> None:
    problems = schema_problems(live, documented(DOC.read_text(encoding="utf-8")))
    assert not problems, "\n".join(problems)


def test_a_new_migration_column_is_named(live: dict[str, dict[str, str]]) -> None:
    # What another engineer's migration (e.g. an integrity column) would look like before its doc.
    grown = {table: dict(cols) for table, cols in live.items()}
    grown["events"]["row_hash"] = "FixedString(32)"
    grown["tasks"]["version"] = "UInt32"
    problems = schema_problems(grown, documented(DOC.read_text(encoding="utf-8")))
    assert problems == [
        "column events.row_hash (FixedString(32)) is not documented in docs/schema.md",
        "column tasks.version: documented UInt64, live type is UInt32",
    ]


def test_doc_parser_sees_every_view_and_core_table(live: dict[str, dict[str, str]]) -> None:
    # Guards the parser itself: if it silently matched nothing, the test above would pass vacuously.
    doc = documented(DOC.read_text(encoding="utf-8"))
    assert {"events", "tasks", "v_llm_calls", "v_pipeline_health"} <= doc.keys()
    assert len(doc["events"]) == len(live["events"])


def test_schema_version_and_migration_notes_cover_every_migration() -> None:
    text = DOC.read_text(encoding="utf-8")
    version = re.search(r"\*\*Schema version: (\d+)\*\*", text)
    assert version, "docs/schema.md must state **Schema version: N**"
    assert int(version.group(1)) == schema_version(), "update the schema version in docs/schema.md"
    notes = set(re.findall(r"^### (\d{3})$", text, flags=re.MULTILINE))
    missing = [path.name for number, path in migration_files() if f"{number:03d}" not in notes]
    assert not missing, f"migrations without a note in docs/schema.md: {missing}"
