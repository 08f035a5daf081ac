"""The interface between the bot core and a platform.

An adapter is thin: it parses the platform's events into `NewRequest`s, calls `service.submit`,
and formats what the core hands back. Quotas, filters and the queue never live in an adapter;
it never touches storage except through the `Service` it is given in `start`.

Lifecycle, driven by the composition root (bot/app.py):
    adapter = bot.adapters.<platform>.build_adapter(settings, env)   # None: disabled / no secret
    await adapter.start(service)     # begin receiving; must return once listening (spawn tasks)
    ...                              # the core's delivery loop calls deliver / reconcile / progress
    await adapter.stop()             # stop receiving, close sessions; idempotent

Delivery (the outbox, bot/delivery.py) is effectively-once:
  * `deliver(delivery)` posts one outbox entry — `delivery.kind` is DeliveryKind.IMAGE
    (delivery.image_png is a PNG; delivery.image_action says whether the image gate allowed it
    only behind a spoiler), FAILURE (delivery.message says what went wrong, in the bot's words)
    or REJECTION (delivery.message is the Rejected message) — and returns the id of what it
    posted (message id, tweet id...). The core stores that id.
  * On failure it raises `DeliveryError` classified as:
      retryable  — nothing was posted (network error before sending, 429, 5xx); the core retries
                   after `retry_after` seconds (or its own backoff) without counting it as
                   an attempt when `retry_after` comes from a rate limit.
      ambiguous  — it may have been posted (timeout after sending); the core calls `reconcile`
                   before it ever calls `deliver` again for that request.
      permanent  — it will never work (4xx policy error, expired token); the core marks the
                   delivery failed, keeps the error, and does not retry.
    Any other exception is treated as ambiguous: the core cannot know whether it posted.
  * `reconcile(request)` looks on the platform for the bot's earlier reply to that request and
    returns its id if one landed, else None (then the core delivers again). An adapter whose
    posts cannot be looked up returns None only when it is sure nothing was posted.

Factories: each platform package exposes
    REQUIRED_ENV: tuple[str, ...]        # the env vars holding its secrets (names only)
    build_adapter(settings: bot.config.Settings, env: Mapping[str, str]) -> Adapter | None
returning None when the platform is switched off (its section's `enabled: false`) or, with
`enabled` left at its default, when its secrets are absent; raising `MissingSecret` when config
enables it explicitly but a secret is missing. It must not connect anywhere: `start` does that.

Rejections: `submit` returns `Rejected` straight away. An adapter that can answer at once
(a web response, a Discord interaction) sets `inline_rejections = True` and answers itself; the
core then never sends it rejection deliveries. An adapter that ingests in the background (X
mentions) sets it False and receives kind "rejection" through `deliver`, so the user is told once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar, Literal, Protocol

from bot.domain import NewRequest, Outcome, Platform, Request

if TYPE_CHECKING:  # storage is only a type here: adapters never import it at runtime
    from bot.service import RequestView
    from storage import Delivery, QueueStats, QuotaStatus

DeliveryErrorKind = Literal["retryable", "ambiguous", "permanent"]


class DeliveryError(Exception):
    """A failed post, classified so the core knows whether and when to try again."""

    def __init__(self, kind: DeliveryErrorKind, message: str, *, retry_after: float | None = None):
        if kind not in ("retryable", "ambiguous", "permanent"):
            raise ValueError(f"DeliveryError kind must be retryable, ambiguous or permanent, not {kind!r}")
        super().__init__(message)
        self.kind: DeliveryErrorKind = kind
        self.message = message
        self.retry_after = retry_after  # seconds; from a rate-limit reset header where there is one

    def __repr__(self) -> str:
        return f"DeliveryError({self.kind!r}, {self.message!r}, retry_after={self.retry_after!r})"


class MissingSecret(Exception):
    """A platform is enabled in config.yaml but an env var it needs is not set (names it, never its value)."""

    def __init__(self, platform: Platform | str, env_var: str):
        platform = Platform(platform)
        super().__init__(
            f"{platform.value} is enabled in config.yaml ({platform.value}.enabled) but environment "
            f"variable {env_var} is not set: export it, or set {platform.value}.enabled: false"
        )
        self.platform = platform
        self.env_var = env_var


class Service(Protocol):
    """What an adapter may ask of the core (bot.service.BotService implements it)."""

    async def submit(self, new: NewRequest) -> Outcome:
        """Validate → prompt gate → ban → quota → enqueue; idempotent on (platform, external_id)."""
        ...

    async def submit_many(
        self, news: Sequence[NewRequest], *, platform: Platform, cursor: tuple[str, str] | None = None
    ) -> list[Outcome]:
        """Submit one platform's page of events in one transaction; `cursor` = (key, value) is
        stored with them under `platform`, even when the page is empty."""
        ...

    async def get_cursor(self, platform: Platform, key: str) -> str | None:
        """A platform's stored ingestion cursor (e.g. X's since_id)."""
        ...

    async def find_request(self, platform: Platform, external_id: str) -> Request | None:
        """The stored request for a platform id, if any."""
        ...

    async def quota_status(self, platform: Platform, user_id: str) -> QuotaStatus:
        """How much of the user's quota is used and when it refills."""
        ...

    async def view(self, request_id: int) -> RequestView | None:
        """A stored request with its queue position and ETA (for progress messages)."""
        ...

    async def queue_stats(self) -> QueueStats:
        """How many requests are queued, running, recently done or failed."""
        ...

    async def ban(self, platform: Platform, user_id: str, *, reason: str = "") -> None:
        """Moderation: refuse this user's requests from now on."""
        ...

    async def unban(self, platform: Platform, user_id: str) -> None: ...

    async def reset_quota(self, platform: Platform, user_id: str) -> None: ...


class Adapter(ABC):
    """One platform: receives events into `service.submit`, posts what the outbox hands it."""

    platform: ClassVar[Platform]
    inline_rejections: ClassVar[bool] = True

    @abstractmethod
    async def start(self, service: Service) -> None:
        """Begin receiving events; return once listening (long-running work goes in tasks)."""

    @abstractmethod
    async def stop(self) -> None:
        """Stop receiving and release connections; safe to call twice."""

    @abstractmethod
    async def deliver(self, delivery: Delivery) -> str:
        """Post one outbox entry and return the posted id; raise `DeliveryError` on failure."""

    @abstractmethod
    async def reconcile(self, request: Request) -> str | None:
        """The id of an earlier post for `request` that did land, else None."""

    async def progress(self, request: Request, *, position: int, eta_seconds: float | None) -> None:  # noqa: B027
        """Show queue position / ETA where the platform can (optional; default does nothing)."""

    def preflight(self) -> None:  # noqa: B027
        """Check, before the slow parts start (the model loads), what would stop `start` (a taken
        port); raise OSError saying why. The default checks nothing."""

    def takes_daily(self) -> bool:
        """Whether it can post the daily prompt's image (which nobody asked for: no user, no channel);
        the daily job submits only to platforms whose adapter says so."""
        return True

    def describe(self) -> str:
        """One line for `dallebot check-config` and the startup log (no secrets)."""
        return f"{self.platform.value}: enabled"
