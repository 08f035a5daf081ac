"""What the playground's JSON says: a request's state, and what the page may offer (options, limits).

Pure functions from the bot's vocabulary to dictionaries, so the adapter's handlers stay thin and
the shapes can be read (and tested) in one place.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.domain import Request, Status
from bot.vocabulary import ignored_note
from generation.about import INSTALL_COMMAND, ModelFacts, megabytes

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
        "progress": progress(token, view),
    }


def progress(token: str, view: RequestView) -> dict[str, Any] | None:
    """Steps done of the decoder's total, the ETA from the throughput measured so far, the latest
    preview (its URL names its step, so a new one is a new URL); None when this process does not
    generate the request (queued, finished, or another machine's worker)."""
    if view.progress is None:
        return None
    shown = view.progress.preview_step
    return {
        "step": view.progress.step,
        "steps": view.progress.steps,
        "eta_seconds": view.progress.eta_seconds,
        "preview_url": None if shown is None else f"/api/requests/{token}/preview.png?step={shown}",
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


def model_words(facts: ModelFacts) -> dict[str, Any]:
    """The page's lines about the loaded model: what it is, what it draws, how to get a real one."""
    size = "" if facts.weight_bytes is None else f", {megabytes(facts.weight_bytes)} of weights"
    if facts.problem is not None:
        return {
            "name": facts.name,
            "summary": f"Model: {facts.name} (its files are not on this machine; the worker's may be).",
            "draws": "", "examples": [], "real_model": "",
        }  # fmt: skip
    if facts.repertoire is None:
        return {
            "name": facts.name,
            "summary": f"Model: {facts.name}{size}.",
            "draws": "It draws whatever a prompt describes.",
            "examples": [], "real_model": "",
        }  # fmt: skip
    world = facts.repertoire
    return {
        "name": facts.name,
        "summary": f"Model: the embedded model ({facts.name}{size}), small enough to ship with the bot.",
        "draws": (
            (
                f"It draws {world.thing_count} everyday things ({', '.join(world.things)}) and simple "
                f"shapes in {len(world.colours)} colours, alone, counted or placed "
                f"{', '.join(world.relations)} each other, on a few backgrounds. "
            )
            if world.things
            else (
                f"It draws only simple flat shapes ({', '.join(world.shapes)}) in {len(world.colours)} "
                f"colours ({', '.join(world.colours)}), alone, counted or placed "
                f"{', '.join(world.relations)} each other. "
            )
        )
        + "Other words are left out of the picture.",
        "examples": list(world.examples),
        "real_model": (
            f"For real pictures, whoever runs the bot can install DALL·E Mini: {INSTALL_COMMAND} "
            "(about 1 GB), then set generation.model: mini in config.yaml."
        ),
    }
