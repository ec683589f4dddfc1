"""SIGTERM/SIGINT: drain the pipeline into the spool and flush what the store accepts, in time.

Kubernetes sends SIGTERM, waits terminationGracePeriodSeconds (30 s by default), then SIGKILLs:
``shutdown_deadline_s`` (10 s by default) must stay well under that grace period. After the drain
the previous disposition of the signal runs as if we had never been there: the default action
terminates the process (exit status says "killed by SIGTERM"), Python's default SIGINT handler
raises KeyboardInterrupt, an app's own handler is called. A second signal during the drain stops
waiting at once: everything the batcher already appended is safe in the spool.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import threading
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Protocol

from ._safe_log import log_failure

__all__ = ["Drainable", "install_signal_handlers"]

log = logging.getLogger("collector")
_Handler = Callable[[int, FrameType | None], object] | int | signal.Handlers | None


class Drainable(Protocol):
    def shutdown(self, timeout: float) -> bool: ...


def install_signal_handlers(
    pipeline: Drainable,
    deadline_s: float,
    *,
    signals: Sequence[signal.Signals] = (signal.SIGTERM, signal.SIGINT),
    before_drain: Callable[[], None] | None = None,
) -> Callable[[], None]:
    """Install the handlers (main thread only); returns a function that puts the previous ones back.

    ``before_drain`` runs first, e.g. to record the app's still-open tasks as unfinished. Called
    with an asyncio loop running, it also makes the signal wake that loop (see _wake_loop_on_signal).
    """
    previous: dict[int, _Handler] = {}
    state = {"draining": False}
    unwake = _wake_loop_on_signal()

    def restore() -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        unwake()

    def handle(signum: int, frame: FrameType | None) -> None:
        if state["draining"]:
            log.warning("collector: second signal %d during the drain; stopping now", signum)
            _chain(signum, frame, signal.SIG_DFL)
            return
        state["draining"] = True
        log.warning("collector: signal %d: draining the audit pipeline (deadline %.1f s)", signum, deadline_s)
        if before_drain is not None:
            try:
                before_drain()
            except Exception as exc:  # noqa: BLE001 - the drain matters more than the callback
                log_failure(log, "collector: before_drain failed", exc)
        result: list[bool] = []
        worker = threading.Thread(target=lambda: result.append(pipeline.shutdown(deadline_s)), daemon=True)
        worker.start()
        worker.join(deadline_s + 1.0)  # the pipeline bounds itself; this is a belt to its braces
        durable = bool(result and result[0])
        log.warning("collector: drain %s", "complete: everything accepted is durable" if durable else "incomplete")
        prior = previous.get(signum, signal.SIG_DFL)
        restore()
        _chain(signum, frame, prior)

    for signum in signals:
        previous[signum] = signal.getsignal(signum)
        signal.signal(signum, handle)
    return restore


def _wake_loop_on_signal() -> Callable[[], None]:
    """The kernel may deliver a signal to any thread (chDB's native threads among them), and Python
    runs the handler in the main thread only when that thread next runs Python code. An asyncio
    loop idle in select() does so only at its next timer, which may be after Kubernetes' SIGKILL.
    So the signal also writes to a socket the running loop watches (Python's wakeup fd), unless
    something (asyncio's own add_signal_handler) already set one. Returns the undo."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return lambda: None
    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    try:
        earlier: int | None = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    except ValueError:  # not the main thread: no handler can be installed from here anyway
        earlier = None
    if earlier != -1:
        if earlier is not None:
            signal.set_wakeup_fd(earlier)
        reader.close()
        writer.close()
        return lambda: None
    read_fd, write_fd = reader.fileno(), writer.fileno()
    loop.add_reader(read_fd, _discard_wakeups, reader)

    def undo() -> None:
        if reader.fileno() == -1:
            return  # undone already (the handler restores, and so may the app)
        current = signal.set_wakeup_fd(-1)
        if current != write_fd:
            signal.set_wakeup_fd(current)  # someone replaced ours since: theirs is not ours to clear
        with contextlib.suppress(RuntimeError):  # the loop is closed already
            loop.remove_reader(read_fd)
        reader.close()
        writer.close()

    return undo


def _discard_wakeups(reader: socket.socket) -> None:
    with contextlib.suppress(OSError):
        reader.recv(4096)


def _chain(signum: int, frame: FrameType | None, prior: _Handler) -> None:
    if callable(prior):
        prior(signum, frame)
    elif prior == signal.SIG_IGN:
        return
    else:  # SIG_DFL or unknown (set from C): let the kernel apply the default action
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
