"""What the hook costs the agents: wall time of the same team workload under several set-ups.

Configurations, interleaved round by round (a fresh runtime per batch of concurrent teams):
  none        no intervention handler
  empty       a handler that does nothing: what AutoGen itself charges for having any handler
  capture     our hook + its capture log; the whole pipeline (attribution replay, JSON snapshots,
              redaction, insert) held off until the timed section ends: hook + queue cost
  snapshot    as capture, but with the snapshot stage running concurrently as in production (the
              capture log replayed and payloads turned into JSON text every 20 ms); redaction and
              insert after the timed section
  total       our hook with the in-process pipeline redacting and writing to chdb concurrently
  otel        AutoGen's built-in runtime tracing: BatchSpanProcessor + OTLP/HTTP exporter to a local receiver
  naive       a handler that logs every message inline as JSON

Prints per configuration the median wall time and its ratio to `none`, the full garbage
collections that fell inside its timed sections (each rescans every object of the process, so
one that lands in a sample moves it by far more than the effects measured; every sample starts
right after an untimed full collection), then the time spent inside
our handler per call (median, p99) from an instrumented run, and the events accepted vs written.
The per-call time is given two ways: the whole call (coroutine creation included) and the body
(the handler's own code), each next to an empty handler timed the same way.

    python bench/hook_overhead.py [--rounds 7] [--teams 8] [--batches 4] [--configs none,capture]
                                  [--samples-json PATH]

``--samples-json`` also writes every sample, for bench/repeat.py to pool runs of fresh processes.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")

from autogen_core import AgentId, DefaultInterventionHandler, MessageContext, SingleThreadedAgentRuntime

from collector import AuditHook, AuditSettings, Store, build_pipeline
from collector._demo import PERSONAS, build_team, task_text
from collector._log_capture import attach

logging.getLogger("autogen_core.events").setLevel(logging.ERROR)
logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
_C = TypeVar("_C")


class NaiveJsonLogger(DefaultInterventionHandler):
    """What many apps do first: json-dump every message into a log, inline on the dispatch loop."""

    def __init__(self) -> None:
        self.log = logging.getLogger("bench.naive")
        self.log.propagate = False
        self.log.setLevel(logging.INFO)
        self.log.addHandler(logging.FileHandler(os.devnull))

    def _dump(self, message: Any) -> None:
        dump = getattr(message, "model_dump", None)
        body = dump(mode="json") if callable(dump) else repr(message)
        self.log.info(json.dumps({"type": type(message).__name__, "body": body}, default=str))

    async def on_send(self, message: Any, *, message_context: MessageContext, recipient: AgentId) -> Any:
        self._dump(message)
        return message

    async def on_publish(self, message: Any, *, message_context: MessageContext) -> Any:
        self._dump(message)
        return message

    async def on_response(self, message: Any, *, sender: AgentId, recipient: AgentId | None) -> Any:
        self._dump(message)
        return message


class TimedHandler(DefaultInterventionHandler):
    """Wraps a handler and times each of its calls, two ways, as the runtime would make them.

    ``samples``: the whole call: looking the handler up on the instance, creating its coroutine
    and running it. ``bodies``: only the handler's own code, from its first instruction to its
    return: the coroutine is created first, then awaited, as the runtime awaits it (a coroutine
    that returns without suspending hands its value back without raising StopIteration). Both
    include the timer's own cost, the same for our hook and for the empty handler.
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.samples: list[int] = []
        self.bodies: list[int] = []

    async def _timed(self, name: str, message: Any, kw: dict[str, Any]) -> Any:
        t0 = time.perf_counter_ns()
        coro = getattr(self.inner, name)(message, **kw)
        t1 = time.perf_counter_ns()
        result = await coro
        t2 = time.perf_counter_ns()
        self.samples.append(t2 - t0)
        self.bodies.append(t2 - t1)
        return result

    async def on_send(self, message: Any, **kw: Any) -> Any:
        return await self._timed("on_send", message, kw)

    async def on_publish(self, message: Any, **kw: Any) -> Any:
        return await self._timed("on_publish", message, kw)

    async def on_response(self, message: Any, **kw: Any) -> Any:
        return await self._timed("on_response", message, kw)


