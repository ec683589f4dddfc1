"""What the app pays in remote mode: wall time of the same team workload, hook shipping to a sidecar.

Configurations, interleaved round by round (a fresh runtime per batch of concurrent teams):
  none     no intervention handler
  empty    a handler that does nothing: what AutoGen itself charges for having any handler (its
           intercept spans and contexts), the floor under any hook
  remote   our hook with RemoteSink (AUDIT_SIDECAR_URL): raw events batched over loopback to an
           `autogen-audit serve --ingest-only` sidecar in its own process, which redacts and stores
  otel     AutoGen's built-in runtime tracing: BatchSpanProcessor + OTLP/HTTP exporter to a local
           receiver in its own process
  remote0  the same remote hook shipping to a null receiver: the app-side cost alone, without the
           sidecar's redaction competing for the same cores (on a 2-core box it does)
  held     `remote` with the sidecar stopped (SIGSTOP) for the timed part and resumed before the
           drain: the same hook, protocol and batches, with none of the sidecar's work overlapping
           the app's (as on a sidecar with cores of its own); `remote` over `held` is what the
           sidecar's concurrent work costs the app on shared cores

After each sample against the sidecar the bench waits (outside the sample) until the sidecar has
stored everything it acknowledged, so its work never runs on into another configuration's sample.

Prints the median wall time per configuration and its ratio to `none` (target: remote <= 1.10x),
the app process's CPU time (all its threads) per configuration, the remote configurations over
`empty` (the part our hook adds to AutoGen's own), then the remote hook's accepted / acknowledged
/ lost counts and the rows the sidecar stored.

    python bench/remote_overhead.py [--rounds 5] [--teams 8] [--batches 4] [--pin] [--sidecar-nice N]
                                    [--configs none,remote] [--samples-json PATH]

``--samples-json`` also writes every sample, for bench/repeat.py to pool runs of fresh processes.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")

import httpx  # noqa: E402 - after the path set-up above, like bench/hook_overhead.py
from autogen_core import DefaultInterventionHandler, SingleThreadedAgentRuntime  # noqa: E402

from collector import AuditHook, AuditSettings, Store  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from hook_overhead import free_port, paired_ratios, rotated, selected, workload, write_samples  # noqa: E402 - the same workload as the in-process bench

logging.getLogger("autogen_core.events").setLevel(logging.ERROR)


def pinned_to(cpus: set[int] | None, nice: int = 0) -> Callable[[], None] | None:
    """A preexec_fn that pins a child (all its future threads) to ``cpus`` and lowers its CPU
    priority by ``nice``; None when there is nothing to do."""
    if not cpus and not nice:
        return None

    def setup() -> None:
        if cpus:
            os.sched_setaffinity(0, cpus)
        if nice:
            os.nice(nice)

    return setup


def start_sidecar(dsn: str, port: int, token: str, cpus: set[int] | None, nice: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ, AUDIT_INGEST_TOKEN=token, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "collector", "--dsn", dsn, "serve", "--ingest-only", "--port", str(port)],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, preexec_fn=pinned_to(cpus, nice),
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("sidecar did not start")


def wait_sidecar_idle(port: int, timeout: float = 600) -> None:
    """Until the sidecar has stored (or counted lost) everything it accepted. It acknowledges a batch
    once spooled, before redacting and storing it: without this wait that work would run on into
    the next configuration's sample and slow whichever configuration comes next."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stats = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json()["pipeline"]
        if stats["queued"] == 0 and stats["spool_pending_batches"] == 0:
            return
        time.sleep(0.05)
    raise SystemExit("sidecar did not drain")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--teams", type=int, default=8)
    parser.add_argument("--batches", type=int, default=4)
    parser.add_argument(
        "--pin", action="store_true",
        help="pin the app to CPU 0 and the sidecar and OTLP receiver to the other CPUs, as a sidecar with its "
        "own CPU budget would run; without it all processes share every core",
    )  # fmt: skip
    parser.add_argument(
        "--sidecar-nice", type=int, default=0, metavar="N",
        help="run the sidecar N steps of CPU priority below the app (nice), as a sidecar container with a "
        "smaller CPU weight than the app's would run: its redaction then waits for cycles the app leaves",
    )  # fmt: skip
    parser.add_argument("--configs", default="none,empty,remote,otel,remote0,held",
                        help="configurations to time (none always is): spend the rounds on fewer")  # fmt: skip
    parser.add_argument("--samples-json", metavar="PATH", help="also write every sample here (for bench/repeat.py)")
    args = parser.parse_args()
    app_cpus: set[int] | None = None
    other_cpus: set[int] | None = None
    if args.pin:
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) < 2:
            raise SystemExit("--pin needs at least 2 CPUs")
        app_cpus, other_cpus = {cpus[0]}, set(cpus[1:])
        os.sched_setaffinity(0, app_cpus)  # before any thread starts: they inherit it

    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    token = secrets.token_hex(16)
    tmp = tempfile.mkdtemp(prefix="remote-bench-")
    dsn = f"chdb://{tmp}/store"
    sidecar_port, otlp_port = free_port(), free_port()
    receiver = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "_otlp_sink.py"), str(otlp_port)], preexec_fn=pinned_to(other_cpus)
    )
    sidecar = start_sidecar(dsn, sidecar_port, token, other_cpus, args.sidecar_nice)
    provider = TracerProvider()
    exporter = OTLPSpanExporter(endpoint=f"http://127.0.0.1:{otlp_port}/v1/traces")
    provider.add_span_processor(BatchSpanProcessor(exporter))
    settings = AuditSettings(sidecar_url=f"http://127.0.0.1:{sidecar_port}", ingest_token=token)  # type: ignore[arg-type]
    # Log capture attaches to the global autogen loggers; attach it only while its config runs
    # (workload() does), so no configuration pays for another's hook.
    hook = AuditHook.from_env(sidecar_url=settings.sidecar_url, ingest_token=token, capture_loggers=False)
    null_url = f"http://127.0.0.1:{otlp_port}"  # the OTLP sink answers 200 to any POST
    null_hook = AuditHook.from_env(sidecar_url=null_url, ingest_token=token, capture_loggers=False)

    configs: dict[str, tuple[Callable[[], SingleThreadedAgentRuntime], AuditHook | None]] = {
        "none": (lambda: SingleThreadedAgentRuntime(), None),
        "empty": (lambda: SingleThreadedAgentRuntime(intervention_handlers=[DefaultInterventionHandler()]), None),
        "remote": (lambda: SingleThreadedAgentRuntime(intervention_handlers=[hook]), hook),
        "otel": (lambda: SingleThreadedAgentRuntime(tracer_provider=provider), None),
        "remote0": (lambda: SingleThreadedAgentRuntime(intervention_handlers=[null_hook]), null_hook),
        "held": (lambda: SingleThreadedAgentRuntime(intervention_handlers=[hook]), hook),
    }
    configs = selected(configs, args.configs)
    times: dict[str, list[float]] = {name: [] for name in configs}
    cpu: dict[str, list[float]] = {name: [] for name in configs}
    try:
        asyncio.run(workload(configs["none"][0], None, args.teams, 1))  # warm-up: imports, caches
        names = list(configs)
        for r in range(args.rounds):
            for name in rotated(names, r):
                make_runtime, with_hook = configs[name]
                gc.collect()  # every sample starts from the same collector state (see hook_overhead.py)
                cpu_start = time.process_time()
                # workload() taps the event loggers for this hook only while it runs.
                if name == "held":
                    sidecar.send_signal(signal.SIGSTOP)
                try:
                    times[name].append(asyncio.run(workload(make_runtime, with_hook, args.teams, args.batches)))
                finally:
                    if name == "held":
                        sidecar.send_signal(signal.SIGCONT)
                # Drain this configuration's exporter inside its CPU sample, outside its wall time.
                if with_hook is not None:
                    with_hook.flush(600)
                if name == "otel":
                    provider.force_flush()
                cpu[name].append(time.process_time() - cpu_start)
                if with_hook is hook:
                    wait_sidecar_idle(sidecar_port)
        asyncio.run(null_hook.aclose(60))
        complete = asyncio.run(hook.aclose(600))
        stats = hook.sink.stats()
    finally:
        provider.shutdown()
        receiver.kill()
        sidecar.send_signal(signal.SIGTERM)
        sidecar.wait(120)

    write_samples(args.samples_json, times, cpu=cpu)
    base = statistics.median(times["none"])
    runs = args.teams * args.batches
    print(f"workload: {runs} team runs per sample ({args.teams} concurrent x {args.batches} fresh runtimes), "
          f"{args.rounds} interleaved rounds; sidecar and OTLP receiver in their own processes"
          + (f", pinned to CPUs {sorted(other_cpus or ())}, the app to CPU {sorted(app_cpus or ())}" if args.pin
             else ", all sharing every core")
          + (f"; sidecar at nice {args.sidecar_nice}" if args.sidecar_nice else ""))  # fmt: skip
    cpu_base = statistics.median(cpu["none"])
    print(f"{'config':<8} {'wall s':>8} {'ratio':>7} {'paired ratio (median, IQR)':>27} {'app cpu s':>10} {'ratio':>7}")
    for name, samples in times.items():
        median, cpu_median = statistics.median(samples), statistics.median(cpu[name])
        paired = paired_ratios(samples, times["none"])
        print(f"{name:<8} {median:>8.3f} {median / base:>6.2f}x {paired:>27} {cpu_median:>10.3f} "
              f"{cpu_median / cpu_base:>6.2f}x")  # fmt: skip
    if "empty" in times:
        for name in ("remote", "remote0", "held"):
            if name in times:
                print(f"{name} over empty (what the hook adds to AutoGen's own handler cost): "
                      f"{paired_ratios(times[name], times['empty'])}")  # fmt: skip
    if "held" in times and "remote" in times:
        print("remote over held (what the sidecar's concurrent work costs the app on shared cores): "
              f"{paired_ratios(times['remote'], times['held'])}")  # fmt: skip
    print(f"remote hook: accepted={stats.accepted} acknowledged={stats.acknowledged} lost={stats.lost} "
          f"batches={stats.batches} retries={stats.retries} complete={complete}")  # fmt: skip
    store = Store.open(dsn)
    try:
        _, rows = store.query("SELECT count(), uniqExact(event_id) FROM events")
    finally:
        store.close()
    print(f"sidecar store: rows={rows[0][0]} distinct_event_ids={rows[0][1]} "
          f"(lost: {stats.accepted - rows[0][1]})")  # fmt: skip


if __name__ == "__main__":
    main()
