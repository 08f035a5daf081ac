"""A fake of the X API v2 endpoints the bot uses, served through `responses`.

It keeps a timeline (mentions, the bot's own posts, uploaded media), answers the real HTTP
requests tweepy and the adapter make with JSON shaped like X's, and checks both sides against
X's OpenAPI description: every request the bot sends and every canned answer. Faults are queued
per endpoint: `fake.fail("POST /2/tweets", "timeout_after_commit")`.
"""

from __future__ import annotations

import itertools
import json
import re
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
import responses

from tests.bot.adapters.x.openapi import XOpenApi, multipart_fields, oauth1_signature_valid

BOT_ID = "1500000000000000001"
BOT_NAME = "dallebot"
KEYS = {
    "X_API_KEY": "ck-test",
    "X_API_SECRET": "cs-test",
    "X_ACCESS_TOKEN": f"{BOT_ID}-at-test",
    "X_ACCESS_TOKEN_SECRET": "ats-test",
}
HOSTS = ("https://api.twitter.com", "https://api.x.com")


def x_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass
class Call:
    endpoint: str  # "GET /2/users/{id}/mentions"
    request: requests.PreparedRequest
    query: dict[str, str]
    body: Any
    status: int


@dataclass
class FakeX:
    api: XOpenApi
    now: datetime
    users: dict[str, str] = field(default_factory=lambda: {BOT_ID: BOT_NAME})  # id → username
    mentions: list[dict[str, Any]] = field(default_factory=list)  # any order; served newest first
    others: dict[str, dict[str, Any]] = field(default_factory=dict)  # posts that can be referenced
    posts: list[dict[str, Any]] = field(default_factory=list)  # what the bot posted
    media: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    faults: dict[str, deque[str]] = field(default_factory=lambda: defaultdict(deque))
    rate_limit_reset: int = 0
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1_900_000_000_000_000_001))

    # -- building the timeline ---------------------------------------------------------------------

    def user(self, user_id: str, username: str) -> str:
        self.users[user_id] = username
        return user_id

    def mention(
        self,
        text: str,
        *,
        author: str,
        age: timedelta = timedelta(minutes=1),
        reply_to: str | None = None,
        quote_of: str | None = None,
        retweet_of: str | None = None,
        post_id: str | None = None,
    ) -> str:
        """A post by `author` (a user id) that mentions the bot; returns its id."""
        post_id = post_id or str(next(self._ids))
        post = self._post(post_id, text, author, age)
        refs = [("replied_to", reply_to), ("quoted", quote_of), ("retweeted", retweet_of)]
        if any(ref for _, ref in refs):
            post["referenced_posts"] = [{"type": kind, "id": ref} for kind, ref in refs if ref]
        parents = {**self.others, **{p["id"]: p for p in self.posts}}
        if reply_to and reply_to in parents:
            post["in_reply_to_user_id"] = parents[reply_to]["author_id"]
            # X prefixes a reply with the handles of the thread and hides them from display.
            handle = f"@{self.users[parents[reply_to]['author_id']]} "
            if text.startswith(handle):
                post["display_text_range"] = [len(handle), len(text)]
        self.mentions.append(post)
        return post_id

    def other_post(self, text: str, *, author: str, age: timedelta = timedelta(minutes=5)) -> str:
        post_id = str(next(self._ids))
        self.others[post_id] = self._post(post_id, text, author, age)
        return post_id

    def _post(self, post_id: str, text: str, author: str, age: timedelta) -> dict[str, Any]:
        post: dict[str, Any] = {
            "id": post_id,
            "text": text,
            "author_id": author,
            "created_at": x_time(self.now - age),
            "conversation_id": post_id,
            "edit_history_post_ids": [post_id],
        }
        entity_mentions = []
        for match in re.finditer(r"@([A-Za-z0-9_]{1,15})", text):
            user_id = next((i for i, name in self.users.items() if name.lower() == match[1].lower()), None)
            entity = {"start": match.start(), "end": match.end(), "username": match[1]}
            if user_id:
                entity["id"] = user_id
            entity_mentions.append(entity)
        if entity_mentions:
            post["entities"] = {"mentions": entity_mentions}
        return post

    def fail(self, endpoint: str, *kinds: str) -> None:
        """Queue faults for the next calls to `endpoint`.

        "ok" (none), "429", "403", "500", "connection_error", "timeout_after_commit" (the server
        does the work, the client sees a read timeout)."""
        self.faults[endpoint].extend(kinds)

    def calls_to(self, endpoint: str) -> list[Call]:
        return [call for call in self.calls if call.endpoint == endpoint and call.status < 400]

    # -- serving --------------------------------------------------------------------------------------

    def install(self, mock: responses.RequestsMock) -> None:
        pattern = re.compile(r"https://api\.(twitter|x)\.com/2/.*")
        for method in (responses.GET, responses.POST):
            mock.add_callback(method, pattern, callback=self._handle)

    def _handle(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        url = urlsplit(request.url or "")
        try:
            template = self.api.check_request(request)
        except AssertionError as error:
            self.violations.append(f"request: {error}")
            return self._answer(
                request,
                url.path,
                400,
                {
                    "title": "Invalid Request",
                    "detail": str(error),
                    "type": "https://api.x.com/2/problems/invalid-request",
                },
                "?",
            )
        endpoint = f"{request.method} {template}"
        if not oauth1_signature_valid(request, KEYS["X_API_SECRET"], KEYS["X_ACCESS_TOKEN_SECRET"]):
            self.violations.append(f"{endpoint}: missing or invalid OAuth 1.0a signature")
            return self._answer(
                request, url.path, 401, {"code": 32, "message": "Could not authenticate you"}, endpoint
            )
        fault = self.faults[endpoint].popleft() if self.faults[endpoint] else None
        if fault == "429":
            headers = {"x-rate-limit-reset": str(self.rate_limit_reset), "x-rate-limit-remaining": "0"}
            return self._answer(
                request, url.path, 429, {"code": 88, "message": "Rate limit exceeded"}, endpoint, headers
            )
        if fault == "403":
            return self._answer(
                request,
                url.path,
                403,
                {"code": 453, "message": "You currently have access to a subset of X API V2 endpoints"},
                endpoint,
            )
        if fault == "500":
            return self._answer(request, url.path, 503, {"code": 131, "message": "Internal error"}, endpoint)
        if fault == "connection_error":
            raise requests.ConnectionError("Failed to establish a new connection: NewConnectionError")
        handler = getattr(self, "_" + re.sub(r"\W+", "_", endpoint).strip("_").lower())
        status, body = handler(request, dict(parse_qsl(url.query)), url.path)
        result = self._answer(request, url.path, status, body, endpoint)
        if fault == "timeout_after_commit":
            raise requests.ReadTimeout("Read timed out. (read timeout=30)")
        return result

    def _answer(
        self,
        request: requests.PreparedRequest,
        path: str,
        status: int,
        body: Any,
        endpoint: str,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], str]:
        # Errors X describes as problems ({"type": …, "title": …}) go out as application/problem+json.
        content_type = "application/problem+json" if "type" in body else "application/json"
        try:
            self.api.check_response(request.method or "GET", path, status, body, content_type)
        except AssertionError as error:
            self.violations.append(f"canned response: {error}")
        query = dict(parse_qsl(urlsplit(request.url or "").query))
        self.calls.append(Call(endpoint, request, query, _body(request), status))
        return status, {"Content-Type": content_type, **(headers or {})}, json.dumps(body)

    def _get_2_users_me(self, request, query, path):
        return 200, {"data": {"id": BOT_ID, "name": "DALL·E bot", "username": BOT_NAME}}

    def _get_2_users_id_mentions(self, request, query, path):
        since = int(query.get("since_id", "0"))
        newest_first = sorted(
            (p for p in self.mentions if int(p["id"]) > since), key=lambda p: int(p["id"]), reverse=True
        )
        size = int(query.get("max_results", "10"))
        start = int(query.get("pagination_token", "pt0")[2:])
        page = newest_first[start : start + size]
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            meta |= {"newest_id": page[0]["id"], "oldest_id": page[-1]["id"]}
        if start + size < len(newest_first):
            meta["next_token"] = f"pt{start + size}"
        body: dict[str, Any] = {"meta": meta}
        if page:
            body["data"] = page
            body["includes"] = self._includes(page)
        return 200, body

    def _includes(self, page: list[dict[str, Any]]) -> dict[str, Any]:
        user_ids: dict[str, None] = {}
        posts = []
        for post in page:
            user_ids.setdefault(post["author_id"], None)
            for mention in post.get("entities", {}).get("mentions", ()):
                if "id" in mention:
                    user_ids.setdefault(mention["id"], None)
            for ref in post.get("referenced_posts", ()):
                if ref["id"] in self.others:
                    posts.append(self.others[ref["id"]])
        includes: dict[str, Any] = {
            "users": [
                {"id": i, "name": self.users[i].title(), "username": self.users[i]}
                for i in user_ids
                if i in self.users
            ]
        }
        if posts:
            includes["posts"] = posts
        return includes

    def _post_2_media_upload(self, request, query, path):
        fields = multipart_fields(request)
        media = fields["media"]
        if not media.startswith(b"\x89PNG"):
            return 400, {
                "title": "Invalid Request",
                "detail": "media is not an image",
                "type": "https://api.x.com/2/problems/invalid-request",
            }
        media_id = str(next(self._ids))
        self.media[media_id] = {"size": len(media), "alt_text": None}
        return 200, {
            "data": {
                "id": media_id,
                "media_key": f"3_{media_id}",
                "size": len(media),
                "expires_after_secs": 86400,
                "image": {"image_type": "image/png", "w": 256, "h": 256},
            }
        }

    def _post_2_media_metadata(self, request, query, path):
        body = json.loads(request.body)
        if body["id"] not in self.media:
            return 400, {
                "title": "Invalid Request",
                "detail": "unknown media id",
                "type": "https://api.x.com/2/problems/invalid-request",
            }
        self.media[body["id"]]["alt_text"] = body["metadata"]["alt_text"]["text"]
        return 200, {"data": {"id": body["id"], "associated_metadata": body["metadata"]}}

    def _post_2_tweets(self, request, query, path):
        body = json.loads(request.body)
        for media_id in body.get("media", {}).get("media_ids", ()):
            if media_id not in self.media:
                return 400, {
                    "title": "Invalid Request",
                    "detail": f"media {media_id} was never uploaded",
                    "type": "https://api.x.com/2/problems/invalid-request",
                }
        text = body.get("text", "")
        if text and any(earlier["request"].get("text") == text for earlier in self.posts):
            return 403, {  # what X answers a text the account has already posted
                "title": "Forbidden",
                "detail": "You are not allowed to create a Tweet with duplicate content.",
                "type": "about:blank",
                "status": 403,
            }
        post_id = str(next(self._ids))
        post = {
            "id": post_id,
            "text": text,
            "author_id": BOT_ID,
            "created_at": x_time(self.now),
            "edit_history_post_ids": [post_id],
            "request": body,
        }
        reply = body.get("reply")
        if reply:
            post["referenced_posts"] = [{"type": "replied_to", "id": reply["in_reply_to_tweet_id"]}]
        if body.get("media"):  # X appends the image's link to the text
            post["text"] = (post["text"] + f" https://t.co/{post_id[-10:]}").strip()
        self.posts.append(post)
        return 201, {"data": {"id": post_id, "text": post["text"], "edit_history_post_ids": [post_id]}}

    def _get_2_users_id_tweets(self, request, query, path):
        since = int(query.get("since_id", "0"))
        exclude = set(query.get("exclude", "").split(","))
        posts = [
            {k: v for k, v in p.items() if k != "request"}
            for p in reversed(self.posts)
            if int(p["id"]) > since and not ("replies" in exclude and "referenced_posts" in p)
        ]
        page = posts[:100]
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            meta |= {"newest_id": page[0]["id"], "oldest_id": page[-1]["id"]}
        return 200, ({"data": page, "meta": meta} if page else {"meta": meta})


def _body(request: requests.PreparedRequest) -> Any:
    content_type = request.headers.get("Content-Type", "")
    if content_type.startswith("application/json"):
        return json.loads(request.body)
    if content_type.startswith("multipart/form-data"):
        return multipart_fields(request)
    return None
