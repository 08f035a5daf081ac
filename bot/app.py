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
import importlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.adapters.base import Adapter, MissingSecret
from bot.config import Settings
from bot.delivery import DeliveryLoop
from bot.domain import Platform
from bot.metrics import Metrics
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

ADAPTER_PACKAGES = {
    Platform.WEB: "bot.adapters.web",
    Platform.DISCORD: "bot.adapters.discord",
    Platform.X: "bot.adapters.x",
}


class StartupError(Exception):
    """The bot cannot start as configured; the message says which setting or file to fix."""


@dataclass(frozen=True)
class PlatformPlan:
    """What `check-config` reports for one platform: will it run, and why (never a secret)."""

    platform: Platform
    adapter: Adapter | None
    reason: str
    error: bool = False


@dataclass
class Plan:
    platforms: list[PlatformPlan] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        return [item.reason for item in self.platforms if item.error]

    @property
    def adapters(self) -> dict[Platform, Adapter]:
        return {item.platform: item.adapter for item in self.platforms if item.adapter is not None}


def plan_adapters(settings: Settings, env: Mapping[str, str], *, metrics: Metrics | None = None) -> Plan:
    """Build each platform's adapter (nothing connects yet) and say why the others are off."""
    plan = Plan()
    for platform, package in ADAPTER_PACKAGES.items():
        module = importlib.import_module(package)
        kwargs: dict[str, Any] = {"metrics": metrics} if platform is Platform.WEB else {}
        section = getattr(settings, platform.value)
        limit_errors = getattr(module, "limit_errors", None)
        too_big = limit_errors(settings) if limit_errors and getattr(section, "enabled", True) else []
        if too_big:  # said by check-config and at start, not by the platform refusing a command later
            why = f"{platform.value}: " + "; ".join(too_big)
            plan.platforms.append(PlatformPlan(platform, None, why, error=True))
            continue
        try:
            adapter = module.build_adapter(settings, env, **kwargs)
        except MissingSecret as error:
            plan.platforms.append(PlatformPlan(platform, None, str(error), error=True))
            continue
        if adapter is not None:
            plan.platforms.append(PlatformPlan(platform, adapter, adapter.describe()))
            continue
        missing = [name for name in getattr(module, "REQUIRED_ENV", ()) if not env.get(name)]
        if not getattr(section, "enabled", True):
            plan.platforms.append(
                PlatformPlan(platform, None, f"{platform.value}: off ({platform.value}.enabled is false)")
            )
            continue
        # Enabled in config.yaml but not built: a missing secret, which is the operator's to fix.
        reason = module.missing_reason(settings, env) if hasattr(module, "missing_reason") else None
        if reason is None and missing:
            reason = f"environment variable(s) {', '.join(missing)} not set"
        why = f"{platform.value}: enabled in config.yaml but cannot start: {reason or 'see the log'}"
        plan.platforms.append(PlatformPlan(platform, None, why, error=True))
    return plan


def uses_cuda(settings: Settings) -> bool:
    """Whether generation runs on a CUDA device (generation.device, or auto with a GPU present)."""
    if settings.generation.device == "auto":
        import torch

        return torch.cuda.is_available()
    return settings.generation.device.startswith("cuda")


def resolve_batching(settings: Settings) -> str:
    """worker.batching, with auto made concrete: continuous on CUDA, static on the CPU."""
    if settings.worker.batching != "auto":
        return settings.worker.batching
    return "continuous" if uses_cuda(settings) else "static"


