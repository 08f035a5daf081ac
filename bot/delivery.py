"""The outbox loop: hands each finished request to its platform's adapter, effectively once.

For every pending outbox entry of every running adapter:
  * state "sending" means an earlier attempt may have posted (a crash, a timeout after sending):
    `reconcile` first, and only deliver again when the platform shows no earlier post;
  * `begin_delivery` marks it "sending" (attempts + 1) before `deliver` is called, and the posted
    id is stored right after, so a crash in between is caught by the reconcile above;
  * errors are classified by the adapter (`DeliveryError`): retryable → back to pending after its
    `retry_after` (a rate limit: it does not count against the attempt cap) or a backoff;
    ambiguous → left "sending", so the next round reconciles; permanent → failed, the error kept,
    never retried. Anything else is treated as ambiguous.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from bot.adapters.base import Adapter, DeliveryError
from bot.domain import Platform
from bot.metrics import Metrics
from storage import backoff
from storage.outage import log_failure

if TYPE_CHECKING:
    from storage import Delivery

log = logging.getLogger(__name__)

PAGE = 20  # outbox entries read per platform per round
INLINE_ANSWER = "inline"  # posted id of a rejection the adapter answered when it was submitted


RETRY_BASE_SECONDS = 2.0  # a failed post is tried again after 2, 4, 8 … seconds
RETRY_MAX_SECONDS = 300.0


def backoff_seconds(attempts: int) -> float:
    """Storage's one back-off, with the outbox's settings: 2, 4, 8 … up to 5 minutes."""
    return backoff(attempts, RETRY_BASE_SECONDS, RETRY_MAX_SECONDS)


class Outbox(Protocol):
    """What the delivery loop asks of the service (`bot.service.BotService` implements it)."""

    metrics: Metrics

    async def pending_deliveries(self, platform: Platform, *, limit: int) -> list[Delivery]: ...

    async def begin_delivery(self, request_id: int) -> bool: ...

    async def finish_delivery(self, request_id: int, posted_id: str) -> None: ...

    async def retry_delivery(
        self, request_id: int, error: str, *, not_before: datetime | None = None, count_attempt: bool = True
    ) -> None: ...

    async def fail_delivery(self, request_id: int, error: str) -> None: ...


class DeliveryLoop:
    """Polls the outbox (or is woken by the worker) and drives each adapter."""

    def __init__(
        self,
        service: Outbox,
        adapters: Mapping[Platform, Adapter],
        *,
        poll_seconds: float = 0.5,
        max_attempts: int = 12,
        clock: Callable[[], datetime] | None = None,  # None: the wall clock, in UTC
        metrics: Metrics | None = None,
    ) -> None:
        self.service = service
        self.adapters = dict(adapters)
        self.poll_seconds = poll_seconds
        self.max_attempts = max_attempts
        self.clock = clock or (lambda: datetime.now(UTC))
        self.metrics = metrics or service.metrics
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        # An ambiguous entry stays "sending"; this keeps it from being reconciled in a tight loop.
        self._not_before: dict[int, datetime] = {}
        self._more_waiting = False

    def wake_threadsafe(self) -> None:
        """Called from the worker thread when a result was stored."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set; an entry being posted when it is set is finished first."""
        self._loop = asyncio.get_running_loop()
        while not stop.is_set():
            self._wake.clear()  # before reading the outbox: a wake-up during the read is not lost
            try:
                await self.run_once()
            except Exception:
                log_failure(log, "delivery round failed; trying again")
            if self._more_waiting:  # a full page came back: read the next at once
                continue
            waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
            await asyncio.wait(waiters, timeout=self.poll_seconds, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()

    async def run_once(self) -> int:
        """One pass over every platform's pending entries; returns how many were acted on."""
        handled = 0
        self._more_waiting = False
        for platform, adapter in self.adapters.items():
            # "sending" entries come first and the ones waiting out a backoff are skipped here, so
            # the page grows by their number: twenty stuck entries must not hide a due reply.
            limit = PAGE + self._deferred()
            deliveries = await self.service.pending_deliveries(platform, limit=limit)
            for delivery in deliveries:
                handled += await self.handle(adapter, delivery)
            # A short page was everything due; what arrives later wakes the loop (or the poll finds it).
            self._more_waiting |= len(deliveries) == limit and handled > 0
        return handled

    def _deferred(self) -> int:
        """How many entries wait out a backoff in this process (the expired ones are forgotten)."""
        now = self.clock()
        for request_id in [r for r, not_before in self._not_before.items() if not_before <= now]:
            del self._not_before[request_id]
        return len(self._not_before)

    async def handle(self, adapter: Adapter, delivery: Delivery) -> int:
        """Reconcile or deliver one entry; 1 if something changed, 0 if it is waiting."""
        request_id = delivery.request.id
        not_before = self._not_before.get(request_id)
        if not_before is not None and self.clock() < not_before:
            return 0
        if delivery.kind == "rejection" and adapter.inline_rejections:
            await self.service.finish_delivery(request_id, INLINE_ANSWER)
            return 1
        if delivery.state == "sending":
            try:
                posted = await adapter.reconcile(delivery.request)
            except Exception as error:
                self._defer(request_id, delivery.attempts, f"reconcile failed: {error}")
                return 0
            if posted is not None:
                log.info("request %d: an earlier post landed (%s); not posting again", request_id, posted)
                await self._finished(adapter, request_id, posted, "reconciled")
                return 1
            # Nothing landed: safe to post again, so it goes back to pending for begin_delivery.
            await self.service.retry_delivery(
                request_id, "reconciled: no earlier post found", not_before=None
            )
        if delivery.attempts >= self.max_attempts:
            await self.service.fail_delivery(
                request_id, f"gave up after {delivery.attempts} delivery attempts"
            )
            self._count(adapter, "failed")
            return 1
        if not await self.service.begin_delivery(request_id):
            return 0  # another process took it
        try:
            posted = await adapter.deliver(delivery)
        except DeliveryError as error:
            await self._failed(adapter, delivery, error)
            return 1
        except Exception as error:  # unknown: it may have posted, so never resend without reconciling
            log.exception("request %d: %s adapter raised; will reconcile", request_id, adapter.platform)
            await self._failed(
                adapter, delivery, DeliveryError("ambiguous", f"{type(error).__name__}: {error}")
            )
            return 1
        await self._finished(adapter, request_id, posted, "delivered")
        return 1

    async def _finished(self, adapter: Adapter, request_id: int, posted: str, outcome: str) -> None:
        self._not_before.pop(request_id, None)
        await self.service.finish_delivery(request_id, posted)
        self._count(adapter, outcome)

    async def _failed(self, adapter: Adapter, delivery: Delivery, error: DeliveryError) -> None:
        request_id = delivery.request.id
        attempts = delivery.attempts + 1  # begin_delivery counted this one
        if error.kind == "permanent":
            log.warning("request %d: %s delivery failed for good: %s", request_id, adapter.platform, error)
            self._not_before.pop(request_id, None)
            await self.service.fail_delivery(request_id, error.message)
            self._count(adapter, "failed")
        elif error.kind == "retryable":
            delay = error.retry_after if error.retry_after is not None else backoff_seconds(attempts)
            log.info(
                "request %d: %s delivery will be retried in %.0fs: %s",
                request_id,
                adapter.platform,
                delay,
                error,
            )
            not_before = self.clock() + timedelta(seconds=delay)
            self._not_before[request_id] = not_before
            # A reset time means a rate limit: the platform did not look at the post, so the wait
            # does not spend an attempt (a backlog under a viral spike must not exhaust them).
            await self.service.retry_delivery(
                request_id,
                error.message,
                not_before=not_before,
                count_attempt=error.retry_after is None,
            )
            self._count(adapter, "retry")
        else:
            self._defer(request_id, attempts, error.message)
            self._count(adapter, "ambiguous")

    def _defer(self, request_id: int, attempts: int, why: str) -> None:
        delay = backoff_seconds(attempts)
        log.warning("request %d: delivery outcome unknown (%s); reconciling in %.0fs", request_id, why, delay)
        self._not_before[request_id] = self.clock() + timedelta(seconds=delay)

    def _count(self, adapter: Adapter, outcome: str) -> None:
        self.metrics.deliveries.labels(platform=adapter.platform.value, outcome=outcome).inc()
