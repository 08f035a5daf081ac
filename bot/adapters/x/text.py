"""What the bot says on X: text that carries nobody else's handle or link, never twice the same.

X turns `@name` (also with a full-width ＠) into a mention that notifies that account, and links
anything that looks like a web address, `example.com` included; a reply carrying them from a
stranger's prompt would notify or advertise for the stranger. And X refuses a post whose text
equals an earlier one of the account (403, duplicate content), so two users refused for the same
reason would see only the first reply: every notice names its request.
"""

from __future__ import annotations

import re

MAX_TEXT = 280
_HANDLE = re.compile(r"[@＠]+(?=\w)")
# scheme://…, www.…, and bare domains (a dot, then two or more letters: X links those too)
_LINK = re.compile(
    r"\b[a-z][a-z0-9+.-]*://\S+|\bwww\.\S+|\b[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}\b(?:/\S*)?", re.IGNORECASE
)


def inert(text: str) -> str:
    """`text` with links replaced by "(link)" and every handle's at sign dropped (no mention)."""
    text = _LINK.sub("(link)", " ".join(text.split()))
    return _HANDLE.sub("", text)


def short(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def notice(request_id: int, message: str) -> str:
    """A refusal or failure reply: the core's words made inert, ending with the request's number."""
    suffix = f" (request #{request_id})"
    return short(inert(message), MAX_TEXT - len(suffix)) + suffix
