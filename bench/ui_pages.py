"""Server time of the UI's pages on a store of 1M events over 10k tasks (chdb, this machine).

    /work/venv/bin/python bench/ui_pages.py [--tasks 10000] [--events-per-task 100] [--runs 40]

Seeds a throw-away chdb store with INSERT ... SELECT FROM numbers() (fast, no Python rows), then
times requests through the ASGI app in-process (no network): the server's own time. Each figure
is printed in ms and as a ratio to /api/health, measured the same way in the same process.
Targets (issue #3): task list p95 < 100 ms, 1,000-event timeline p95 < 150 ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient

from audit_ui import UISettings, add_key, create_app
from collector._store._client import Store

TENANTS = 10
SEED_EVENTS = """
INSERT INTO events (tenant_id, correlation_id, seq, ts, event_id, kind, user_id, team_type, sender, recipient,
                    topic_type, topic_source, message_type, source, content, payload, prompt_tokens,
                    completion_tokens, model, redaction, redaction_status, content_chars)
SELECT
    concat('tenant-', toString(t % {tenants})) AS tenant_id,
    concat('task-', toString(t)) AS correlation_id,
    s AS seq,
    toDateTime64('2025-01-01 00:00:00', 6, 'UTC') + toIntervalSecond(t * 60) + toIntervalMillisecond(s * 200),
    toString(generateUUIDv4()),
    ['publish', 'send', 'llm_call', 'response', 'agentchat_event', 'tool_call'][1 + s % 6],
    concat('user-', toString(t % 97)), 'RoundRobinGroupChat',
    ['assistant/1', 'critic/1', 'user'][1 + s % 3], ['critic/1', 'assistant/1', ''][1 + s % 3],
    'group_topic', concat('tenant-', toString(t % {tenants})), 'TextMessage',
    ['assistant', 'critic', 'user'][1 + s % 3],
    concat('Message ', toString(s), ' of task ', toString(t),
           ' about order ', toString(cityHash64(t, s) % 100000),
           if(s % 7 = 0, ' for <EMAIL_ADDRESS>', ''), ' ', repeat('lorem ipsum ', 1 + s % 20)) AS content,
    concat('{{"type":"TextMessage","content":"', content, '"}}'),
    s % 50, s % 20, 'replay', if(s % 7 = 0, map('EMAIL_ADDRESS', toUInt32(1)), map()), 'ok', length(content)
FROM (SELECT intDiv(number, {per}) AS t, number % {per} AS s FROM numbers({n}))
"""
SEED_LONG = SEED_EVENTS.replace(
    "FROM (SELECT intDiv(number, {per}) AS t, number % {per} AS s FROM numbers({n}))",
    "FROM (SELECT 0 AS t, {per} + number AS s FROM numbers({extra}))",
)
SEED_TASKS = """
INSERT INTO tasks (tenant_id, correlation_id, user_id, team_type, started_at, finished_at, status, abnormal,
                   stop_reason, message_count, prompt_tokens, completion_tokens, version)
SELECT concat('tenant-', toString(number % {tenants})), concat('task-', toString(number)),
       concat('user-', toString(number % 97)), 'RoundRobinGroupChat',
       toDateTime64('2025-01-01 00:00:00', 6, 'UTC') + toIntervalSecond(number * 60),
       toDateTime64('2025-01-01 00:00:20', 6, 'UTC') + toIntervalSecond(number * 60),
       if(number % 10 = 3, 'abnormal', 'normal'), number % 10 = 3,
       if(number % 10 = 3, 'Maximum number of messages 10 reached', 'Text ''TERMINATE'' mentioned'),
       if(number = 0, 1000, {per}), 1000, 400, 2
FROM numbers({tasks})
"""


def timed(client: TestClient, url: str, headers: dict[str, str], runs: int) -> list[float]:
    client.get(url, headers=headers)  # warm caches and templates
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url, headers=headers)
        out.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code, response.text[:200])
    return out


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--events-per-task", type=int, default=100)
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    per, tasks = args.events_per_task, args.tasks
    with tempfile.TemporaryDirectory(prefix="ui-bench-") as tmp:
        store = Store.open(f"chdb://{tmp}")
        start = time.perf_counter()
        store.command(SEED_EVENTS.format(tenants=TENANTS, per=per, n=per * tasks))
        store.command(SEED_LONG.format(tenants=TENANTS, per=per, extra=1000 - per))
        store.command(SEED_TASKS.format(tenants=TENANTS, per=per, tasks=tasks))
        _, [(n_events,)] = store.query("SELECT count() FROM events")
        print(f"seeded {n_events:,} events over {tasks:,} tasks in {time.perf_counter() - start:.1f} s")
        tenant_key = {"Authorization": "Bearer " + add_key(store, "bench-t0", ["tenant-0"], admin=False)}
        admin_key = {"Authorization": "Bearer " + add_key(store, "bench-admin", [], admin=True)}
        app = create_app(store, UISettings(cookie_secure=False, key_cache_s=60))
        cases = [
            ("baseline /api/health", "/api/health", admin_key),
            ("task list, admin, page 1", "/tasks", admin_key),
            ("task list, one-tenant key", "/tasks", tenant_key),
            ("task list, status+stop_reason filter", "/tasks?status=abnormal&stop_reason=maximum", admin_key),
            ("task list, time range", "/tasks?since=2025-01-03T00:00&until=2025-01-04T00:00", admin_key),
            ("task list, text search", "/tasks?q=order+4242", admin_key),
            ("task list, agent filter", "/tasks?agent=critic&tenant=tenant-0", admin_key),
            ("timeline, 1,000 events", "/tasks/task-0?tenant=tenant-0", admin_key),
            ("api events, 1,000 events", "/api/tasks/task-0/events?tenant=tenant-0", admin_key),
        ]
        with TestClient(app, base_url="http://127.0.0.1") as client:
            results = [(name, timed(client, url, headers, args.runs)) for name, url, headers in cases]
        base = statistics.median(results[0][1])
        print(f"{'case':40} {'median ms':>10} {'p95 ms':>8} {'x baseline':>11}")
        for name, values in results:
            med = statistics.median(values)
            print(f"{name:40} {med:10.1f} {p95(values):8.1f} {med / base:11.1f}")
        store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
