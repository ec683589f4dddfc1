"""Store.insert describes a table's columns once, not before every insert (real chdb)."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from collector import Store


def test_column_types_are_described_once_and_again_after_a_failed_insert(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.command("CREATE TABLE scratch (a String, b UInt32) ENGINE = MergeTree ORDER BY a")
    client = store._client
    described: list[str] = []
    real = client.create_insert_context

    def counting(table: str, *args: Any, **kwargs: Any) -> Any:
        # clickhouse-connect runs DESCRIBE TABLE when it is given no column types (insert() calls
        # this too, with the types it was given).
        given = inspect.signature(real).bind(table, *args, **kwargs).arguments
        if given.get("column_types") is None and given.get("column_type_names") is None:
            described.append(table)
        return real(table, *args, **kwargs)

    monkeypatch.setattr(client, "create_insert_context", counting)
    for n in range(3):
        store.insert("scratch", [(f"r{n}", n)], ("a", "b"))
    assert described == ["scratch"]  # one DESCRIBE for three inserts

    # A column added underneath: another column list is another entry, described once.
    store.command("ALTER TABLE scratch ADD COLUMN c String DEFAULT ''")
    store.insert("scratch", [("r3", 3, "x")], ("a", "b", "c"))
    assert described == ["scratch", "scratch"]

    with pytest.raises(Exception):  # noqa: B017, PT011 - whichever error the driver raises for a bad row
        store.insert("scratch", [("r4", "not a number")], ("a", "b"))
    store.insert("scratch", [("r5", 5)], ("a", "b"))
    assert described == ["scratch", "scratch", "scratch"]  # the failure dropped the cached types
    _, rows = store.query("SELECT a, b, c FROM scratch ORDER BY a")
    assert rows == [("r0", 0, ""), ("r1", 1, ""), ("r2", 2, ""), ("r3", 3, "x"), ("r5", 5, "")]
