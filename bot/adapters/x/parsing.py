"""Mentions → NewRequests: which posts to answer, and the prompt inside each.

Pure functions over X API v2 JSON (one page of `GET /2/users/{id}/mentions`), so every rule is
testable without HTTP. X's current API description names posts "posts" (`referenced_posts`,
`includes.posts`); older responses say "tweets" — both spellings are read.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.domain import NewRequest, Platform

Post = Mapping[str, Any]

_LINK = re.compile(r"https?://\S+", re.IGNORECASE)
_HANDLE = r"@[A-Za-z0-9_]{1,15}(?![A-Za-z0-9_])"
_LEADING_MENTIONS = re.compile(rf"^[\s.]*(?:{_HANDLE}[\s,:]*)+")
_SPACES = re.compile(r"\s+")
_QUOTE_PAIRS = {'"': '"', "'": "'", "“": "”", "‘": "’", "«": "»", "„": "“", "「": "」"}


@dataclass(frozen=True)
class BotAccount:
    """Who the bot is on X (from `GET /2/users/me`)."""

    user_id: str
    username: str


def clean_prompt(text: str, *, bot_username: str = "") -> str:
    """The prompt in a post's text: without the leading @mentions, the bot's handle, links, or quotes."""
    text = html.unescape(text)  # v2 returns &amp; &lt; &gt; escaped
    text = _LINK.sub(" ", text)
    text = _LEADING_MENTIONS.sub("", text)
    if bot_username:  # "hey @dallebot draw a cat": the bot's own handle is never part of the prompt
        text = re.sub(rf"@{re.escape(bot_username)}(?![A-Za-z0-9_])", " ", text, flags=re.IGNORECASE)
    text = _SPACES.sub(" ", text).strip()
    if len(text) >= 2 and _QUOTE_PAIRS.get(text[0]) == text[-1]:
        inner = text[1:-1]
        if text[0] not in inner and text[-1] not in inner:  # one quoted whole, not "a" and "b"
            text = inner.strip()
    return text


def referenced(post: Post, kind: str) -> str | None:
    """The id of the post this one `kind`s ("replied_to", "quoted", "retweeted"), if any."""
    for ref in post.get("referenced_posts") or post.get("referenced_tweets") or ():
        if ref.get("type") == kind:
            return str(ref["id"])
    return None


class Includes:
    """A page's `includes`: users and referenced posts by id."""

    def __init__(self, includes: Mapping[str, Any] | None) -> None:
        includes = includes or {}
        self.users = {str(u["id"]): u for u in includes.get("users", ()) if "id" in u}
        posts = list(includes.get("posts", ())) + list(includes.get("tweets", ()))
        self.posts = {str(p["id"]): p for p in posts if "id" in p}

    def username(self, user_id: str) -> str:
        return str(self.users.get(user_id, {}).get("username", ""))

    def user_id_for(self, username: str) -> str | None:
        for user_id, user in self.users.items():
            if str(user.get("username", "")).lower() == username.lower():
                return user_id
        return None


def _names_bot_visibly(post: Post, bot: BotAccount) -> bool:
    """Whether the bot's handle is in the text the author typed, not only in X's reply prefix."""
    text = post.get("text", "")
    span = post.get("display_text_range")
    visible = text[span[0] : span[1]] if span else _LEADING_MENTIONS.sub("", text)
    return re.search(rf"@{re.escape(bot.username)}(?![A-Za-z0-9_])", visible, re.IGNORECASE) is not None


def others_in_thread(post: Post, includes: Includes, *, author_id: str, bot_id: str) -> list[str]:
    """User ids X would add to a reply besides the author: excluded, so only the summoner is answered."""
    ids: dict[str, None] = {}
    for mention in (post.get("entities") or {}).get("mentions") or ():
        user_id = mention.get("id") or includes.user_id_for(mention.get("username") or "")
        if user_id:
            ids.setdefault(str(user_id), None)
    if post.get("in_reply_to_user_id"):
        ids.setdefault(str(post["in_reply_to_user_id"]), None)
    return [user_id for user_id in ids if user_id not in (author_id, bot_id)]


def mention_to_request(
    post: Post, includes: Includes, bot: BotAccount, *, now: datetime, max_age: timedelta
) -> NewRequest | None:
    """The request a mention makes, or None for posts the bot must not answer."""
    author_id = str(post.get("author_id", ""))
    if not author_id or author_id == bot.user_id:
        return None  # the bot's own posts (its replies mention the thread)
    if referenced(post, "retweeted") is not None or post.get("text", "").startswith("RT @"):
        return None  # a repost of someone else's mention: that person asked, not this one
    if str(post.get("in_reply_to_user_id", "")) == bot.user_id and not _names_bot_visibly(post, bot):
        return None  # a reply under the bot's own post ("thanks!", or another bot): no new request
    created = post.get("created_at")
    if created and now - datetime.fromisoformat(created.replace("Z", "+00:00")) > max_age:
        return None

    prompt = clean_prompt(post.get("text", ""), bot_username=bot.username)
    if not prompt:
        # "@dallebot" alone under someone's post: draw that post (the replied-to, else the quoted one).
        for kind in ("replied_to", "quoted"):
            parent_id = referenced(post, kind)
            parent = includes.posts.get(parent_id or "")
            if parent is not None and str(parent.get("author_id", "")) != bot.user_id:
                prompt = clean_prompt(parent.get("text", ""), bot_username=bot.username)
                break
    exclude = others_in_thread(post, includes, author_id=author_id, bot_id=bot.user_id)
    reply_to = {"tweet_id": str(post["id"]), "author_id": author_id}
    if exclude:
        reply_to["exclude_user_ids"] = ",".join(exclude)
    return NewRequest(
        platform=Platform.X,
        external_id=str(post["id"]),
        user_id=author_id,
        user_name=includes.username(author_id),
        prompt=prompt,  # may be empty: submit rejects it and the user is told once
        reply_to=reply_to,
    )


def page_to_requests(
    page: Mapping[str, Any], bot: BotAccount, *, now: datetime, max_age: timedelta
) -> list[NewRequest]:
    """One mentions page → requests, oldest first (the API lists newest first), each id once."""
    includes = Includes(page.get("includes"))
    seen: set[str] = set()
    requests: list[NewRequest] = []
    for post in reversed(list(_posts(page.get("data")))):
        new = mention_to_request(post, includes, bot, now=now, max_age=max_age)
        if new is not None and new.external_id not in seen:
            seen.add(new.external_id)
            requests.append(new)
    return requests


def _posts(data: Iterable[Post] | None) -> Iterable[Post]:
    return data or ()
