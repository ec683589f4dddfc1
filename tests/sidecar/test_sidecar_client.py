"""The remote hook's sink (RemoteSink): encoder and shipper threads, retries, the bounded buffer.

The receiver here is a stand-in for the sidecar's ingest route that can hold its answers and
refuse: the client is the one piece under test (the real sidecar is in test_sidecar_remote.py).
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from autogen_agentchat.messages import TextMessage

from collector import AuditSettings
from collector._events import CapturedEvent, EventKind, TaskRef
from collector._sidecar import SidecarSettings
from collector._sidecar._client import RemoteSink
from collector._sidecar._wire import decode_batch

TASK = TaskRef("acme", "corr-client", "u-1", "team-1", "RoundRobinGroupChat")


class Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    bodies: ClassVar[list[bytes]] = []
    statuses: ClassVar[list[int]] = []  # answered in order, then 200
    gate: ClassVar[threading.Event]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.bodies.append(body)
        self.gate.wait(30)
        status = self.statuses.pop(0) if self.statuses else 200
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, type[Receiver]]]:
    handler = type("Handler", (Receiver,), {"bodies": [], "statuses": [], "gate": threading.Event()})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", handler
    handler.gate.set()
    httpd.shutdown()
    httpd.server_close()


def sink_for(url: str, **settings: Any) -> RemoteSink:
    audit = AuditSettings(sidecar_url=url, ingest_token="t" * 32, snapshot_interval_s=0.02, **settings)  # type: ignore[arg-type]
    return RemoteSink(audit, SidecarSettings(remote_retry_initial_s=0.01, remote_retry_max_s=0.05))


def event(n: int, payload: Any) -> CapturedEvent:
    return CapturedEvent(n, TASK, n, time.time_ns(), EventKind.PUBLISH, payload)


def wait_for(condition: Callable[[], bool], timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def stored(handler: type[Receiver]) -> list[CapturedEvent]:
    return [e for body in handler.bodies for e in decode_batch(body)]


def test_a_post_waiting_on_the_sidecar_does_not_hold_message_objects(receiver: tuple[str, type[Receiver]]) -> None:
    url, handler = receiver
    sink = sink_for(url, batch_interval_s=0.05)
    try:
        for n in range(1, 51):
            assert sink.submit(event(n, TextMessage(content=f"first {n}", source="a")))
        assert wait_for(lambda: len(handler.bodies) == 1)  # its answer is held
        messages = [TextMessage(content=f"second {n}", source="a") for n in range(51, 101)]
        refs = [weakref.ref(m) for m in messages]
        for n, message in zip(range(51, 101), messages, strict=True):
            assert sink.submit(event(n, message))
        del messages, message
        # The shipper is still waiting for the first answer; the encoder has moved on.
        assert wait_for(lambda: all(ref() is None for ref in refs), timeout=5)
        assert len(handler.bodies) == 1 and sink.stats().acknowledged == 0
        handler.gate.set()
        assert sink.flush(10)
        stats = sink.stats()
        assert (stats.accepted, stats.acknowledged, stats.lost, stats.queued) == (100, 100, 0, 0)
        got = stored(handler)
        assert len({e.event_id for e in got}) == 100
        assert sorted(e.payload["content"] for e in got) == sorted(
            [f"first {n}" for n in range(1, 51)] + [f"second {n}" for n in range(51, 101)]
        )
    finally:
        assert sink.shutdown(10)


def test_refused_deliveries_are_retried_and_a_full_buffer_is_counted_and_reported(
    receiver: tuple[str, type[Receiver]],
) -> None:
    url, handler = receiver
    handler.statuses.extend([503, 429])  # retryable: the same batch is sent again
    sink = sink_for(url, queue_max_events=20, batch_interval_s=0.05)
    try:
        accepted = [sink.submit(event(n, {"step": n})) for n in range(1, 31)]
        assert accepted == [True] * 20 + [False] * 10  # the bound counts what waits in either thread
        assert sink.stats().lost == 10
        handler.gate.set()
        assert sink.flush(10)
        stats = sink.stats()
        assert (stats.accepted, stats.acknowledged, stats.lost, stats.retries) == (20, 20, 10, 2)
        got = stored(handler)
        delivered = {e.event_id for e in got if e.kind == EventKind.PUBLISH}
        assert len(delivered) == 20  # three posts of the batch, one id each: the sidecar deduplicates
        losses = {e.event_id: e.payload for e in got if e.kind == EventKind.LOSS}  # retried with its batch
        assert [(p["lost"], p["first_seq"]) for p in losses.values()] == [(10, 21)]
    finally:
        assert sink.shutdown(10)  # every accepted event acknowledged; the refused ones are reported


def test_a_stop_while_the_sidecar_is_down_ends_its_wait_and_counts_every_event_lost() -> None:
    from ._procs import free_port

    audit = AuditSettings(sidecar_url=f"http://127.0.0.1:{free_port()}", ingest_token="t" * 32)  # type: ignore[arg-type]
    # Backoff long enough that a stop waiting it out would be seen.
    sink = RemoteSink(audit, SidecarSettings(remote_retry_initial_s=5, remote_retry_max_s=5))
    for n in range(1, 11):
        assert sink.submit(event(n, {"step": n}))
    assert wait_for(lambda: sink.stats().retries >= 1)  # refused, now waiting to retry
    started = time.monotonic()
    assert not sink.shutdown(0.5)
    assert wait_for(lambda: sink.stats().lost == 10, timeout=1.5)
    assert time.monotonic() - started < 2.5
    assert sink.stats().acknowledged == 0
