"""What the playground's JSON says: a request's state, and what the page may offer (options, limits).

Pure functions from the bot's vocabulary to dictionaries, so the adapter's handlers stay thin and
the shapes can be read (and tested) in one place.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.domain import Request, Status
from bot.vocabulary import ignored_note

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.service import RequestView

IMAGE_CHOICES = (1, 4, 9)  # what the page offers: one picture, a 2×2 or a 3×3 grid


def iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None


def image_urls(name: str, count: int) -> dict[str, Any]:
    """The grid as one PNG, and each tile of it alone (1-based, as people count)."""
    return {
        "image_url": f"/images/{name}.png",
        "tiles": [f"/images/{name}/{i}.png" for i in range(1, count + 1)] if count > 1 else [],
    }


def request_status(token: str, view: RequestView) -> dict[str, Any]:
    """A request as its own browser sees it: state, options (the seed included), the pictures."""
    stored = view.request
    shown = stored.status is Status.DONE and stored.posted_message_id is not None
    return {
        "request_id": token,
        "status": stored.status.value,
        "prompt": stored.prompt,
        "options": stored.options.to_dict(),  # the seed it was drawn with: the picture can be made again
        "position": view.position,
        "eta_seconds": view.eta_seconds,
        "attempts": stored.attempts,
        **(image_urls(token, stored.options.images) if shown else {"image_url": None, "tiles": []}),
        "error": failure_text(stored),
        "ignored_words": list(stored.ignored_words),  # not in the model's vocabulary: not drawn
        "note": ignored_note(stored.ignored_words),
    }


def failure_text(stored: Request) -> str | None:
    """What the page shows for a refused or failed request: the reason's word, never internals."""
    if stored.status is Status.REJECTED:
        return f"Refused ({stored.last_error or 'rejected'})."
    if stored.status is Status.FAILED:
        return "Generation failed; your quota was refunded. Try again."
    return None


def page_options(settings: Settings) -> dict[str, Any]:
    """The form's choices and bounds, from the configured limits (the server checks them again)."""
    limits = settings.generation.limits
    defaults = settings.generation.defaults
    return {
        "images": [n for n in IMAGE_CHOICES if n <= limits.max_images],
        "max_prompt_chars": limits.max_prompt_chars,
        "seed": {"min": 0, "max": 2**32 - 1},
        "top_k": {"min": limits.min_top_k, "max": limits.max_top_k, "default": defaults.top_k},
        "temperature": {
            "min": limits.min_temperature, "max": limits.max_temperature, "default": defaults.temperature,
        },
        "cond_scale": {
            "min": limits.min_cond_scale, "max": limits.max_cond_scale, "default": defaults.cond_scale,
        },
    }  # fmt: skip
