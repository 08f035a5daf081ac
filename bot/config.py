"""Typed settings: config.yaml validated into pydantic models; secrets only from the environment.

Every model forbids unknown keys, so a typo fails at start naming the key and the file. Sections
owned by other packages (safety, discord, x, daily) are nested here as their own models. Nothing
is read at import: `load_settings(path)` is called by the composition root (bot/app.py).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot.config_discord import DiscordSettings
from bot.config_x import XSettings
from bot.daily.settings import DailySettings
from bot.domain import Platform, QuotaPolicy
from bot.safety.settings import SafetySettings

DEFAULT_CONFIG_PATH = Path("config.yaml")
DATABASE_URL_ENV = "DALLEBOT_DATABASE_URL"  # overrides storage.url (a PostgreSQL URL holds a password)


class ConfigError(Exception):
    """config.yaml (or an env override) is unreadable or invalid; the message names the file and key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StorageSettings(_Section):
    url: str = Field("sqlite:///var/dallebot.db", description="SQLAlchemy URL (env wins)")
    image_retention_days: float | None = Field(
        30.0, gt=0, description="delete stored images older than this; null: keep them"
    )
    write_timeout_seconds: float = Field(
        2.5,
        gt=0,
        le=60,
        description="a write blocked by a lock (or a connection attempt) gives up after this",
    )


class GenerationDefaults(_Section):
    """Options used when a request leaves them unset; None: the model's own (its config.json)."""

    top_k: int | None = Field(None, ge=1)
    temperature: float | None = Field(None, gt=0)
    cond_scale: float | None = Field(None, ge=0)


class GenerationLimits(_Section):
    """What `submit` accepts; anything outside is rejected with `bad_option` or `prompt_too_long`."""

    max_prompt_chars: int = Field(300, ge=1, le=10_000)
    max_images: int = Field(9, ge=1, le=16)
    min_top_k: int = Field(1, ge=1)
    max_top_k: int = Field(16384, ge=1)
    min_temperature: float = Field(0.05, gt=0)
    max_temperature: float = Field(3.0, gt=0)
    min_cond_scale: float = Field(0.0, ge=0)
    max_cond_scale: float = Field(30.0, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> GenerationLimits:
        for low, high in (
            ("min_top_k", "max_top_k"),
            ("min_temperature", "max_temperature"),
            ("min_cond_scale", "max_cond_scale"),
        ):
            if getattr(self, low) > getattr(self, high):
                raise ValueError(f"{low} must not exceed {high}")
        return self


class GenerationSettings(_Section):
    model: str | None = Field(
        None,
        description="a downloaded model's name (mini, mega, dalle-mini, dalle-mega, owner/name; "
        "see `dallebot models`), `things` or `shapes` (the two embedded models) or a model directory; "
        "null: the embedded things model (everyday things and shapes)",
    )
    device: str = Field("auto", pattern=r"^(auto|cpu|cuda(:\d+)?)$")
    dtype: Literal["auto", "float32", "float16", "bfloat16", "int8", "int8-dynamic"] = "auto"
    cpu_threads: int | None = Field(
        None,
        ge=1,
        description="torch CPU threads; null: 1 for a small model, else chosen by measurement while decoding",
    )
    compile: Literal["off", "parts", "step"] = Field(
        "off",
        description="torch.compile the decode step, per batch size: one image's while loading (static "
        "batching), others at their first request (CUDA: 25-30% faster tokens on an H200, 13-39 s "
        "to compile; CPU with AMX: 'step' keeps the matrices bf16 and decodes Mini 1.3-1.4x faster on "
        "a 2-core Xeon (a 3x3 grid 1.6x), ~30 s to compile, needs a C++ compiler; without AMX bf16 stays "
        "eager (Inductor's AVX512-BF16 GEMMs were slower than FBGEMM's), int8 compiles (1.5x on an EPYC). "
        "A compiled step is not batch-invariant: "
        "a picture's tokens then depend on what it was batched with, not on its seed alone. Falls "
        "back to eager where compiling fails)",
    )
    defaults: GenerationDefaults = Field(default_factory=GenerationDefaults)
    limits: GenerationLimits = Field(default_factory=GenerationLimits)


class QuotaOverride(_Section):
    """Per-platform changes to the default quota; unset fields keep the default."""

    images_per_window: int | None = Field(None, ge=0)
    window_seconds: int | None = Field(None, ge=1)
    max_in_flight: int | None = Field(None, ge=1)


class QuotaSettings(_Section):
    images_per_window: int = Field(10, ge=0, description="images one user may request per window")
    window_seconds: int = Field(3600, ge=1)
    max_in_flight: int = Field(2, ge=1, description="queued + running requests one user may have")
    per_platform: dict[Platform, QuotaOverride] = Field(default_factory=dict)

    def policy_for(self, platform: Platform) -> QuotaPolicy:
        """The default policy with `platform`'s overrides applied."""
        override = self.per_platform.get(Platform(platform))
        changes = override.model_dump(exclude_none=True) if override else {}
        return QuotaPolicy(
            images_per_window=changes.get("images_per_window", self.images_per_window),
            window_seconds=changes.get("window_seconds", self.window_seconds),
            max_in_flight=changes.get("max_in_flight", self.max_in_flight),
        )


class QueueSettings(_Section):
    cap: int | None = Field(200, ge=1, description="queued requests beyond which submit says 'queue full'")
    max_share: float = Field(
        0.25,
        gt=0,
        le=1,
        description="the most of `cap` one user (on the web: one address) may hold, so one cannot fill it",
    )


class WorkerSettings(_Section):
    lease_seconds: float = Field(60.0, gt=0, description="a claim not heartbeaten for this long is re-queued")
    heartbeat_seconds: float = Field(15.0, gt=0)
    batch_size: int = Field(4, ge=1, le=64, description="requests generated in one pipeline call")
    max_attempts: int = Field(3, ge=1, description="generation attempts before a request fails for good")
    poll_seconds: float = Field(0.5, gt=0, description="wait between claims when the queue is empty")
    batching: Literal["auto", "static", "continuous"] = Field(
        "auto",
        description="static: claim a batch, decode it to the end; continuous: requests join the batch being "
        "decoded (the decoder's per-slot positions); auto: continuous on CUDA, static on the CPU",
    )
    slots: int = Field(64, ge=1, le=1024, description="images decoded at once in continuous batching")
    preview_every: float = Field(
        0.25,
        ge=0,
        lt=1,
        description="a preview (the tokens so far through the VQGAN) at every such fraction of the steps; "
        "0: none. Progress is shown by front ends of the worker's own process",
    )
    preview_max_share: float = Field(
        0.10,
        ge=0,
        le=1,
        description="previews are skipped when their measured cost would pass this share of a call",
    )

    @model_validator(mode="after")
    def _heartbeat_inside_lease(self) -> WorkerSettings:
        if self.heartbeat_seconds >= self.lease_seconds:
            raise ValueError("heartbeat_seconds must be shorter than lease_seconds, or leases expire mid-job")
        return self


class WebSettings(_Section):
    enabled: bool = Field(True, description="the local web playground (needs no account or secret)")
    host: str = Field("127.0.0.1", description="bind address; 0.0.0.0 exposes it to your network")
    port: int = Field(8080, ge=0, le=65535, description="0: any free port")
    gallery_size: int = Field(24, ge=1, le=200)
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Host names the playground answers to; empty: the loopback names and `host`",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="addresses or networks of your reverse proxies, whose X-Forwarded-For is believed",
    )
    submits_per_minute: int = Field(
        10, ge=1, le=10_000, description="submits per client address a minute, on top of the quota"
    )

    @model_validator(mode="after")
    def _proxies_are_networks(self) -> WebSettings:
        for entry in self.trusted_proxies:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"trusted_proxies: {entry!r} is not an IP address or network (like 10.0.0.1, 10.0.0.0/8)"
                ) from None
        return self


