"""What the web playground asks of the core: `Service` plus its reads, the gallery and readiness.

`bot.service.BotService` implements all of it. `settings` is read for what the page shows
(limits, the model's name, the web quota) and for the readiness check's timeout.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from bot.adapters.base import Service

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.domain import Platform, Request
    from bot.service import RequestView
    from storage import QuotaStatus

T = TypeVar("T")


class WebService(Service, Protocol):
    settings: Settings

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking call on the core's thread pool (the metrics exposition)."""
        ...

    async def view(self, request_id: int) -> RequestView | None: ...

    async def find_request(self, platform: Platform, external_id: str) -> Request | None: ...

    async def quota_status(self, platform: Platform, user_id: str) -> QuotaStatus: ...

    def preview(self, request_id: int) -> tuple[int, bytes] | None:
        """(step, PNG) of the latest preview of a request being generated in this process."""
        ...

    async def recent_images(self, limit: int) -> list[Request]: ...

    async def get_image(self, request_id: int) -> bytes | None: ...

    async def flagged(self, request_id: int) -> bool: ...

    async def hide(self, request_id: int) -> None: ...

    async def probe(self) -> None:
        """Raises StorageError while storage is unavailable."""
        ...
