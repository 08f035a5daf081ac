"""Prometheus metrics of one bot process, in their own registry (nothing global at import)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from bot.domain import RejectionReason
from storage.outage import KINDS


class Metrics:
    """The figures the web playground serves on /metrics."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.queue_depth = Gauge(
            "dallebot_queue_depth", "Requests waiting in the queue", registry=self.registry
        )
        self.running = Gauge("dallebot_running", "Requests being generated", registry=self.registry)
        self.submitted = Counter(
            "dallebot_submitted", "Requests accepted into the queue", ["platform"], registry=self.registry
        )
        self.rejections = Counter(
            "dallebot_rejections",
            "Requests rejected at submit, by reason",
            ["reason"],
            registry=self.registry,
        )
        self.generation_seconds = Histogram(
            "dallebot_generation_seconds",
            "Seconds one pipeline call took (a batch of requests)",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 40, 80, 160),
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "dallebot_batch_size",
            "Requests per pipeline call",
            buckets=(1, 2, 3, 4, 6, 8, 16, 32),
            registry=self.registry,
        )
        self.deliveries = Counter(
            "dallebot_deliveries",
            "Outbox entries handled, by outcome",
            ["platform", "outcome"],
            registry=self.registry,
        )
        self.storage_errors = Counter(
            "dallebot_storage_errors",
            "Storage operations that failed, by kind (unreachable, locked, read_only, full, other)",
            ["kind"],
            registry=self.registry,
        )
        for reason in RejectionReason:  # every reason shows as 0 before its first rejection
            self.rejections.labels(reason=reason.value)
        for kind in KINDS:
            self.storage_errors.labels(kind=kind)
        self._refreshers: list[Callable[[], None]] = []

    def on_scrape(self, refresh: Callable[[], None]) -> None:
        """Run `refresh` (e.g. read queue depth from storage) before each exposition."""
        self._refreshers.append(refresh)

    def exposition(self) -> bytes:
        """The text format Prometheus scrapes."""
        for refresh in self._refreshers:
            refresh()
        return generate_latest(self.registry)
