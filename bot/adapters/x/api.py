"""The few X API v2 calls the bot makes, synchronous (run them off the event loop).

tweepy's `Client` signs every call with OAuth 1.0a user context and maps HTTP errors to its
exceptions. It has no v2 media upload (tweepy issue #2217), so `upload_png` and `set_alt_text`
post to `https://api.x.com/2/media/...` on the same session, signed by tweepy's `OAuth1UserHandler`,
and raise the same tweepy exceptions. Nothing here talks to the network at construction.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import requests
import tweepy
from requests.adapters import HTTPAdapter

from bot.config_x import XCredentials

MEDIA_UPLOAD_URL = "https://api.x.com/2/media/upload"
MEDIA_METADATA_URL = "https://api.x.com/2/media/metadata"
MAX_IMAGE_BYTES = 5 * 1024 * 1024  # X's limit per image
MAX_ALT_TEXT = 1000

# What a mentions page asks for (names as in X's API description, version 2.167).
MENTION_EXPANSIONS = "author_id,referenced_posts,in_reply_to_user_id,entities.mentions.username"
MENTION_POST_FIELDS = "created_at,conversation_id,display_text_range,entities,text"
MENTION_USER_FIELDS = "username"


class _TimeoutAdapter(HTTPAdapter):
    """Gives every request on the session a timeout: tweepy's `Client` sets none."""

    def __init__(self, timeout: float) -> None:
        super().__init__(max_retries=0)  # retries are decided by the adapter's error classes
        self.timeout = timeout

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().send(request, **kwargs)


def raise_for_x_status(response: requests.Response) -> None:
    """Raise the tweepy exception tweepy's own `Client` would raise for this status."""
    status = response.status_code
    if 200 <= status < 300:
        return
    errors: dict[int, type[tweepy.HTTPException]] = {
        400: tweepy.BadRequest,
        401: tweepy.Unauthorized,
        403: tweepy.Forbidden,
        404: tweepy.NotFound,
    }
    if status == 429:
        reset = response.headers.get("x-rate-limit-reset")
        raise tweepy.TooManyRequests(response, reset_time=int(reset) if reset else None)
    if status >= 500:
        raise tweepy.TwitterServerError(response)
    raise errors.get(status, tweepy.HTTPException)(response)


class XApi:
    """The bot's X calls; every one is signed with the account's OAuth 1.0a user keys."""

    def __init__(self, credentials: XCredentials, *, timeout: float = 30.0) -> None:
        self.client = tweepy.Client(
            consumer_key=credentials.api_key,
            consumer_secret=credentials.api_secret,
            access_token=credentials.access_token,
            access_token_secret=credentials.access_token_secret,
            return_type=dict,
            wait_on_rate_limit=False,  # True would block a thread in time.sleep; the adapter waits instead
        )
        adapter = _TimeoutAdapter(timeout)
        self.client.session.mount("https://", adapter)
        self._auth = tweepy.OAuth1UserHandler(
            credentials.api_key,
            credentials.api_secret,
            credentials.access_token,
            credentials.access_token_secret,
        )

    def close(self) -> None:
        self.client.session.close()

    def _get(self, route: str, params: Mapping[str, Any]) -> dict[str, Any]:
        response = self.client.request("GET", route, params=dict(params), user_auth=True)
        return response.json()

    # -- reading -----------------------------------------------------------------------------------

    def me(self) -> dict[str, Any]:
        """The account the keys belong to: `{"id": …, "username": …}`."""
        return self._get("/2/users/me", {"user.fields": "username"})["data"]

    def mentions(
        self,
        user_id: str,
        *,
        since_id: str | None,
        pagination_token: str | None = None,
        max_results: int = 100,
    ) -> dict[str, Any]:
        """One page of the account's mentions, newest first, with authors and referenced posts."""
        params: dict[str, Any] = {
            "max_results": max_results,
            "expansions": MENTION_EXPANSIONS,
            "post.fields": MENTION_POST_FIELDS,
            "user.fields": MENTION_USER_FIELDS,
        }
        if since_id:
            params["since_id"] = since_id
        if pagination_token:
            params["pagination_token"] = pagination_token
        return self._get(f"/2/users/{user_id}/mentions", params)

    def own_posts(
        self,
        user_id: str,
        *,
        since_id: str | None = None,
        start_time: datetime | None = None,
        originals_only: bool = False,
        pagination_token: str | None = None,
    ) -> dict[str, Any]:
        """One page of the account's own recent posts (to find a reply that did land)."""
        params: dict[str, Any] = {
            "max_results": 100,
            "expansions": "referenced_posts",
            "post.fields": "created_at,text",
        }
        if since_id:
            params["since_id"] = since_id
        if start_time is not None:
            params["start_time"] = start_time.strftime("%Y-%m-%dT%H:%M:%SZ")
        if originals_only:
            params["exclude"] = "replies,retweets"
        if pagination_token:
            params["pagination_token"] = pagination_token
        return self._get(f"/2/users/{user_id}/tweets", params)

    # -- writing -----------------------------------------------------------------------------------

    def upload_png(self, png: bytes) -> str:
        """Upload one image through v2 media upload; returns its media id."""
        response = self.client.session.post(
            MEDIA_UPLOAD_URL,
            files={"media": ("image.png", png, "image/png")},
            data={"media_category": "tweet_image"},
            auth=self._auth.apply_auth(),
            headers={"User-Agent": self.client.user_agent},
        )
        raise_for_x_status(response)
        return str(response.json()["data"]["id"])

    def set_alt_text(self, media_id: str, text: str) -> None:
        """Attach alt text (what screen readers say) to an uploaded image."""
        response = self.client.session.post(
            MEDIA_METADATA_URL,
            json={"id": media_id, "metadata": {"alt_text": {"text": text[:MAX_ALT_TEXT]}}},
            auth=self._auth.apply_auth(),
            headers={"User-Agent": self.client.user_agent},
        )
        raise_for_x_status(response)

    def create_post(
        self,
        text: str,
        *,
        media_ids: list[str] | None = None,
        in_reply_to: str | None = None,
        exclude_reply_user_ids: list[str] | None = None,
    ) -> str:
        """Create a post (a reply when `in_reply_to` is set); returns its id."""
        response = self.client.create_tweet(
            text=text,
            media_ids=media_ids or None,
            in_reply_to_tweet_id=in_reply_to,
            exclude_reply_user_ids=exclude_reply_user_ids or None,
            user_auth=True,
        )
        return str(response["data"]["id"])
