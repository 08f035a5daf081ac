"""The playground's pictures: the gallery, and a finished picture by its public name (the grid as one
PNG, or one tile of it).

A public name is a web request's token or `daily-<date>`: never a row id, and never another
platform's user's request.
"""

from __future__ import annotations

import asyncio
import re
from io import BytesIO
from typing import TYPE_CHECKING, Any

from aiohttp import web
from PIL import Image

from bot.adapters.web import identity
from bot.adapters.web.guard import error
from bot.adapters.web.views import image_urls, iso
from bot.daily.job import PREFIX as DAILY_PREFIX
from bot.daily.job import daily_date
from bot.domain import Platform, Request, Status
from bot.image_gate import png_bytes
from generation.images import split_grid

if TYPE_CHECKING:
    from bot.adapters.web.ports import WebService

DAILY_IMAGE = re.compile(r"daily-(\d{4}-\d{2}-\d{2})")
_CACHED = {"Cache-Control": "max-age=86400"}


async def gallery(service: WebService, size: int) -> list[dict[str, Any]]:
    """The `size` most recent shown pictures: web requests and daily prompts (each daily once)."""
    # Read more than shown: other platforms' images are skipped, and a daily prompt posted to
    # several platforms appears once.
    recent: list[tuple[str, Request]] = []
    seen: set[str] = set()
    for item in await service.recent_images(size * 4):
        name = image_name(item)
        if name is not None and name not in seen and len(recent) < size:
            seen.add(name)
            recent.append((name, item))
    return [
        {
            "request_id": name,
            "prompt": item.prompt,
            "platform": item.platform.value,
            "daily": daily_date(item) is not None,
            **image_urls(name, item.options.images),
            "created_at": iso(item.created_at),
        }
        for name, item in recent
    ]


async def picture(service: WebService, name: str, tile: int | None) -> web.Response:
    """The grid named `name` as one PNG, or its tile `tile` (1-based); 404 in words otherwise."""
    png, images = None, 1
    for stored in await find_shown(service, name):
        if await service.flagged(stored.id):  # a gate flagged it, or an operator hid it
            continue
        png, images = await service.get_image(stored.id), stored.options.images
        if png is not None:
            break
    if png is None:
        return error(404, "no image for that request (not finished, blocked, or pruned)")
    if tile is not None:
        if images == 1 or not 1 <= tile <= images:
            return error(404, f"that picture has no tile {tile} (it has {images if images > 1 else 'none'})")
        png = await asyncio.to_thread(tile_png, png, images, tile)
    return web.Response(body=png, content_type="image/png", headers=_CACHED)


async def find_shown(service: WebService, name: str) -> list[Request]:
    """The finished requests an image name may stand for (a daily prompt: one per platform)."""
    daily = DAILY_IMAGE.fullmatch(name)
    if daily is not None:
        external_id, platforms = DAILY_PREFIX + daily.group(1), list(Platform)
    elif identity.TOKEN.fullmatch(name) is not None:
        external_id, platforms = name, [Platform.WEB]
    else:
        return []
    found = [await service.find_request(platform, external_id) for platform in platforms]
    return [item for item in found if item is not None and item.status is Status.DONE]


def image_name(item: Request) -> str | None:
    """A gallery image's public name: web requests and daily prompts only, never other platforms' users'."""
    day = daily_date(item)
    if day is not None:
        name = "daily-" + day
        return name if DAILY_IMAGE.fullmatch(name) else None
    if item.platform is Platform.WEB and identity.TOKEN.fullmatch(item.external_id):
        return item.external_id
    return None


def tile_png(grid_png: bytes, images: int, tile: int) -> bytes:
    """Tile `tile` (1-based) of a stored grid, as its own PNG."""
    with Image.open(BytesIO(grid_png)) as grid:
        return png_bytes(split_grid(grid.convert("RGB"), images)[tile - 1])
