"""The local web playground: the platform that needs no account.

A page to type a prompt and choose its options (images 1/4/9, seed, top-k, temperature, condition
scale within the configured limits), watch each request's queue position and then its pictures (the
grid as one PNG, and each tile alone); the visitor's remaining quota; rejections with their reason;
a gallery of recent images (daily prompts included);
/healthz, /readyz and /metrics (health.py: a storage outage answers 503 with Retry-After,
never a traceback). A visitor is its client address (quotas cannot be reset by dropping a
cookie); its cookie owns its requests, whose HTTP ids are unguessable tokens (see identity.py).
Every response passes the guards in guard.py.

Like every adapter it only translates: HTTP → `NewRequest` → `service.submit`, and the outbox's
deliveries → "shown" (the page polls and displays an image once its delivery is recorded).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
import socket
import uuid
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.adapters.base import Adapter
from bot.adapters.web import identity, pictures
from bot.adapters.web.admin import Admin, Moderation, admin_routes
from bot.adapters.web.guard import (
    RateLimiter,
    add_security_headers,
    allowed_hosts,
    check_host_and_origin,
    contain_errors,
    error,
    retry_after_header,
)
from bot.adapters.web.health import answer_outages, healthz, readyz
from bot.adapters.web.views import iso, model_words, page_options, request_status
from bot.config import WebSettings
from bot.domain import Accepted, NewRequest, Options, Platform, Rejected, RejectionReason, Request
from bot.metrics import Metrics
from generation.about import ModelFacts, describe_model

if TYPE_CHECKING:
    from bot.adapters.web.ports import WebService
    from storage import Delivery

log = logging.getLogger(__name__)

COOKIE = "dallebot_user"
COOKIE_TOKEN = web.RequestKey("cookie_token", str)
ADDRESS_KEY = web.RequestKey("address_key", str)
_OPTION_FIELDS = ("seed", "images", "top_k", "temperature", "cond_scale")
_CLIENT_ID_CHARS = 64
_MAX_BODY = 64 * 1024  # bytes of a submit; aiohttp answers 413 past it
_RANDOM_SEEDS = 2**31  # a seed left blank is drawn here, so the page can show it afterwards
_COOKIE_SHAPE = re.compile(r"[A-Za-z0-9_-]{32}")
_STATIC = {"page.js": "application/javascript", "page.css": "text/css"}
_HTTP_STATUS = {  # what a rejection looks like to HTTP clients
    RejectionReason.QUOTA_EXCEEDED: 429,
    RejectionReason.TOO_MANY_IN_FLIGHT: 429,
    RejectionReason.QUEUE_FULL: 503,
    RejectionReason.UNAVAILABLE: 503,
    RejectionReason.BANNED: 403,
    RejectionReason.UNSAFE_PROMPT: 422,
    RejectionReason.PLATFORM_DISABLED: 503,
}


class WebAdapter(Adapter):
    platform = Platform.WEB
    inline_rejections = True  # the HTTP response carries the rejection

    def __init__(
        self, settings: WebSettings, *, metrics: Metrics | None = None, admin_token: str | None = None
    ) -> None:
        self.settings = settings
        self.admin = Admin(admin_token)  # admin.py: who may hide gallery images from the page
        self.metrics = metrics or Metrics()
        self.service: WebService | None = None
        self._runner: web.AppRunner | None = None
        self.url: str | None = None
        self._trusted = identity.parse_networks(settings.trusted_proxies)
        self._model: ModelFacts | None = None
        self.limiter = RateLimiter(settings.submits_per_minute)  # its clock is replaceable in tests

    def describe(self) -> str:
        hosts = ", ".join(sorted(allowed_hosts(self.settings.allowed_hosts, self.settings.host)))
        proxies = ", ".join(self.settings.trusted_proxies) or "none"
        return (
            f"web: playground on http://{self.settings.host}:{self.settings.port}/ (answers to Host {hosts}; "
            f"trusted proxies {proxies}; {self.settings.submits_per_minute} submits a minute per address)"
        )

    # -- Adapter -------------------------------------------------------------------------------

    async def start(self, service: WebService) -> None:  # type: ignore[override]
        """Serve the playground; `self.url` is where it listens (port 0 picks a free one)."""
        self.service = service
        self._runner = web.AppRunner(self.build_app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.host, self.settings.port)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://{self.settings.host}:{port}/"
        log.info("web playground on %s", self.url)

    def preflight(self) -> None:
        """Bind the configured address and let it go: a taken port is found before the model loads."""
        if self.settings.port == 0:
            return
        for family, kind, proto, _, address in socket.getaddrinfo(
            self.settings.host, self.settings.port, type=socket.SOCK_STREAM
        ):
            with socket.socket(family, kind, proto) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as aiohttp binds
                probe.bind(address)

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
        guards = [
            contain_errors(),
            answer_outages,  # inside contain_errors: storage errors are 503s, not 500s
            check_host_and_origin(allowed_hosts(self.settings.allowed_hosts, self.settings.host)),
            self._identify,
        ]
        app = web.Application(middlewares=guards, client_max_size=_MAX_BODY)
        app.on_response_prepare.append(add_security_headers)
        app.add_routes(
            [
                web.get("/", self._page),
                web.get("/static/{name}", self._static),
                web.post("/api/requests", self._submit),
                web.get("/api/requests/{token}", self._status),
                web.get("/api/requests/{token}/preview.png", self._preview),
                web.get("/api/quota", self._quota),
                web.get("/api/about", self._about),
                web.get("/api/gallery", self._gallery),
                web.get("/images/{token}.png", self._image),
                web.get("/images/{token}/{tile:[0-9]{1,2}}.png", self._image),
                *admin_routes(self.admin, self._moderation()),
                web.get("/healthz", healthz),
                web.get("/readyz", self._ready),
                web.get("/metrics", self._metrics),
            ]
        )
        return app

    @web.middleware
    async def _identify(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """The visitor: its address (behind trusted proxies), and a random cookie that owns its requests."""
        forwarded = request.headers.getall("X-Forwarded-For", [])
        address = identity.client_address(request.remote, forwarded, self._trusted)
        request[ADDRESS_KEY] = identity.address_key(address)
        token = request.cookies.get(COOKIE, "")
        fresh = _COOKIE_SHAPE.fullmatch(token) is None
        if fresh:
            token = secrets.token_urlsafe(24)
        request[COOKIE_TOKEN] = token
        response = await handler(request)
        if fresh:
            response.set_cookie(
                COOKIE,
                token,
                max_age=365 * 24 * 3600,
                httponly=True,
                samesite="Strict",
                secure=self._over_tls(request),
            )
        return response

    def _over_tls(self, request: web.Request) -> bool:
        """The visitor reached us over HTTPS: directly, or through a trusted proxy that says so
        (X-Forwarded-Proto). Then the cookie is Secure: a browser never sends it in clear."""
        if request.secure:
            return True
        proto = request.headers.get("X-Forwarded-Proto", "").split(",")[-1].strip().lower()
        return proto == "https" and identity.is_trusted(request.remote, self._trusted)

    async def _page(self, request: web.Request) -> web.Response:
        html = resources.files(__package__).joinpath("page.html").read_text(encoding="utf-8")
        return web.Response(text=html, content_type="text/html", headers={"Cache-Control": "no-store"})

    async def _static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in _STATIC:  # a fixed list: a name never reaches the file system
            return error(404, "no such file")
        text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
        return web.Response(text=text, content_type=_STATIC[name], headers={"Cache-Control": "no-cache"})

    async def _submit(self, request: web.Request) -> web.Response:
        assert self.service is not None
        if request.content_type != "application/json":  # also keeps cross-site form posts out
            return error(415, "send the request as JSON (Content-Type: application/json)")
        wait = self.limiter.take(request[ADDRESS_KEY])
        if wait is not None:
            return web.json_response(
                {
                    "status": "rejected",
                    "reason": "rate_limited",
                    "message": f"Too many requests from your address; wait {max(1, round(wait))} s.",
                    "retry_after": iso(datetime.now(UTC) + timedelta(seconds=wait)),
                },
                status=429,
                headers=retry_after_header(wait),
            )
        body = await _json_object(request)
        if isinstance(body, web.Response):
            return body
        unknown = set(body) - {"prompt", "id", *_OPTION_FIELDS}
        if unknown:
            return error(400, f"unknown field(s): {', '.join(sorted(unknown)[:10])[:200]}")
        client_id = body.get("id")
        if client_id is None:
            client_id = str(uuid.uuid4())
        if not isinstance(client_id, str) or not 0 < len(client_id) <= _CLIENT_ID_CHARS:
            return error(
                400, f"id must be a string of 1 to {_CLIENT_ID_CHARS} characters (it makes retries safe)"
            )
        prompt = body.get("prompt")
        if prompt is not None and not isinstance(prompt, str):
            return error(400, 'prompt must be text, like {"prompt": "a red fox"}')
        chosen = {name: body[name] for name in _OPTION_FIELDS if body.get(name) is not None}
        chosen.setdefault("seed", secrets.randbelow(_RANDOM_SEEDS))
        options = Options(**chosen)
        token = identity.request_token(request[COOKIE_TOKEN], client_id)
        outcome = await self.service.submit(
            NewRequest(
                platform=Platform.WEB,
                external_id=token,  # scoped to this browser: another's same client id is another request
                user_id=identity.user_id(request[ADDRESS_KEY]),
                prompt=prompt or "",
                options=options,
            )
        )
        if isinstance(outcome, Rejected):
            return web.json_response(
                {
                    "status": "rejected",
                    "reason": outcome.reason.value,
                    "message": outcome.message,
                    "retry_after": iso(outcome.retry_after),
                },
                status=_HTTP_STATUS.get(outcome.reason, 422),
            )
        assert isinstance(outcome, Accepted)
        return web.json_response(
            {
                "status": "queued",
                "request_id": token,
                "position": outcome.position,
                "eta_seconds": outcome.eta_seconds,
                "duplicate": outcome.duplicate,
                "options": options.to_dict(),
            },
            status=202,
        )

    async def _status(self, request: web.Request) -> web.Response:
        """A request's details, to the browser that sent it only (anyone else: as if it did not exist)."""
        assert self.service is not None
        token = request.match_info["token"]
        if not identity.owns(request[COOKIE_TOKEN], token):
            return error(404, "no such request")
        stored = await self.service.find_request(Platform.WEB, token)
        view = None if stored is None else await self.service.view(stored.id)
        if view is None:
            return error(404, "no such request")
        return web.json_response(request_status(token, view))

    async def _preview(self, request: web.Request) -> web.Response:
        """The latest preview of a request being drawn, to the browser that sent it only."""
        assert self.service is not None
        token = request.match_info["token"]
        stored = None
        if identity.owns(request[COOKIE_TOKEN], token):
            stored = await self.service.find_request(Platform.WEB, token)
        shown = None if stored is None else self.service.preview(stored.id)
        if shown is None:
            return error(404, "no preview for that request (not being drawn here, or none made yet)")
        return web.Response(body=shown[1], content_type="image/png", headers={"Cache-Control": "no-store"})

    async def _quota(self, request: web.Request) -> web.Response:
        assert self.service is not None
        status = await self.service.quota_status(Platform.WEB, identity.user_id(request[ADDRESS_KEY]))
        policy = self.service.settings.admission_policy(Platform.WEB)
        return web.json_response(
            {
                "used": status.used,
                "remaining": status.remaining,
                "refills_at": iso(status.refills_at),
                "in_flight": status.in_flight,
                "images_per_window": policy.images_per_window,
                "window_seconds": policy.window_seconds,
                "max_in_flight": policy.max_in_flight,
            }
        )

    async def _about(self, request: web.Request) -> web.Response:
        """What the form may offer (images 1/4/9 within the limits, the options' bounds), and what
        the configured model is and can draw."""
        assert self.service is not None
        if self._model is None:  # read once, from the model's files (no weights are loaded)
            self._model = await asyncio.to_thread(describe_model, self.service.settings.generation.model)
        return web.json_response(
            {"options": page_options(self.service.settings), "model": model_words(self._model)}
        )

    async def _gallery(self, request: web.Request) -> web.Response:
        assert self.service is not None
        return web.json_response(await pictures.gallery(self.service, self.settings.gallery_size))

    async def _image(self, request: web.Request) -> web.Response:
        """A finished picture by its public name: the grid, or with /N one tile of it."""
        assert self.service is not None
        tile = request.match_info.get("tile")
        return await pictures.picture(
            self.service, request.match_info["token"], None if tile is None else int(tile)
        )

    def _moderation(self) -> Moderation:
        """What the operator's routes (admin.py) use of the playground."""

        async def find_shown(name: str) -> list[Request]:
            assert self.service is not None
            return await pictures.find_shown(self.service, name)

        async def hide(request_id: int) -> None:
            assert self.service is not None
            await self.service.hide(request_id)

        def address(request: web.Request) -> str:
            return request[ADDRESS_KEY]

        return Moderation(self.limiter, address, self._over_tls, _json_object, find_shown, hide)

    async def _ready(self, request: web.Request) -> web.Response:
        assert self.service is not None
        return await readyz(self.service)

    async def _metrics(self, request: web.Request) -> web.Response:
        assert self.service is not None
        body = await self.service.call(self.metrics.exposition)
        return web.Response(body=body, headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})


async def _json_object(request: web.Request) -> dict[str, Any] | web.Response:
    """The body as a JSON object, or the 400 that says why not (nesting, numbers and size bounded)."""
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:  # past client_max_size: said in the page's words
        return error(413, f"The request is too large (over {_MAX_BODY // 1024} KiB); shorten the prompt.")
    try:
        body = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser's stack
        body = None
    if not isinstance(body, dict):
        return error(400, 'the body must be a JSON object like {"prompt": "a red fox"}')
    return body
