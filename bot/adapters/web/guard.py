"""HTTP that assumes a hostile client: the middlewares and headers every playground response passes.

- Unexpected errors become a plain 500 that names nothing inside (the details go to the log).
- The Host header must be one of the configured names (loopback names by default): a DNS
  rebinding page, whose browser sends its own host name, is refused.
- A state-changing request from a browser must come from the playground's own origin.
- Each client address may submit `web.submits_per_minute` times a minute (a token bucket in
  memory, on top of the persisted quota, so a storm costs no storage write).
- Every response carries a strict Content-Security-Policy (no inline script or style), nosniff,
  no framing and no referrer.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def error(status: int, message: str, **extra: Any) -> web.Response:
    """The playground's error body: a status word and a message for people."""
    return web.json_response({"status": "error", "message": message, **extra}, status=status)


def allowed_hosts(configured: Iterable[str], bind_host: str) -> frozenset[str]:
    """The Host names to answer: the configured ones, else loopback names and a specific bind address."""
    names = [name.strip().lower().strip("[]") for name in configured if name.strip()]
    if not names:
        names = [*LOOPBACK_HOSTS]
        if bind_host not in ("", "0.0.0.0", "::"):  # noqa: S104 (a comparison, nothing is bound)
            names.append(bind_host.lower().strip("[]"))
    return frozenset(names)


def host_name(host: str) -> str:
    """ "example.org:8080" → "example.org"; "[::1]:8080" → "::1"."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """`on_response_prepare`: every response, the framework's own errors included."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


def contain_errors() -> Any:
    """Any exception a handler did not expect: logged, answered with a 500 naming nothing inside."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPException:
            raise
        except Exception:
            log.exception("web: %s %s failed", request.method, request.path)
            return error(500, "Something went wrong on our side; try again later.")

    return middleware


def check_host_and_origin(hosts: frozenset[str]) -> Any:
    """Refuse unknown Host names, and cross-site state changes."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if host_name(request.headers.get("Host", "")) not in hosts:
            return error(421, "This server does not answer to that host name (see web.allowed_hosts).")
        if request.method not in _SAFE_METHODS and not _same_origin(request):
            return error(403, "Cross-site requests are not accepted; use the playground's own page.")
        return await handler(request)

    return middleware


def _same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if origin is not None:  # the scheme is left out: behind a TLS proxy the bot itself sees http
        _, _, origin_host = origin.partition("://")
        return bool(origin_host) and origin_host.lower() == request.headers.get("Host", "").lower()
    # No Origin: an old browser tells by Sec-Fetch-Site; a client sending neither is no browser
    # (curl, scripts), and a cross-site attack needs a victim's browser.
    return request.headers.get("Sec-Fetch-Site", "same-origin") in ("same-origin", "none")


class RateLimiter:
    """A token bucket per key: `per_minute` submits a minute, as a burst or spread out."""

    def __init__(
        self, per_minute: int, *, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000
    ) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0  # tokens per second
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}  # key → (tokens, when)

    def take(self, key: str) -> float | None:
        """Spend one token for `key`; None if there was one, else the seconds until there is."""
        now = self.clock()
        tokens, then = self._buckets.get(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - then) * self.rate)
        if tokens < 1:
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self.rate
        if key not in self._buckets and len(self._buckets) >= self.max_keys:
            self._forget_full(now)
        self._buckets[key] = (tokens - 1, now)
        return None

    def _forget_full(self, now: float) -> None:
        """Drop the keys whose bucket has refilled (they are as good as new); memory stays bounded."""
        refill = self.capacity / self.rate
        self._buckets = {key: kept for key, kept in self._buckets.items() if now - kept[1] < refill}
        while len(self._buckets) >= self.max_keys:  # every key busy: forget the stalest
            self._buckets.pop(next(iter(self._buckets)))


def retry_after_header(seconds: float) -> dict[str, str]:
    return {"Retry-After": str(max(1, math.ceil(seconds)))}
