"""The composition root: reads settings and environment, builds everything once, injects it.

    app = BotApp(settings, os.environ, workers=1)
    await app.start()        # storage, safety, service, worker(s), delivery, adapters, daily
    await app.stop()         # receiving stops, the running batch finishes or is released,
                             # the post in flight completes; nothing is half-posted

Nothing here runs at import. Tests pass their own store, pipeline loader and safety filter.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from bot.adapters.base import Adapter
from bot.assembly import StartupError, build_worker, open_configured_store, plan_adapters
from bot.config import Settings
from bot.delivery import DeliveryLoop
from bot.domain import Platform
from bot.metrics import Metrics
from bot.progress import ProgressBoard
from bot.service import BotService
from bot.worker import ImagePipeline, Worker, default_worker_id
from storage import StorageError
from storage.outage import log_failure

if TYPE_CHECKING:
    from bot.daily import DailyPrompt
    from bot.safety.filter import SafetyFilter
    from generation.understanding import PromptReader
    from storage import Store

log = logging.getLogger(__name__)


class BotApp:
    """Everything `dallebot run` starts, in one process."""

    def __init__(
        self,
        settings: Settings,
        env: Mapping[str, str],
        *,
        workers: int = 1,
        store: Store | None = None,
        load_pipeline: Callable[[], ImagePipeline] | None = None,
        safety: SafetyFilter | None = None,
        adapters: Mapping[Platform, Adapter] | None = None,
        clock: Callable[[], datetime] | None = None,
        shutdown_grace_seconds: float | None = None,
        reader: PromptReader | None = None,
    ) -> None:
        """reader: the model's vocabulary for the service; by default read from generation.model,
        unless `load_pipeline` replaces that model (a test's stand-in, which has no vocabulary)."""
        self.settings = settings
        self.env = env
        self.workers_wanted = workers
        self.metrics = Metrics()
        self._store = store
        self._load_pipeline = load_pipeline  # None: the configured model, chosen by build_worker
        self._safety = safety
        self._reader = reader
        self._adapters = dict(adapters) if adapters is not None else None
        self._clock = clock
        # A batch that is still running after this is released back to the queue (another worker or
        # the next start generates it); by default one lease, the longest a heartbeat-less job waits.
        self.shutdown_grace_seconds = shutdown_grace_seconds or settings.worker.lease_seconds
        self.store: Store | None = None
        self.service: BotService | None = None
        self.adapters: dict[Platform, Adapter] = {}
        self.workers: list[Worker] = []
        self.delivery: DeliveryLoop | None = None
        self._stop_delivery = asyncio.Event()
        self._delivery_task: asyncio.Task[None] | None = None
        self._housekeeping_task: asyncio.Task[None] | None = None
        self._started_adapters: list[Adapter] = []
        self.daily: DailyPrompt | None = None

    async def start(self) -> None:
        """Build and start everything; on failure, stop what was started and raise StartupError."""
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        # 1. storage and safety
        store = self._store
        if store is None:
            store = await asyncio.to_thread(open_configured_store, self.settings, self.env)
        self.store = store
        store.outage.listen(lambda kind: self.metrics.storage_errors.labels(kind=kind).inc())
        safety = self._safety if self._safety is not None else await asyncio.to_thread(self._build_safety)
        # 2. adapters (built, not yet started)
        if self._adapters is None:
            plan = plan_adapters(self.settings, self.env, metrics=self.metrics)
            if plan.errors:
                raise StartupError("\n".join(plan.errors))
            self._adapters = plan.adapters
        self.adapters = self._adapters
        for adapter in self.adapters.values():  # a taken port is said at once, not after the model loads
            try:
                adapter.preflight()
            except OSError as error:
                raise _cannot_start(adapter, error) from error
        # 3. service, worker(s), delivery
        reader = self._reader
        if reader is None and self._load_pipeline is None:
            reader = await asyncio.to_thread(self._read_vocabulary)
        progress = ProgressBoard()  # this process's workers write it, its front ends read it
        self.service = BotService(
            store, self.settings, safety, metrics=self.metrics, on_enqueued=self._wake, reader=reader,
            progress=progress,
        )  # fmt: skip
        self.metrics.on_scrape(self._refresh_queue_metrics)
        self.delivery = DeliveryLoop(
            self.service,
            self.adapters,
            poll_seconds=self.settings.worker.poll_seconds,
            metrics=self.metrics,
            clock=self._clock,
        )
        for index in range(self.workers_wanted):
            worker = build_worker(
                store,
                self.settings,
                safety,
                load_pipeline=self._load_pipeline,
                metrics=self.metrics,
                on_completed=self.delivery.wake_threadsafe,
                worker_id=f"{default_worker_id()}/{index}",
                progress=progress,
            )
            await asyncio.to_thread(worker.start)  # loading the model blocks; raises with the reason
            self.workers.append(worker)
        self._delivery_task = asyncio.create_task(self.delivery.run(self._stop_delivery), name="delivery")
        await self._prune_images()
        self._housekeeping_task = asyncio.create_task(self._housekeeping(), name="housekeeping")
        # 4. front ends last: a request can only arrive once everything behind it runs
        for adapter in self.adapters.values():
            try:
                await adapter.start(self.service)
            except OSError as error:  # e.g. the playground's port was taken since the preflight
                raise _cannot_start(adapter, error) from error
            self._started_adapters.append(adapter)
            log.info("started %s", adapter.describe())
        # 5. the daily prompt, scheduled on this loop (it catches up a missed minute at start)
        if self.settings.daily.enabled:
            from bot.daily import DailyPrompt

            self.daily = DailyPrompt(
                self.settings.daily,
                self.service,
                platforms=[p for p, adapter in self.adapters.items() if adapter.takes_daily()],
                clock=self._clock,
            )
            await self.daily.start()
        if not self.workers:
            log.info("no worker in this process (--workers 0): run `dallebot worker` to generate")

    async def _prune_images(self) -> None:
        """Apply the image retention (storage.image_retention_days), to images and to refusals."""
        assert self.service is not None and self.store is not None
        try:
            pruned = await self.service.call(self.store.prune_images)
            refusals = await self.service.call(self.store.prune_refusals)
        except Exception:
            log_failure(log, "pruning old images and refusals failed; trying again in an hour")
            return
        if pruned or refusals:
            log.info("pruned %d stored image(s) and %d refusal(s) past their retention", pruned, refusals)

    async def _housekeeping(self, every_seconds: float = 3600.0) -> None:
        while True:
            await asyncio.sleep(every_seconds)
            await self._prune_images()

    def _build_safety(self) -> SafetyFilter:
        from bot.safety.filter import SafetyFilter

        return SafetyFilter.from_settings(self.settings.safety)

    def _read_vocabulary(self) -> PromptReader | None:
        """The configured model's tokenizer, without its weights: front ends with --workers 0 too."""
        from generation.loading import ModelLoadError
        from generation.understanding import PromptReader

        try:
            return PromptReader.for_model(self.settings.generation.model)
        except ModelLoadError as error:  # a worker that needs the model says so when it loads it
            log.warning("cannot read the model's vocabulary (%s): prompts are queued unread", error)
            return None

    def _wake(self) -> None:
        for worker in self.workers:
            worker.wake()

    def _refresh_queue_metrics(self) -> None:
        if self.store is None:
            return
        try:
            stats = self.store.stats()
        except StorageError:  # /metrics still answers in an outage: it is how one watches it
            log_failure(log, "reading queue figures for /metrics failed")
            return
        self.metrics.queue_depth.set(stats.queued)
        self.metrics.running.set(stats.running)

    async def stop(self) -> None:
        """Stop workers (finish or release), then deliveries, then front ends; safe to call twice."""
        grace = self.shutdown_grace_seconds
        if self.daily is not None:
            await self.daily.stop()
            self.daily = None
        for worker in self.workers:
            await asyncio.to_thread(worker.stop, grace)
        self.workers.clear()
        if self._housekeeping_task is not None:
            self._housekeeping_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._housekeeping_task
            self._housekeeping_task = None
        if self._delivery_task is not None:
            self._stop_delivery.set()
            await self._delivery_task  # the post in flight completes and is recorded
            self._delivery_task = None
        for adapter in reversed(self._started_adapters):
            try:
                await adapter.stop()
            except Exception:
                log.exception("stopping the %s adapter failed", adapter.platform)
        self._started_adapters.clear()
        if self.service is not None:
            self.service.close()
            self.service = None
        if self.store is not None and self._store is None:
            self.store.close()
        self.store = None


def _cannot_start(adapter: Adapter, error: OSError) -> StartupError:
    section = adapter.platform.value
    return StartupError(f"{section}: cannot start ({error}); check the {section}: section of config.yaml")
