"""What the playground answers while its storage is down, and the two health endpoints.

* Every route runs inside `answer_outages`: a storage error becomes `503` with `Retry-After` and a
  short JSON reason (`{"status": "unavailable", "reason": "storage_locked", …}`), never exception
  text or a traceback (the log keeps those); any other error is guard.py's plain `500`.
* `/healthz`: the process is alive and serving HTTP. It never touches storage, so a database
  outage does not get a healthy process restarted.
* `/readyz`: the bot can take requests now. It makes a real write (one row, upserted) within the
  storage write timeout; `503` when that fails or takes longer.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from aiohttp import web

from storage import StorageError
from storage.outage import kind_of

if TYPE_CHECKING:
    from bot.adapters.web.ports import WebService

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
_MESSAGES = {  # what a client may read, by storage.outage kind
    "unreachable": "the bot's database cannot be reached",
    "locked": "the bot's database is busy",
    "read_only": "the bot's database is read-only",
    "full": "the bot's database has no space left",
    "other": "the bot's database failed",
    "timeout": "the bot's database did not answer in time",
}


def unavailable(kind: str) -> web.Response:
    """503 with Retry-After and a short reason; never the exception's text."""
    return web.json_response(
        {
            "status": "unavailable",
            "reason": f"storage_{kind}",
            "message": f"{_MESSAGES.get(kind, _MESSAGES['other'])}; try again in a few seconds",
            "retry_after_seconds": RETRY_AFTER_SECONDS,
        },
        status=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


@web.middleware
async def answer_outages(request: web.Request, handler: Any) -> web.StreamResponse:
    """Storage errors → 503 + Retry-After; no traceback reaches a client."""
    try:
        response = await handler(request)
    except web.HTTPException:
        raise  # aiohttp's own answers (404, 405, 413 …)
    except StorageError as error:
        # an outage is logged once by storage.outage; a single request's failure only at DEBUG
        log.debug("%s %s: storage error: %s", request.method, request.path, error)
        return unavailable(kind_of(error))
    if response.status == 503 and "Retry-After" not in response.headers:
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)  # e.g. submit's "unavailable" rejection
    return response


async def healthz(request: web.Request) -> web.Response:
    """Alive: this process answers HTTP (storage is not consulted)."""
    return web.json_response({"status": "ok"})


async def readyz(service: WebService) -> web.Response:
    """Ready: a real write went through within the write timeout (plus a little for the thread hop)."""
    timeout = service.settings.storage.write_timeout_seconds + 0.5
    try:
        await asyncio.wait_for(service.probe(), timeout)
    except TimeoutError:
        return unavailable("timeout")
    except StorageError as error:
        return unavailable(kind_of(error))
    return web.json_response({"status": "ready"})