def embedded_pipeline_loader(settings: Settings) -> Callable[[], ImagePipeline]:
    """Loads generation.model (None: the embedded model) on the calling (worker) thread."""
    generation = settings.generation

    def load() -> ImagePipeline:
        from generation import ModelLoadError, load_pipeline
        from generation.pipeline import set_generation_threads

        try:
            pipeline = load_pipeline(
                generation.model,
                device=None if generation.device == "auto" else generation.device,
                dtype=None if generation.dtype == "auto" else generation.dtype,
            )
            if pipeline.device.type == "cpu":  # process-wide: this process owns its generation
                set_generation_threads(pipeline.config.bart.d_model, generation.cpu_threads)
            return pipeline
        except (ModelLoadError, FileNotFoundError) as error:
            where = generation.model or "the embedded model (generation/embedded/model/)"
            raise StartupError(
                f"cannot load {where}: {error}. Set generation.model in config.yaml to a downloaded "
                "model (`dallebot models list`) or a model directory, or run `dallebot run --workers 0` "
                "to start the front ends only."
            ) from error
        except ValueError as error:  # bad device / dtype
            raise StartupError(f"generation.device / generation.dtype in config.yaml: {error}") from error

    return load


def build_worker(
    store: Store,
    settings: Settings,
    safety: SafetyFilter,
    *,
    load_pipeline: Callable[[], ImagePipeline] | None = None,
    **kwargs: Any,
) -> Worker:
    """A static or continuous-batching worker as worker.batching says (not started)."""
    batching = resolve_batching(settings)
    if load_pipeline is None:
        load_pipeline = embedded_pipeline_loader(settings)
    if batching == "static":
        return Worker(store, load_pipeline, safety, settings, **kwargs)
    from bot.continuous import ContinuousWorker

    def make_batcher(pipeline: Any) -> Any:
        from generation.batching import ContinuousBatcher

        return ContinuousBatcher(pipeline, capacity=settings.worker.slots)

    return ContinuousWorker(store, load_pipeline, safety, settings, make_batcher=make_batcher, **kwargs)


def open_configured_store(settings: Settings, env: Mapping[str, str], **kwargs: Any) -> Store:
    """The store at storage.url (or DALLEBOT_DATABASE_URL), schema brought up to date."""
    from storage import ImageRetention, open_store
    from storage.check import check_database

    days = settings.storage.image_retention_days
    url, timeout = settings.database_url(env), settings.storage.write_timeout_seconds
    problem = check_database(url, timeout=timeout).problem  # check-config's words, before anything binds
    if problem is not None:
        raise StartupError(f"{database_setting(env)}: {problem}")
    try:
        return open_store(
            url,
            max_attempts=settings.worker.max_attempts,
            image_retention=ImageRetention(max_age_seconds=None if days is None else days * 86400.0),
            busy_timeout=timeout,
            **kwargs,
        )
    except StorageError as error:
        raise StartupError(f"{database_setting(env)}: {error}") from error


def database_setting(env: Mapping[str, str]) -> str:
    """Where the database URL came from, for messages: the environment wins over config.yaml."""
    from bot.config import DATABASE_URL_ENV

    return DATABASE_URL_ENV if env.get(DATABASE_URL_ENV) else "storage.url in config.yaml"


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
        self.store = self._store or await asyncio.to_thread(open_configured_store, self.settings, self.env)
        self.store.outage.listen(lambda kind: self.metrics.storage_errors.labels(kind=kind).inc())
        safety = self._safety or await asyncio.to_thread(self._build_safety)
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
        self.service = BotService(
            self.store, self.settings, safety, metrics=self.metrics, on_enqueued=self._wake, reader=reader
        )
        self.metrics.on_scrape(self._refresh_queue_metrics)
        self.delivery = DeliveryLoop(
            self.service,
            self.adapters,
            poll_seconds=self.settings.worker.poll_seconds,
            metrics=self.metrics,
            **({"clock": self._clock} if self._clock else {}),
        )
        for index in range(self.workers_wanted):
            worker = build_worker(
                self.store,
                self.settings,
                safety,
                load_pipeline=self._load_pipeline,
                metrics=self.metrics,
                on_completed=self.delivery.wake_threadsafe,
                worker_id=f"{default_worker_id()}/{index}",
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
                **({"clock": self._clock} if self._clock else {}),
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