async def workload(make_runtime: Callable[[], SingleThreadedAgentRuntime], hook: AuditHook | None, teams: int,
                   batches: int) -> float:  # fmt: skip
    """Run `batches` batches of `teams` concurrent teams; returns the wall time in seconds.

    The hook's event-logger tap is attached for this run only (taps are process-wide), so the
    other configurations run with AutoGen's loggers exactly as without us.
    """
    detach = attach(hook._log_capture) if hook is not None else None
    try:
        return await _workload(make_runtime, hook, teams, batches)
    finally:
        if detach is not None:
            detach()


async def _workload(make_runtime: Callable[[], SingleThreadedAgentRuntime], hook: AuditHook | None, teams: int,
                    batches: int) -> float:  # fmt: skip
    start = time.perf_counter()
    for b in range(batches):
        runtime = make_runtime()
        runtime.start()

        async def one(i: int, runtime: SingleThreadedAgentRuntime = runtime) -> None:
            p = PERSONAS[i % len(PERSONAS)]
            team = build_team(runtime, p, abnormal=False, broken_tool=False)
            if hook is None:
                await team.run(task=task_text(p))
                return
            async with hook.task(team, tenant_id=f"t{i % 4}") as task:
                task.record_result(await team.run(task=task_text(p)))

        await asyncio.gather(*(one(b * teams + i) for i in range(teams)))
        await runtime.stop_when_idle()
    return time.perf_counter() - start


def isolated_call_cost(hook: AuditHook, calls: int = 20_000) -> tuple[float, float]:
    """Median and p99 (us) of on_publish on a warm loop: the handler's own work, without the cache
    misses a real workload adds to every instruction (those show in the in-workload figures)."""
    from autogen_agentchat.messages import TextMessage
    from autogen_core import CancellationToken, TopicId

    team = "bench-team"
    scope = hook.task(team, tenant_id="bench")
    message = TextMessage(content="hi", source="a")
    context = MessageContext(
        sender=AgentId(f"manager_{team}", team), topic_id=TopicId(f"group_topic_{team}", team), is_rpc=False,
        cancellation_token=CancellationToken(), message_id="m",
    )  # fmt: skip

    async def run() -> list[int]:
        samples = []
        for _ in range(calls):
            t = time.perf_counter_ns()
            await hook.on_publish(message, message_context=context)
            samples.append(time.perf_counter_ns() - t)
        return samples

    samples = sorted(asyncio.run(run()))
    scope.close()
    return statistics.median(samples) / 1000, samples[int(len(samples) * 0.99) - 1] / 1000


def held_settings(dsn: str, *, snapshot: bool = True) -> AuditSettings:
    """Settings that keep the pipeline from redacting or inserting until flushed. With ``snapshot``
    the snapshot stage still runs every 20 ms, as in production; without it nothing but the hook
    and its capture log runs until the flush (the issue's "capture cost: hook + queue")."""
    return AuditSettings(
        store_dsn=dsn, batch_interval_s=3600, batch_max_events=10**9, queue_max_events=10**7, capture_loggers=False,
        snapshot_interval_s=0.02 if snapshot else 3600.0,
    )  # fmt: skip


class Collections:
    """Counts the garbage collections of one generation (all with None) and the time spent in them."""

    def __init__(self, generation: int | None = None) -> None:
        self.generation = generation
        self.count = 0
        self.seconds = 0.0
        self._start = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if self.generation is not None and info["generation"] != self.generation:
            return
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.count += 1
            self.seconds += time.perf_counter() - self._start


def rotated(names: list[str], round_index: int) -> list[str]:
    """The configurations in order, starting at a different one each round: drift within a round
    is not charged to the same configuration every time."""
    start = round_index % len(names)
    return names[start:] + names[:start]


