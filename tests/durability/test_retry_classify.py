"""classify() against real failures: chdb server errors and clickhouse-connect transport errors."""

from __future__ import annotations

import http.server
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from collector._retry import classify, error_code, explain


@pytest.fixture(scope="module")
def chdb_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("retry-chdb")


@pytest.fixture(scope="module")
def client(chdb_path: Path) -> Iterator[Any]:
    import clickhouse_connect

    c = clickhouse_connect.get_client(dsn=f"chdb://{chdb_path}")
    c.command("CREATE TABLE t (a UInt32, ts DateTime) ENGINE = MergeTree ORDER BY a")
    c.command(
        "CREATE TABLE parts (a UInt32) ENGINE = MergeTree ORDER BY a "
        "SETTINGS parts_to_throw_insert = 1, parts_to_delay_insert = 1"
    )
    c.command("SYSTEM STOP MERGES parts")
    yield c
    c.close()


def _raised(fn: Callable[[], object]) -> BaseException:
    try:
        fn()
    except Exception as exc:
        return exc
    raise AssertionError("expected an error")


PERMANENT_CASES: list[tuple[str, Callable[[Any], object], int | None]] = [
    ("missing table", lambda c: c.insert("missing", [[1]], column_names=["a"]), 60),
    ("missing column", lambda c: c.command("INSERT INTO t (nope) VALUES (1)"), 16),
    ("unknown identifier", lambda c: c.query("SELECT nope FROM t"), 47),
    ("type mismatch", lambda c: c.query("SELECT CAST(tuple(1, 2) AS Tuple(UInt8))"), 53),
    ("cannot parse", lambda c: c.query("SELECT toUInt32('abc')"), 6),
    ("cannot parse datetime", lambda c: c.command("INSERT INTO t VALUES (1, 'zz')"), None),
    ("syntax error", lambda c: c.query("SELEC 1"), 62),
    ("client-side bad type", lambda c: c.insert("t", [["x", None]], column_names=["a", "ts"]), None),
    ("client-side unknown column", lambda c: c.insert("t", [[1]], column_names=["nope"]), None),
]


@pytest.mark.parametrize(("label", "action", "code"), PERMANENT_CASES, ids=[c[0] for c in PERMANENT_CASES])
def test_schema_and_data_errors_are_permanent(
    client: Any, label: str, action: Callable[[Any], object], code: int | None
) -> None:
    exc = _raised(lambda: action(client))
    assert classify(exc) == "permanent", (label, explain(exc), str(exc)[:200])
    if code is not None:
        assert error_code(exc) == code


RETRYABLE_CASES: list[tuple[str, Callable[[Any], object], int]] = [
    (
        "timeout exceeded",
        lambda c: c.query(
            "SELECT count() FROM numbers(10000000000) WHERE sipHash64(number) = 1",
            settings={"max_execution_time": 0.1},
        ),
        159,
    ),
    (
        "memory limit",
        lambda c: c.query("SELECT groupArray(number) FROM numbers(10000000)", settings={"max_memory_usage": 1_000_000}),
        241,
    ),
    ("too many parts", lambda c: [c.insert("parts", [[i]], column_names=["a"]) for i in range(3)], 252),
]


@pytest.mark.parametrize(("label", "action", "code"), RETRYABLE_CASES, ids=[c[0] for c in RETRYABLE_CASES])
def test_overload_errors_are_retryable(client: Any, label: str, action: Callable[[Any], object], code: int) -> None:
    exc = _raised(lambda: action(client))
    assert error_code(exc) == code, str(exc)[:200]
    assert classify(exc) == "retryable", explain(exc)


def test_chdb_path_locked_by_another_process_is_retryable(client: Any, chdb_path: Path) -> None:
    child = (
        "import sys, clickhouse_connect\nfrom collector._retry import explain\n"
        "try:\n    clickhouse_connect.get_client(dsn='chdb://' + sys.argv[1])\n"
        "except Exception as exc:\n    print(explain(exc)[0], '|', str(exc)[:300].replace(chr(10), ' '))\n"
        "else:\n    print('opened')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", child, str(chdb_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert proc.stdout.startswith("retryable |"), proc.stdout + proc.stderr[-500:]
    # chdb prints "Cannot lock file" on stderr; the exception itself only says the engine failed.
    assert "Cannot lock file" in proc.stderr + proc.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_connection_refused_is_retryable() -> None:
    import clickhouse_connect

    port = _free_port()  # bound then closed: nothing listens there
    exc = _raised(lambda: clickhouse_connect.get_client(host="127.0.0.1", port=port, connect_timeout=1))
    assert "Connection refused" in str(exc)
    assert classify(exc) == "retryable"
    assert error_code(exc) is None


def test_server_that_never_answers_is_retryable() -> None:
    import clickhouse_connect

    with socket.socket() as listener:  # accepts the TCP handshake in its backlog, never replies
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        exc = _raised(
            lambda: clickhouse_connect.get_client(
                host="127.0.0.1", port=port, connect_timeout=1, send_receive_timeout=1
            )
        )
    assert classify(exc) == "retryable", explain(exc)


class _Unavailable(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self._answer()

    def do_GET(self) -> None:
        self._answer()

    def _answer(self) -> None:
        status = self.server.status  # type: ignore[attr-defined]
        body = self.server.body  # type: ignore[attr-defined]
        self.send_response(status)
        for key, value in self.server.headers.items():  # type: ignore[attr-defined]
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.mark.parametrize(
    ("status", "headers", "body", "expected"),
    [
        (503, {}, b"Service Unavailable", "retryable"),
        (
            500,
            {"X-ClickHouse-Exception-Code": "516"},
            b"Code: 516. DB::Exception: default: Authentication failed. (AUTHENTICATION_FAILED)",
            "permanent",
        ),
        (
            500,
            {"X-ClickHouse-Exception-Code": "242"},
            b"Code: 242. DB::Exception: Table is in readonly mode. (TABLE_IS_READ_ONLY)",
            "retryable",
        ),
    ],
)
def test_http_error_responses(status: int, headers: dict[str, str], body: bytes, expected: str) -> None:
    import clickhouse_connect

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Unavailable)
    server.status, server.headers, server.body = status, headers, body  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        exc = _raised(
            lambda: clickhouse_connect.get_client(
                host="127.0.0.1", port=server.server_address[1], connect_timeout=1, query_retries=0
            )
        )
    finally:
        server.shutdown()
        server.server_close()
    assert classify(exc) == expected, (explain(exc), str(exc)[:300])


def test_unlisted_code_and_plain_bugs() -> None:
    class FakeServerError(Exception):
        pass

    assert explain(FakeServerError("Code: 4242. DB::Exception: something new"))[0] == "retryable"
    assert classify(ValueError("cannot serialize")) == "permanent"
    assert classify(ConnectionResetError()) == "retryable"
    assert classify(TimeoutError()) == "retryable"
    outer = RuntimeError("wrapped")
    outer.__cause__ = ConnectionRefusedError(111, "refused")
    assert classify(outer) == "retryable"  # the cause decides
