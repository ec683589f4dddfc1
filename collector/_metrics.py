"""Prometheus metrics of one pipeline, in a private registry (never the process-global one).

A private registry lets several pipelines live in one process (tests, a sidecar next to an app)
without name clashes, and /metrics serves exactly this pipeline's figures. Labels are fixed
enumerations (reason, kind): never a tenant, a task or any captured value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

__all__ = ["CONTENT_TYPE", "PipelineMetrics", "SpoolGauges"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
LOSS_REASONS = ("queue_full", "spool_full", "spool_write_error", "worker_error", "shutdown")


@dataclass(frozen=True, slots=True)
class SpoolGauges:
    """What the gauges read at scrape time (a callable so a scrape sees current values)."""

    queue_depth: Callable[[], float]
    spool_bytes: Callable[[], float]
    spool_oldest_age_s: Callable[[], float]
    spool_pending_batches: Callable[[], float]
    quarantined_records: Callable[[], float]
    ready: Callable[[], float]
    events_in: Callable[[], float]


class _CallbackCounter(Collector):
    """A counter whose value the pipeline keeps as a plain int: the hot path must not take a lock."""

    def __init__(self, name: str, doc: str, fn: Callable[[], float]) -> None:
        self._name, self._doc, self._fn = name, doc, fn

    def collect(self) -> Iterator[Metric]:
        yield CounterMetricFamily(self._name, self._doc, value=self._fn())


class PipelineMetrics:
    """The counters and histograms the pipeline updates, plus gauges read on scrape."""

    def __init__(self, gauges: SpoolGauges, spool_max_bytes: int) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry

        def gauge(name: str, doc: str, fn: Callable[[], float]) -> None:
            Gauge(name, doc, registry=r).set_function(fn)

        gauge("audit_queue_depth", "Captured events waiting in memory (queue + overflow).", gauges.queue_depth)
        gauge("audit_spool_bytes", "Bytes of spool segment and ack files on disk.", gauges.spool_bytes)
        gauge(
            "audit_spool_oldest_age_seconds",
            "Age of the oldest spooled batch not yet in ClickHouse (0 when none).",
            gauges.spool_oldest_age_s,
        )
        gauge("audit_spool_pending_batches", "Spooled batches not yet in ClickHouse.", gauges.spool_pending_batches)
        gauge(
            "audit_spool_quarantined_records",
            "Records presumed lost to spool damage found by this process (see quarantine/).",
            gauges.quarantined_records,
        )
        gauge("audit_ready", "1 when /readyz would answer 200.", gauges.ready)
        Gauge("audit_spool_max_bytes", "Configured bound of the spool.", registry=r).set(spool_max_bytes)
        r.register(_CallbackCounter("audit_events_in", "Events accepted by submit.", gauges.events_in))
        self.events_spooled = Counter("audit_events_spooled", "Redacted events appended to the spool.", registry=r)
        self.events_out = Counter("audit_events_out", "Event rows newly written to ClickHouse.", registry=r)
        self.events_deduplicated = Counter(
            "audit_events_deduplicated", "Event rows ClickHouse dropped as repeats of a replayed batch.", registry=r
        )
        self.events_lost = Counter(
            "audit_events_lost", "Events lost, each recorded as a loss row of its task.", ["reason"], registry=r
        )
        for reason in LOSS_REASONS:
            self.events_lost.labels(reason)
        self.redaction_seconds = Histogram(
            "audit_redaction_seconds", "Serialize + redact + process time per batch.", buckets=_LATENCY_BUCKETS,
            registry=r,
        )  # fmt: skip
        self.insert_seconds = Histogram(
            "audit_insert_seconds", "ClickHouse insert time per batch (successful or not).", buckets=_LATENCY_BUCKETS,
            registry=r,
        )  # fmt: skip
        self.insert_errors = Counter(
            "audit_insert_errors", "Failed batch inserts by classification.", ["kind"], registry=r
        )
        for kind in ("retryable", "permanent"):
            self.insert_errors.labels(kind)
        self.spool_rejections = Counter(
            "audit_spool_rejections", "Batches the spool refused (full or write error).", ["reason"], registry=r
        )
        for reason in ("spool_full", "spool_write_error"):
            self.spool_rejections.labels(reason)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
