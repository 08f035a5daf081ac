"""What the composition root (`bot.app`, `dallebot run`, `check-config`) builds from settings and
environment: the adapter plan, the pipeline loader, the worker, the store. Nothing connects here.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.adapters.base import Adapter, MissingSecret
from bot.config import Settings
from bot.domain import Platform
from bot.metrics import Metrics
from bot.worker import ImagePipeline, Worker
from storage import StorageError

if TYPE_CHECKING:
    from bot.safety.filter import SafetyFilter
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
        from generation.loading import DEFAULT_MODEL_DIR
        from generation.runner import RunnerOptions

        try:
            pipeline = load_pipeline(
                generation.model,
                device=None if generation.device == "auto" else generation.device,
                dtype=None if generation.dtype == "auto" else generation.dtype,
                options=RunnerOptions(compile=generation.compile),
            )
            pipeline.use_cpu_threads(generation.cpu_threads)  # process-wide: this process owns its generation
            if generation.compile != "off" and resolve_batching(settings) == "static":
                # compile one image's step now, not while the first request waits (a continuous
                # batcher decodes in a state of its own capacity, compiled at its first round)
                log.info("compiling the decode step (generation.compile: %s)", generation.compile)
                pipeline.warm_up()
            return pipeline
        except (ModelLoadError, FileNotFoundError) as error:
            where = generation.model or f"the embedded model ({DEFAULT_MODEL_DIR})"
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


if TYPE_CHECKING:  # mypy checks that the service implements every port adapters and jobs are typed against
    from bot.adapters.base import Service
    from bot.adapters.discord.ports import DiscordService
    from bot.adapters.web.ports import WebService
    from bot.daily.job import DailyService
    from bot.delivery import Outbox
    from bot.service import BotService

    def _ports(service: BotService) -> tuple[Service, DiscordService, WebService, Outbox, DailyService]:
        return service, service, service, service, service
