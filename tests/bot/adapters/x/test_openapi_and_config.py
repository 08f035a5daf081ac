"""The fake's referee: X's OpenAPI description must reject what X would reject, or the fake lies."""

from __future__ import annotations

import pytest
import requests

from bot.adapters.x import build_adapter, missing_reason
from bot.adapters.x.adapter import XAdapter
from bot.config import Settings
from tests.bot.adapters.x.fake_x import KEYS
from tests.bot.adapters.x.openapi import XOpenApi


def prepared(method: str, url: str, **kwargs: object) -> requests.PreparedRequest:
    return requests.Request(method, url, **kwargs).prepare()


def test_tweepys_own_mention_parameters_are_not_in_the_description(x_openapi: XOpenApi) -> None:
    # What tweepy's get_users_mentions sends; X's current description names these post.* instead.
    request = prepared(
        "GET",
        "https://api.twitter.com/2/users/15/mentions",
        params={"expansions": "author_id", "tweet.fields": "created_at"},
    )
    with pytest.raises(AssertionError, match=r"tweet\.fields"):
        x_openapi.check_request(request)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"text": "hi", "media": {"media_ids": ["1", "2", "3", "4", "5"]}}, "too long"),  # 4 images at most
        ({"text": "hi", "reply": {"in_reply_to_tweet_id": 123}}, "is not of type 'string'"),
        ({"text": "hi", "reply": {"in_reply_to_post_id": "123"}}, "in_reply_to_tweet_id"),
    ],
)
def test_bad_post_bodies_are_caught(x_openapi: XOpenApi, body: dict, problem: str) -> None:
    with pytest.raises(AssertionError, match=problem):
        x_openapi.check_request(prepared("POST", "https://api.twitter.com/2/tweets", json=body))


def test_upload_without_a_category_is_caught(x_openapi: XOpenApi) -> None:
    request = prepared("POST", "https://api.x.com/2/media/upload", files={"media": ("a.png", b"\x89PNG")})
    with pytest.raises(AssertionError, match="media_category"):
        x_openapi.check_request(request)


def test_canned_answers_missing_required_fields_are_caught(x_openapi: XOpenApi) -> None:
    with pytest.raises(AssertionError, match="'id' is a required property"):
        x_openapi.check_response("POST", "/2/media/upload", 200, {"data": {"media_key": "3_1"}})
    with pytest.raises(AssertionError, match="'text' is a required property"):
        x_openapi.check_response("POST", "/2/tweets", 201, {"data": {"id": "1"}})


def test_build_adapter_needs_the_switch_and_every_key() -> None:
    off = Settings()
    assert build_adapter(off, KEYS) is None
    assert missing_reason(off, KEYS) == "x.enabled is false in config.yaml"
    on = Settings.model_validate({"x": {"enabled": True}})
    partial = {k: v for k, v in KEYS.items() if k != "X_ACCESS_TOKEN_SECRET"}
    assert build_adapter(on, partial) is None
    assert "X_ACCESS_TOKEN_SECRET" in (missing_reason(on, partial) or "")
    adapter = build_adapter(on, KEYS)
    assert isinstance(adapter, XAdapter)
    assert KEYS["X_API_SECRET"] not in repr(adapter.api.__dict__)  # the keys never reach a repr or a log


def test_settings_reject_unknown_keys_and_a_back_off_below_the_interval() -> None:
    from bot.config_x import XSettings

    with pytest.raises(ValueError, match="poll_every"):
        XSettings.model_validate({"poll_every": 10})
    with pytest.raises(ValueError, match="max_poll_interval_seconds"):
        XSettings(poll_interval_seconds=120, max_poll_interval_seconds=60)
