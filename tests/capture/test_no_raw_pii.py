"""Planted PII and secrets never reach any String column of any table."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator

import pytest

from collector import Store
from collector._demo import PERSONAS, run_demo

from ._teams import make_hook

NUMBER_RUN = re.compile(r"\+?\d[\d \t().-]{5,}\d")


def planted_values() -> list[str]:
    values: list[str] = []
    for p in PERSONAS:
        values += [p.email, p.phone, p.card, p.card.replace(" ", ""), p.ip, p.api_key]
        values.append(re.sub(r"\D", "", p.phone))  # the phone's digits, however formatted
    return values


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory, redactor: object) -> Iterator[Store]:
    store = Store.open(f"chdb://{tmp_path_factory.mktemp('pii') / 'store'}")

    async def record() -> bool:
        hook = make_hook(store, redactor)
        await run_demo(hook, tenants=4, tasks_per_tenant=2)
        return await hook.aclose()

    assert asyncio.run(record())
    yield store
    store.close()


def string_columns(store: Store) -> list[tuple[str, str]]:
    _, rows = store.query(
        "SELECT table, name FROM system.columns WHERE database = currentDatabase() "
        "AND (type LIKE '%String%' OR type LIKE 'Map%')"
    )
    return [(str(t), str(c)) for t, c in rows]


def test_no_planted_value_in_any_string_column(demo_store: Store) -> None:
    columns = string_columns(demo_store)
    assert ("events", "content") in columns and ("events", "payload") in columns and ("tasks", "error") in columns
    _, count = demo_store.query("SELECT count() FROM events")
    assert count[0][0] > 100
    leaks = []
    for table, column in columns:
        _, rows = demo_store.query(f"SELECT toString(`{column}`) FROM `{table}`")
        blob = "\n".join(str(r[0]) for r in rows)
        # Numbers however formatted: each run of digits and separators, reduced to its digits.
        digit_runs = {re.sub(r"\D", "", m) for m in NUMBER_RUN.findall(blob)}
        for value in planted_values():
            hit = any(value in run for run in digit_runs) if value.isdigit() else value in blob
            if hit:
                leaks.append((table, column, value[:4] + "…"))
    assert leaks == []


def test_redaction_markers_and_summary_are_stored(demo_store: Store) -> None:
    _, rows = demo_store.query("SELECT sumMap(redaction) FROM events WHERE kind = 'send'")
    found = dict(rows[0][0])
    for entity in ("EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IP_ADDRESS", "API_KEY"):
        assert found.get(entity, 0) >= 1, (entity, found)
    _, rows = demo_store.query("SELECT content FROM events WHERE kind = 'send' LIMIT 1")
    assert "<EMAIL_ADDRESS>" in rows[0][0]
