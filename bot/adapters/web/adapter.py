"""The local web playground: the platform that needs no account.

A page to type a prompt, watch the request's queue position and then its image; the browser's
remaining quota; rejections with their reason; a gallery of recent images (daily prompts included);
/healthz and /metrics. Each browser is its own user through a random cookie, so quotas apply.

Like every adapter it only translates: HTTP → `NewRequest` → `service.submit`, and the outbox's
deliveries → "shown" (the page polls and displays an image once its delivery is recorded).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import uuid
from datetime import datetime
from importlib import resources
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.adapters.base import Adapter
from bot.config import WebSettings
from bot.domain import Accepted, NewRequest, Options, Platform, Rejected, RejectionReason, Request, Status
from bot.metrics import Metrics

if TYPE_CHECKING:
    from bot.service import BotService
    from storage import Delivery

log = logging.getLogger(__name__)

COOKIE = "dallebot_user"
USER_ID = web.RequestKey("user_id", str)
_OPTION_FIELDS = ("seed", "images", "top_k", "temperature", "cond_scale")
_HTTP_STATUS = {  # what a rejection looks like to HTTP clients
    RejectionReason.QUOTA_EXCEEDED: 429,
    RejectionReason.TOO_MANY_IN_FLIGHT: 429,
    RejectionReason.QUEUE_FULL: 503,
    RejectionReason.UNAVAILABLE: 503,
    RejectionReason.BANNED: 403,
    RejectionReason.UNSAFE_PROMPT: 422,
    RejectionReason.PLATFORM_DISABLED: 503,
}


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None


def _user_id(token: str) -> str:
    """The stored user id: a hash of the cookie, so the database never holds the cookie itself."""
    return "browser-" + hashlib.sha256(token.encode()).hexdigest()[:16]


class WebAdapter(Adapter):
    platform = Platform.WEB
    inline_rejections = True  # the HTTP response carries the rejection

    def __init__(self, settings: WebSettings, *, metrics: Metrics | None = None) -> None:
        self.settings = settings
        self.metrics = metrics or Metrics()
        self.service: BotService | None = None
        self._runner: web.AppRunner | None = None
        self.url: str | None = None

    def describe(self) -> str:
        return f"web: playground on http://{self.settings.host}:{self.settings.port}/"

    # -- Adapter -------------------------------------------------------------------------------

    async def start(self, service: BotService) -> None:  # type: ignore[override]
        """Serve the playground; `self.url` is where it listens (port 0 picks a free one)."""
        self.service = service
        self._runner = web.AppRunner(self.build_app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.host, self.settings.port)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://{self.settings.host}:{port}/"
        log.info("web playground on %s", self.url)

    async def stop(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def deliver(self, delivery: Delivery) -> str:
        """Nothing leaves the machine: recording the delivery is what lets the page show it."""
        return f"web:{delivery.request.id}"

    async def reconcile(self, request: Request) -> str | None:
        return None  # delivering again is harmless: it posts nothing anywhere

    # -- HTTP ----------------------------------------------------------------------------------

    def build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._identify], client_max_size=64 * 1024)
        app.add_routes(
            [
                web.get("/", self._page),
                web.post("/api/requests", self._submit),
                web.get("/api/requests/{id:\\d+}", self._status),
                web.get("/api/quota", self._quota),
                web.get("/api/gallery", self._gallery),
                web.get("/images/{id:\\d+}.png", self._image),
                web.get("/healthz", self._health),
                web.get("/metrics", self._metrics),
            ]
        )
        return app

    @web.middleware
    async def _identify(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """Give each browser a random cookie; its hash is that browser's user id."""
        token = request.cookies.get(COOKIE, "")
        fresh = not (16 <= len(token) <= 64 and token.isascii())
        if fresh:
            token = secrets.token_urlsafe(24)
        request[USER_ID] = _user_id(token)
        response = await handler(request)
        if fresh:
            response.set_cookie(COOKIE, token, max_age=365 * 24 * 3600, httponly=True, samesite="Strict")
        return response

    async def _page(self, request: web.Request) -> web.Response:
        html = resources.files(__package__).joinpath("page.html").read_text(encoding="utf-8")
        return web.Response(text=html, content_type="text/html", headers={"Cache-Control": "no-store"})

    async def _submit(self, request: web.Request) -> web.Response:
        assert self.service is not None
        if request.content_type != "application/json":  # also keeps cross-site form posts out
            return _error(415, "send the request as JSON (Content-Type: application/json)")
        try:
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError("not an object")
        except ValueError:
            return _error(400, 'the body must be a JSON object like {"prompt": "a red fox"}')
        unknown = set(body) - {"prompt", "id", *_OPTION_FIELDS}
        if unknown:
            return _error(400, f"unknown field(s): {', '.join(sorted(unknown))}")
        external_id = str(body.get("id") or uuid.uuid4())[:64]  # a client id makes retries idempotent
        options = Options(**{name: body[name] for name in _OPTION_FIELDS if body.get(name) is not None})
        prompt = body.get("prompt")
        outcome = await self.service.submit(
            NewRequest(
                platform=Platform.WEB,
                external_id=external_id,
                user_id=request[USER_ID],
                prompt=prompt if isinstance(prompt, str) else "",
                options=options,
            )
        )
        if isinstance(outcome, Rejected):
            return web.json_response(
                {
                    "status": "rejected",
                    "reason": outcome.reason.value,
                    "message": outcome.message,
                    "retry_after": _iso(outcome.retry_after),
                },
                status=_HTTP_STATUS.get(outcome.reason, 422),
            )
        assert isinstance(outcome, Accepted)
        return web.json_response(
            {
                "status": "queued",
                "request_id": outcome.request_id,
                "position": outcome.position,
                "eta_seconds": outcome.eta_seconds,
                "duplicate": outcome.duplicate,
            },
            status=202,
        )

    async def _status(self, request: web.Request) -> web.Response:
        assert self.service is not None
        view = await self.service.view(int(request.match_info["id"]))
        if view is None or not _public(view.request):
            return _error(404, "no such request")
        stored = view.request
        shown = stored.status is Status.DONE and stored.posted_message_id is not None
        return web.json_response(
            {
                "request_id": stored.id,
                "status": stored.status.value,
                "prompt": stored.prompt,
                "position": view.position,
                "eta_seconds": view.eta_seconds,
                "attempts": stored.attempts,
                "image_url": f"/images/{stored.id}.png" if shown else None,
                "error": stored.last_error if stored.status in (Status.FAILED, Status.REJECTED) else None,
            }
        )

    async def _quota(self, request: web.Request) -> web.Response:
        assert self.service is not None
        status = await self.service.quota_status(Platform.WEB, request[USER_ID])
        policy = self.service.settings.quotas.policy_for(Platform.WEB)
        return web.json_response(
            {
                "used": status.used,
                "remaining": status.remaining,
                "refills_at": _iso(status.refills_at),
                "in_flight": status.in_flight,
                "images_per_window": policy.images_per_window,
                "window_seconds": policy.window_seconds,
                "max_in_flight": policy.max_in_flight,
            }
        )

    async def _gallery(self, request: web.Request) -> web.Response:
        assert self.service is not None
        # Read more than shown: other platforms' images are skipped, and a daily prompt posted to
        # several platforms appears once.
        recent, seen = [], set()
        for item in await self.service.recent_images(self.settings.gallery_size * 4):
            if _public(item) and item.external_id not in seen and len(recent) < self.settings.gallery_size:
                seen.add(item.external_id)
                recent.append(item)
        return web.json_response(
            [
                {
                    "request_id": item.id,
                    "prompt": item.prompt,
                    "platform": item.platform.value,
                    "daily": item.external_id.startswith("daily:"),
                    "image_url": f"/images/{item.id}.png",
                    "created_at": _iso(item.created_at),
                }
                for item in recent
            ]
        )

    async def _image(self, request: web.Request) -> web.Response:
        assert self.service is not None
        request_id = int(request.match_info["id"])
        view = await self.service.view(request_id)
        png = await self.service.get_image(request_id) if view and _public(view.request) else None
        if png is None:
            return _error(404, "no image for that request (not finished, blocked, or pruned)")
        return web.Response(body=png, content_type="image/png", headers={"Cache-Control": "max-age=86400"})

    async def _health(self, request: web.Request) -> web.Response:
        assert self.service is not None
        try:
            stats = await self.service.call(self.service.store.stats)
        except Exception as error:
            return web.json_response({"status": "unavailable", "error": str(error)}, status=503)
        return web.json_response({"status": "ok", "queued": stats.queued, "running": stats.running})

    async def _metrics(self, request: web.Request) -> web.Response:
        assert self.service is not None
        body = await self.service.call(self.metrics.exposition)
        return web.Response(body=body, headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})


def _public(item: Request) -> bool:
    """What the playground may show: its own requests and the daily prompts, never other platforms' users'."""
    return item.platform is Platform.WEB or item.external_id.startswith("daily:")


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"status": "error", "message": message}, status=status)