class Settings(_Section):
    """All of config.yaml."""

    storage: StorageSettings = Field(default_factory=StorageSettings)
    generation: GenerationSettings = Field(default_factory=GenerationSettings)
    quotas: QuotaSettings = Field(default_factory=QuotaSettings)
    queue: QueueSettings = Field(default_factory=QueueSettings)
    worker: WorkerSettings = Field(default_factory=WorkerSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    safety: SafetySettings = Field(default_factory=SafetySettings)
    discord: DiscordSettings = Field(default_factory=DiscordSettings)
    x: XSettings = Field(default_factory=XSettings)
    daily: DailySettings = Field(default_factory=DailySettings)

    def admission_policy(self, platform: Platform) -> QuotaPolicy:
        """`platform`'s quota, its in-flight cap lowered to the user's share of the queue cap."""
        policy = self.quotas.policy_for(platform)
        if self.queue.cap is None:
            return policy
        share = max(1, int(self.queue.cap * self.queue.max_share))
        return replace(policy, max_in_flight=min(policy.max_in_flight, share))

    def database_url(self, env: Mapping[str, str]) -> str:
        """storage.url, unless env DALLEBOT_DATABASE_URL overrides it."""
        return env.get(DATABASE_URL_ENV) or self.storage.url


def _describe_errors(source: str, error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "(top level)"
        if item["type"] == "extra_forbidden":
            lines.append(f"{source}: {key}: unknown key (check its spelling and section)")
        else:
            lines.append(f"{source}: {key}: {item['msg']} (got {item.get('input')!r})")
    return "\n".join(lines)


def parse_settings(data: Mapping[str, Any] | None, *, source: str = "config.yaml") -> Settings:
    """Validate an already-parsed mapping; raise `ConfigError` naming each bad key."""
    try:
        return Settings.model_validate(dict(data or {}))
    except ValidationError as error:
        raise ConfigError(_describe_errors(source, error)) from None


def load_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    """Read and validate config.yaml; a missing default file means all defaults."""
    explicit = path is not None
    path = Path(path) if path is not None else DEFAULT_CONFIG_PATH
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if explicit:
            raise ConfigError(f"{path}: no such file (pass --config with an existing file)") from None
        return Settings()
    except OSError as error:
        raise ConfigError(f"{path}: cannot read it: {error.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {error}") from None
    if data is not None and not isinstance(data, Mapping):
        raise ConfigError(f"{path}: the top level must be a mapping of sections (storage:, generation:, …)")
    return parse_settings(data, source=str(path))
