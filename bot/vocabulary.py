"""What the bot says to users, in one place for every platform (and ready for translation).

The facts travel typed — storage's `Refusal` (a reason code and its numbers), the worker's
failures, `Request.ignored_words`, the rejection reason `NOT_UNDERSTOOD` — and are worded here.
Words from a prompt are the user's own, so they are reduced to letters, digits, hyphens and
apostrophes before they are shown: no mention, link, hashtag or markup can ride along into a post.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from storage.domain import Refusal, Rejected, RejectionReason

if TYPE_CHECKING:
    from generation.understanding import Repertoire, Understanding

# Failures a user may read (stored as the request's last error and sent as its failure notice);
# the exception behind one goes only to the log.
GENERATION_FAILED = "generating the image failed"
IMAGE_BLOCKED = "The generated image was blocked by the safety filter. Try a different prompt."
IMAGE_GATE_UNAVAILABLE = "the image safety check is unavailable; nothing was posted"
STORAGE_UNAVAILABLE = (
    "The bot cannot take requests right now (its storage is unavailable). Try again in a few minutes."
)
ALREADY_REFUSED = "This request was already refused; send a new one."
UNSAFE_PROMPT = "This prompt was refused by the content filter. Try a different prompt."

MAX_SHOWN = 8  # words listed before "and N more"
INSTALL = "`dallebot models download mini`"
_UNSHOWABLE = re.compile(r"[^a-z0-9'-]")


def shown_words(words: Sequence[str]) -> str:
    """`"sunset", "mountains" and 3 more`: the words made safe to echo, at most MAX_SHOWN of them."""
    safe = list(dict.fromkeys(cleaned for word in words if (cleaned := _UNSHOWABLE.sub("", word.lower()))))
    if not safe:
        return "some symbols"
    listed = ", ".join(f'"{word}"' for word in safe[:MAX_SHOWN])
    return listed + (f" and {len(safe) - MAX_SHOWN} more" if len(safe) > MAX_SHOWN else "")


def ignored_note(words: Sequence[str]) -> str | None:
    """The line under a picture that left words out; None when every word was known."""
    if not words:
        return None
    return f"Left out (not in this model's vocabulary): {shown_words(words)}."


def not_understood(
    understanding: Understanding, repertoire: Repertoire | None, *, operator: bool = False
) -> str:
    """Why no picture was made for a prompt the model understands nothing of, and what it can draw;
    `operator`: said to whoever runs the bot (the CLI), not to a platform's user."""
    counted = "" if operator else " and nothing was counted against your quota"
    text = (
        f"This model does not know {shown_words(understanding.ignored)}, and nothing else in the prompt "
        f"names something it can draw, so no picture was made{counted}. "
    )
    if repertoire is not None and repertoire.things:
        text += (
            f"It draws everyday things ({', '.join(repertoire.things)}) and simple shapes, "
            f'placed {_either(repertoire.relations)} each other: try "{repertoire.example}". '
        )
    elif repertoire is not None:
        text += (
            f"It draws simple shapes ({', '.join(repertoire.shapes)}) in {_either(repertoire.colours)}, "
            f'placed {_either(repertoire.relations)} each other: try "{repertoire.example}". '
        )
    else:
        text += "It draws only what the words it was trained on name. "
    if operator:
        return text + f"For real pictures, install a real model: {INSTALL}."
    return text + f"For real pictures, the bot's operator can install a real model: {INSTALL}."


def refusal(refused: Refusal) -> Rejected:
    """Storage's refusal (a code and its facts) worded for the user, with when to try again."""
    reason, policy = refused.reason, refused.policy
    if reason is RejectionReason.BANNED:
        suffix = f" ({refused.ban_reason})" if refused.ban_reason else ""
        message = f"You are not allowed to use this bot{suffix}."
    elif reason is RejectionReason.QUEUE_FULL:
        message = (
            "The queue is full right now, so this request was not taken. Please try again in a few minutes."
        )
    elif reason is RejectionReason.TOO_MANY_IN_FLIGHT:
        message = (
            f"You already have {refused.in_flight} request(s) waiting or running; "
            "send the next one when one of them is done."
        )
    elif reason is RejectionReason.QUOTA_EXCEEDED and policy is not None:
        when = f" Try again after {refused.retry_after:%H:%M} UTC." if refused.retry_after else ""
        message = (
            f"You have used {refused.used} of your {policy.images_per_window} images for this "
            f"{_window(policy.window_seconds)}.{when}"
        )
    else:
        raise ValueError(f"storage does not refuse for {reason.value}")
    return Rejected(reason, message, retry_after=refused.retry_after)


def _window(seconds: int) -> str:
    if seconds % 86400 == 0:
        return "day" if seconds == 86400 else f"{seconds // 86400} days"
    if seconds % 3600 == 0:
        return "hour" if seconds == 3600 else f"{seconds // 3600} hours"
    return f"{max(1, round(seconds / 60))} minutes"


def _either(words: Sequence[str]) -> str:
    return ", ".join(words[:-1]) + f" or {words[-1]}" if len(words) > 1 else "".join(words)
