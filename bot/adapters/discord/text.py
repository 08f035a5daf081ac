"""What the bot says on Discord: pure functions from domain values to message text.

Kept apart from discord.py so the wording can be tested (and changed) without a client.
Times are shown with Discord's `<t:epoch:R>` markup, which each reader's client renders in
their own timezone ("in 12 minutes").
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from bot.domain import Accepted, Rejected, Request
from bot.vocabulary import ignored_note

MAX_CONTENT = 2000  # Discord's message content limit
MAX_ALT_TEXT = 1024  # attachment description limit
# What a waiting message says once its result went out as a new message (no "request #": the
# reconciler searches for that marker, and must only ever find the result).
MOVED = "✅ Finished: the result is in a new message."

_MENTION = re.compile(r"<@[!&]?(\d+)>")
# Discord links any scheme://… and www.… and unfurls them; inside inline code it does neither.
_URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://\S+|\bwww\.\S+", re.IGNORECASE)
# Characters with meaning in Discord's markdown: emphasis, code, spoilers, quotes, masked links
# `[t](url)`, headings, and `<…>` markup (timestamps, channels, commands). A backslash before any
# punctuation is shown as nothing, so escaping them all is safe.
_MARKDOWN = re.compile(r"([\\*_`~|<>\[\]()#])")
_LIST_MARKER = re.compile(r"^(\d*)([-+.)])(?=\s)")  # "- item", "+ item", "1. item" at the start


def relative_time(when: datetime) -> str:
    """Discord timestamp markup that renders as "in 5 minutes" for every reader."""
    return f"<t:{int(when.timestamp())}:R>"


def format_eta(eta_seconds: float | None) -> str:
    if eta_seconds is None:
        return "unknown"
    if eta_seconds < 60:
        return f"~{max(1, round(eta_seconds))} s"
    return f"~{round(eta_seconds / 60)} min"


def queued(accepted: Accepted | None = None, *, position: int | None = None, eta: float | None = None) -> str:
    """The waiting message: queue position and ETA, edited in place while the request waits."""
    if accepted is not None:
        position, eta = accepted.position, accepted.eta_seconds
    if position is None or position <= 0:
        return "🎨 Generating your image now…"
    ahead = position - 1
    ahead_text = "you're next" if ahead == 0 else f"{ahead} ahead of you"
    return f"⏳ Queued — position {position} ({ahead_text}), ETA {format_eta(eta)}."


def drawing(step: int, steps: int, eta: float | None) -> str:
    """The waiting message while the worker draws: steps done of the total, and the time left."""
    left = "" if eta is None else f", {format_eta(eta)} left"
    return f"🎨 Drawing — step {step} of {steps} ({100 * step // max(1, steps)}%){left}."


def rejection(rejected: Rejected) -> str:
    """Why a request was refused and, where there is one, when to try again."""
    text = f"❌ {quote(rejected.message, MAX_CONTENT // 2)}"  # the core's words, inert all the same
    if rejected.retry_after is not None:  # rendered in each reader's own timezone
        when = relative_time(rejected.retry_after)
        text += f" ({when})" if "try again" in text.lower() else f"\nYou can try again {when}."
    return text[:MAX_CONTENT]


def rejection_line(message: str | None) -> str:
    return f"❌ {quote(message or 'This request was refused.', MAX_CONTENT // 2)}"


def quote(prompt: str, limit: int = 300) -> str:
    """User text made inert, the one function for every echo: no ping, no markdown (emphasis,
    masked links, headings, lists, quotes), no link and no preview (URLs shown as inline code);
    whitespace folded onto one line, length capped (before escaping, so no escape is cut in two)."""
    prompt = " ".join(prompt.split())
    if len(prompt) > limit:
        prompt = prompt[: limit - 1] + "…"
    prompt = _MENTION.sub(lambda m: f"@{m.group(1)}", prompt)
    prompt = prompt.replace("@everyone", "@\u200beveryone").replace("@here", "@\u200bhere")
    parts, start = [], 0
    for url in _URL.finditer(prompt):
        parts.append(_escape(prompt[start : url.start()], at_start=start == 0))
        parts.append("`" + url.group().replace("`", "\u02cb") + "`")  # a backtick would end the code
        start = url.end()
    parts.append(_escape(prompt[start:], at_start=start == 0))
    return "".join(parts)


def _escape(fragment: str, *, at_start: bool) -> str:
    escaped = _MARKDOWN.sub(r"\\\1", fragment)
    return _LIST_MARKER.sub(r"\1\\\2", escaped) if at_start else escaped


def caption(
    request: Request, *, seconds: float | None = None, spoiler: bool = False, mention: bool = False
) -> str:
    """The message under a delivered image: the prompt, its seed and how long it took."""
    details = []
    if request.options.seed is not None:
        details.append(f"seed {request.options.seed}")
    if request.options.images > 1:
        details.append(f"{request.options.images} images")
    if seconds is not None:
        details.append(f"took {seconds:.1f} s")
    details.append(f"request #{request.id}")
    lines = [f"**{quote(request.prompt)}**", " · ".join(details)]
    if mention:  # posted outside the interaction: say whose it is
        lines[0] = f"<@{request.user_id}> {lines[0]}"
    note = ignored_note(request.ignored_words)
    if note:
        lines.append(f"🔤 {note}")
    if spoiler:
        lines.append("⚠️ The safety filter flagged this image; it is behind a spoiler.")
    return "\n".join(lines)[:MAX_CONTENT]


def daily_caption(request: Request, day: str) -> str:
    """The message under the daily prompt's image (nobody asked for it: no mention)."""
    lines = [f"🗓️ Daily image for {day}: **{quote(request.prompt)}**", f"request #{request.id}"]
    note = ignored_note(request.ignored_words)
    if note:
        lines.append(f"🔤 {note}")
    return "\n".join(lines)[:MAX_CONTENT]


def alt_text(prompt: str) -> str:
    return prompt[:MAX_ALT_TEXT]


def failure(request: Request, message: str | None) -> str:
    reason = quote(message or "the image could not be generated", MAX_CONTENT // 2)
    line = f"<@{request.user_id}> ❌ Sorry — request #{request.id} (**{quote(request.prompt)}**) failed"
    return f"{line}: {reason}"[:MAX_CONTENT]


def blocked(request: Request) -> str:
    return (
        f"<@{request.user_id}> 🚫 The image for request #{request.id} (**{quote(request.prompt)}**) was "
        "withheld by the safety filter. Try rewording the prompt."
    )[:MAX_CONTENT]


def quota(status: Any, now: datetime) -> str:
    """`/quota`: remaining images and when they refill (status is storage's QuotaStatus)."""
    text = f"You have **{status.remaining}** image(s) left ({status.used} used)"
    if status.in_flight:
        text += f", {status.in_flight} in progress"
    text += "."
    if status.refills_at is not None and status.refills_at > now:
        text += f" Your next image refills {relative_time(status.refills_at)}."
    return text


def queue(stats: Any, eta_seconds: float | None) -> str:
    """`/queue`: how deep the queue is and how long a new request would wait."""
    text = f"📋 {stats.queued} waiting, {stats.running} generating."
    if eta_seconds is not None:
        text += f" A new request would be ready in {format_eta(eta_seconds)}."
    return text