def paired_ratios(samples: list[float], baseline: list[float]) -> str:
    """Median and interquartile range of per-round ratios: each round's sample over the same round's
    baseline, so slow drift of the machine (large on a shared VM) cancels out. With 10 rounds or
    more, also a 95% bootstrap interval of that median: whether a target is met needs the median's
    uncertainty, not the spread of single rounds."""
    ratios = sorted(s / b for s, b in zip(samples, baseline, strict=True))
    if len(ratios) < 4:
        return f"{statistics.median(ratios):.2f}x"
    q1, _, q3 = statistics.quantiles(ratios, n=4)
    text = f"{statistics.median(ratios):.2f}x ({q1:.2f}-{q3:.2f})"
    if len(ratios) >= 10:
        rng = random.Random(0)
        medians = sorted(statistics.median(rng.choices(ratios, k=len(ratios))) for _ in range(2000))
        text += f" CI95 {medians[50]:.2f}-{medians[1949]:.2f}"
    return text


def selected(configs: dict[str, _C], wanted: str) -> dict[str, _C]:
    """The configurations named in ``wanted`` (comma-separated), in their order; ``none`` always."""
    names = {"none", *wanted.split(",")}
    return {name: value for name, value in configs.items() if name in names}


def write_samples(path: str | None, times: dict[str, list[float]], **extra: dict[str, list[float]]) -> None:
    """Every sample of a run, per configuration in round order (bench/repeat.py pools runs)."""
    if path:
        Path(path).write_text(json.dumps({"times": times, **extra}))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--teams", type=int, default=8)
    parser.add_argument("--batches", type=int, default=4)
    parser.add_argument("--configs", default="none,empty,capture,snapshot,total,otel,naive",
                        help="configurations to time (none always is): spend the rounds on fewer")  # fmt: skip
    parser.add_argument("--samples-json", metavar="PATH", help="also write every sample here (for bench/repeat.py)")
    args = parser.parse_args()

    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    from redaction import Redactor

    port = free_port()
    receiver = subprocess.Popen([sys.executable, str(Path(__file__).with_name("_otlp_sink.py")), str(port)])
    tmp = tempfile.mkdtemp(prefix="hook-bench-")
    store = Store.open(f"chdb://{tmp}/store")
    redactor = Redactor()
    held = held_settings(store.dsn, snapshot=False)
    snapshotting = held_settings(store.dsn)
    live = AuditSettings(store_dsn=store.dsn, capture_loggers=False)
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=f"http://127.0.0.1:{port}/v1/traces")))
    naive = NaiveJsonLogger()
    capture_hook = AuditHook(build_pipeline(held, store=store, redactor=redactor), held)
    snapshot_hook = AuditHook(build_pipeline(snapshotting, store=store, redactor=redactor), snapshotting)
    total_hook = AuditHook(build_pipeline(live, store=store, redactor=redactor), live)
    timed_hook = TimedHandler(AuditHook(build_pipeline(snapshotting, store=store, redactor=redactor), snapshotting))
    timed_empty = TimedHandler(DefaultInterventionHandler())

    configs: dict[str, tuple[Callable[[], SingleThreadedAgentRuntime], AuditHook | None]] = {
        "none": (lambda: SingleThreadedAgentRuntime(), None),
        "empty": (lambda: SingleThreadedAgentRuntime(intervention_handlers=[DefaultInterventionHandler()]), None),
        "capture": (lambda: SingleThreadedAgentRuntime(intervention_handlers=[capture_hook]), capture_hook),
        "snapshot": (lambda: SingleThreadedAgentRuntime(intervention_handlers=[snapshot_hook]), snapshot_hook),
        "total": (lambda: SingleThreadedAgentRuntime(intervention_handlers=[total_hook]), total_hook),
        "otel": (lambda: SingleThreadedAgentRuntime(tracer_provider=provider), None),
        "naive": (lambda: SingleThreadedAgentRuntime(intervention_handlers=[naive]), None),
    }
    configs = selected(configs, args.configs)
    times: dict[str, list[float]] = {name: [] for name in configs}
    drain_s: list[float] = []
    full = Collections(generation=2)  # full collections: each rescans every object
    gc_count = dict.fromkeys(configs, 0)
    gc_seconds = dict.fromkeys(configs, 0.0)
    try:
        asyncio.run(workload(configs["none"][0], None, args.teams, 1))  # warm-up: imports, caches
        names = list(configs)
        for r in range(args.rounds):
            for name in rotated(names, r):
                make_runtime, hook = configs[name]
                # Every sample starts from the same collector state: otherwise the untimed flush
                # after one configuration (redaction allocates heavily) runs the full collection
                # that the previous samples made due, and the next sample is spared or charged it.
                gc.collect()
                count, seconds = full.count, full.seconds
                times[name].append(asyncio.run(workload(make_runtime, hook, args.teams, args.batches)))
                gc_count[name] += full.count - count
                gc_seconds[name] += full.seconds - seconds
                if name == "capture":
                    t = time.perf_counter()
                    capture_hook.flush(600)  # the pipeline drains after the timed section
                    drain_s.append(time.perf_counter() - t)
                elif name == "snapshot":
                    snapshot_hook.flush(600)  # untimed, as for total below
                elif name == "total":
                    # Untimed: the backlog left after the timed section must not run during the next
                    # configuration's timed section (it would be charged to that configuration).
                    total_hook.flush(600)
            provider.force_flush()
        total_hook.flush(600)  # no other pipeline busy while the per-call figures are taken
        for _ in range(3):
            asyncio.run(workload(lambda: SingleThreadedAgentRuntime(intervention_handlers=[timed_hook]),
                                 timed_hook.inner, args.teams, args.batches))  # fmt: skip
            asyncio.run(workload(lambda: SingleThreadedAgentRuntime(intervention_handlers=[timed_empty]), None,
                                 args.teams, args.batches))  # fmt: skip
        timed_hook.inner.flush(600)
        iso_median, iso_p99 = isolated_call_cost(capture_hook)
        for hook in (capture_hook, snapshot_hook, total_hook, timed_hook.inner):
            asyncio.run(hook.aclose(600))
    finally:
        provider.shutdown()
        receiver.kill()

    write_samples(args.samples_json, times)
    base = statistics.median(times["none"])
    runs = args.teams * args.batches
    print(f"workload: {runs} RoundRobinGroupChat runs per sample ({args.teams} concurrent x {args.batches} "
          f"fresh runtimes), {args.rounds} interleaved rounds")  # fmt: skip
    print(f"{'config':<9} {'median s':>9} {'ratio':>7}   {'paired ratio (median, IQR)':>26}   full GCs (ms)")
    for name, samples in times.items():
        median = statistics.median(samples)
        paired = paired_ratios(samples, times["none"])
        print(f"{name:<9} {median:>9.3f} {median / base:>6.2f}x   {paired}   {gc_count[name]} "
              f"({gc_seconds[name] * 1000:.0f})")  # fmt: skip
    for label, handler in (("our handler", timed_hook), ("an empty handler", timed_empty)):
        for what, raw in (("call", handler.samples), ("body", handler.bodies)):
            samples = sorted(raw)
            p99 = samples[int(len(samples) * 0.99) - 1]
            print(f"inside {label} ({what}): {len(samples)} calls, median {statistics.median(samples) / 1000:.2f} us, "
                  f"p99 {p99 / 1000:.2f} us")  # fmt: skip
    print(f"our handler on a warm loop (isolated, 20000 calls): median {iso_median:.2f} us, p99 {iso_p99:.2f} us")
    print(f"capture drain after timed section: median {statistics.median(drain_s):.2f} s")
    hooks = {"capture": capture_hook, "snapshot": snapshot_hook, "total": total_hook, "timed": timed_hook.inner}
    for label, hook in hooks.items():
        s = hook.sink.stats()
        print(f"{label}: accepted={s.accepted} written={s.written} lost={s.lost}")
    _, rows = store.query("SELECT count(), uniqExact(event_id) FROM events")
    print(f"store: rows={rows[0][0]} distinct_event_ids={rows[0][1]}")


if __name__ == "__main__":
    main()
