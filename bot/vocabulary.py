"""How the bot words what the model did not understand (issue 14), in one place for every platform.

The facts travel typed: `Request.ignored_words` (stored with the request) and the rejection
reason `NOT_UNDERSTOOD`; these functions turn them into text. The words are the user's own, so
they are reduced to letters, digits, hyphens and apostrophes before they are shown: no mention,
link, hashtag or markup can ride along into a post.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from generation.understanding import Repertoire, Understanding

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
    if repertoire is not None:
        text += (
            f"It draws simple shapes ({', '.join(repertoire.shapes)}) in {_either(repertoire.colours)}, "
            f'placed {_either(repertoire.relations)} each other: try "{repertoire.example}". '
        )
    else:
        text += "It draws only what the words it was trained on name. "
    if operator:
        return text + f"For real pictures, install a real model: {INSTALL}."
    return text + f"For real pictures, the bot's operator can install a real model: {INSTALL}."


def _either(words: Sequence[str]) -> str:
    return ", ".join(words[:-1]) + f" or {words[-1]}" if len(words) > 1 else "".join(words)
