"""An operator hides a gallery image from the page, as `dallebot mod hide ID` does from a shell.

The operator is whoever knows the secret in env DALLEBOT_WEB_ADMIN_TOKEN (at least 16
characters; unset: nobody is, and these routes answer 404). The page trades the secret once for
an HttpOnly, SameSite=Strict cookie (POST /api/admin/session); scripts may send it as
`Authorization: Bearer …` instead. Hiding is POST /api/admin/hide with {"image": NAME}, NAME
being a gallery item's `request_id`. Like every state change of the playground it must be JSON
and come from the page's own origin (guard.py), so another site cannot make an operator's
browser hide anything; wrong secrets spend the address's submit tokens, so they cannot be
guessed at speed.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.adapters.web.guard import RateLimiter, error
from bot.domain import Request

log = logging.getLogger(__name__)

ADMIN_TOKEN_ENV = "DALLEBOT_WEB_ADMIN_TOKEN"  # noqa: S105 (the variable's name, not a secret)
ADMIN_COOKIE = "dallebot_admin"
MIN_TOKEN_CHARS = 16
SESSION_SECONDS = 12 * 3600


def admin_token(env: Mapping[str, str]) -> str | None:
    """The operator's secret from the environment; None when unset. Too short: ValueError naming it."""
    token = env.get(ADMIN_TOKEN_ENV, "").strip()
    if not token:
        return None
    if len(token) < MIN_TOKEN_CHARS:
        raise ValueError(
            f"{ADMIN_TOKEN_ENV} is {len(token)} characters; use at least {MIN_TOKEN_CHARS} "
            "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(24))'`), or unset it"
        )
    return token


class Admin:
    """Who is the operator: the holder of the secret, or of the cookie derived from it."""

    def __init__(self, token: str | None) -> None:
        self._token = token.encode() if token else None
        # The cookie is a MAC of a fixed label under the secret: it proves the secret was shown
        # without storing it in the browser; changing the secret logs every browser out.
        label = b"dallebot web admin"
        self._cookie = hmac.new(self._token, label, hashlib.sha256).hexdigest() if self._token else ""

    @property
    def enabled(self) -> bool:
        return self._token is not None

    def is_secret(self, offered: str) -> bool:
        """True when `offered` is the secret (compared in constant time)."""
        return self._token is not None and hmac.compare_digest(offered.encode(), self._token)

    def is_admin(self, request: web.Request) -> bool:
        """The request carries the operator's cookie or the secret as a bearer token."""
        if self._token is None:
            return False
        cookie = request.cookies.get(ADMIN_COOKIE, "")
        if cookie and hmac.compare_digest(cookie.encode(), self._cookie.encode()):
            return True
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and self.is_secret(value.strip())

    def log_in(self, response: web.StreamResponse, *, secure: bool) -> None:
        """Give the browser the operator's cookie."""
        response.set_cookie(
            ADMIN_COOKIE,
            self._cookie,
            max_age=SESSION_SECONDS,
            httponly=True,
            samesite="Strict",
            secure=secure,
            path="/",
        )


@dataclass(frozen=True)
class Moderation:
    """What the operator's routes use of the playground."""

    limiter: RateLimiter  # the submit bucket: wrong secrets spend it
    address: Callable[[web.Request], str]  # the visitor's address key
    over_tls: Callable[[web.Request], bool]  # the cookie is Secure then
    read_json: Callable[[web.Request], Awaitable[dict[str, Any] | web.Response]]  # body, or the 400
    find_shown: Callable[[str], Awaitable[list[Request]]]  # a gallery name → its finished requests
    hide: Callable[[int], Awaitable[None]]  # the service's hide


_NOT_CONFIGURED = f"no operator is configured (env {ADMIN_TOKEN_ENV})"
_JSON_ONLY = "send the request as JSON (Content-Type: application/json)"


def admin_routes(admin: Admin, moderation: Moderation) -> list[web.RouteDef]:
    """GET /api/admin, POST /api/admin/session, POST /api/admin/hide."""

    async def status(request: web.Request) -> web.Response:
        """Whether this browser is the operator's (the page then shows a Hide control per image)."""
        return web.json_response({"available": admin.enabled, "admin": admin.is_admin(request)})

    async def log_in(request: web.Request) -> web.Response:
        """Trade the operator's secret for the operator's cookie; wrong guesses are rate limited."""
        if not admin.enabled:
            return error(404, _NOT_CONFIGURED)
        if request.content_type != "application/json":
            return error(415, _JSON_ONLY)
        wait = moderation.limiter.take(moderation.address(request))
        if wait is not None:
            return error(429, f"Too many attempts from your address; wait {max(1, round(wait))} s.")
        body = await moderation.read_json(request)
        if isinstance(body, web.Response):
            return body
        token = body.get("token")
        if not isinstance(token, str) or not admin.is_secret(token):
            log.warning("web: a wrong operator secret was sent")
            return error(403, "That is not the operator's secret.")
        response = web.json_response({"admin": True})
        admin.log_in(response, secure=moderation.over_tls(request))
        return response

    async def hide(request: web.Request) -> web.Response:
        """Hide one gallery image (every request its name stands for), as `dallebot mod hide`."""
        if not admin.enabled:
            return error(404, _NOT_CONFIGURED)
        if not admin.is_admin(request):
            return error(403, "Only the operator may hide images.")
        if request.content_type != "application/json":
            return error(415, _JSON_ONLY)
        body = await moderation.read_json(request)
        if isinstance(body, web.Response):
            return body
        name = body.get("image")
        if not isinstance(name, str) or set(body) != {"image"}:
            return error(400, 'send {"image": NAME}, NAME being a gallery item\'s request_id')
        found = await moderation.find_shown(name)
        if not found:
            return error(404, "no finished image by that name")
        for stored in found:
            await moderation.hide(stored.id)
        log.info("web: the operator hid %s (request %s)", name, ", ".join(str(s.id) for s in found))
        return web.json_response({"status": "hidden", "image": name, "requests": len(found)})

    return [
        web.get("/api/admin", status),
        web.post("/api/admin/session", log_in),
        web.post("/api/admin/hide", hide),
    ]
