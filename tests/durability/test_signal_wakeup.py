"""A signal delivered to another thread still runs the drain promptly in an idle asyncio app."""

from __future__ import annotations

import asyncio
import signal
import threading
import time

from collector._signals import install_signal_handlers


class _Pipeline:
    """Stands in for the pipeline (the one piece under test is the signal plumbing)."""

    def __init__(self) -> None:
        self.shutdown_at = 0.0

    def shutdown(self, timeout: float) -> bool:
        self.shutdown_at = time.monotonic()
        return True


async def test_a_signal_delivered_to_another_thread_wakes_the_idle_loop() -> None:
    pipeline = _Pipeline()
    chained: list[int] = []
    previous = signal.signal(signal.SIGUSR1, lambda signum, frame: chained.append(signum))
    restore = install_signal_handlers(pipeline, 5.0, signals=(signal.SIGUSR1,))
    try:
        # The kernel may hand a process signal to any thread; here it goes to another one on
        # purpose, once the loop is idle in select().
        sent_at: list[float] = []

        def send() -> None:
            time.sleep(0.5)
            sent_at.append(time.monotonic())
            signal.pthread_kill(threading.get_ident(), signal.SIGUSR1)

        sender = threading.Thread(target=send)
        sender.start()
        await asyncio.sleep(3)  # idle: without a wakeup the handler would run only after this
        sender.join()
        assert pipeline.shutdown_at, "the drain never ran"
        assert pipeline.shutdown_at - sent_at[0] < 1.0
        assert chained == [signal.SIGUSR1]  # then the signal's previous handler ran
        assert signal.set_wakeup_fd(-1) == -1  # and the wakeup fd was put back as it was
    finally:
        restore()
        signal.signal(signal.SIGUSR1, previous)
