"""Prompt parsing and which mentions are answered: pure functions over X's JSON."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.adapters.x.parsing import BotAccount, Includes, clean_prompt, mention_to_request, page_to_requests
from bot.domain import Platform

BOT = BotAccount(user_id="1500000000000000001", username="dallebot")
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
AGE = timedelta(hours=6)


def post(
    text: str, *, id: str = "1900000000000000010", author: str = "42", minutes_ago: int = 1, **extra: object
) -> dict:
    created = (NOW - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return {"id": id, "text": text, "author_id": author, "created_at": created, **extra}


@pytest.mark.parametrize(
    ("text", "prompt"),
    [
        ("@dallebot a cat in a hat", "a cat in a hat"),
        ("@alice @dallebot a cat in a hat", "a cat in a hat"),  # reply handles X puts in front
        (".@dallebot,  a   cat\nin a hat ", "a cat in a hat"),
        ("a cat in a hat @dallebot", "a cat in a hat"),
        ("hey @DalleBot draw a cat", "hey draw a cat"),  # the bot's handle anywhere, any case
        ("@dallebot a portrait of @alice", "a portrait of @alice"),  # someone else's handle inside stays
        ("@dallebot a cat https://t.co/AbC123xyz", "a cat"),
        ('@dallebot "a cat in a hat"', "a cat in a hat"),
        ("@dallebot “a cat in a hat”", "a cat in a hat"),
        ("@dallebot 'a cat'", "a cat"),
        ("@dallebot it's a cat's hat", "it's a cat's hat"),
        ('@dallebot "a cat" and "a dog"', '"a cat" and "a dog"'),  # not one quoted whole
        ("@dallebot cats &amp; dogs &lt;3", "cats & dogs <3"),  # v2 text is HTML-escaped
        ("@dallebot 🐱 astronaut 🚀 on the moon 🌕", "🐱 astronaut 🚀 on the moon 🌕"),
        ("@dallebot 👩🏽‍🚀", "👩🏽‍🚀"),  # a ZWJ emoji sequence stays whole
        ("@dallebot", ""),
        ("@dallebot @alice   https://t.co/x", ""),
        ("@dallebot_fan a cat", "a cat"),  # a longer handle is one leading mention, not the bot's plus "_fan"
        ("a cat @dallebot_fan", "a cat @dallebot_fan"),
    ],
)
def test_clean_prompt(text: str, prompt: str) -> None:
    assert clean_prompt(text, bot_username="dallebot") == prompt


def test_very_long_text_is_kept_whole_for_the_service_to_judge() -> None:
    long = "a cat " * 4000  # a long-post subscriber can send 25,000 characters
    prompt = clean_prompt("@dallebot " + long, bot_username="dallebot")
    assert prompt == long.strip()  # not cut: `submit` rejects it as too long, and the user is told why


def test_mention_becomes_a_request_replying_to_the_author_only() -> None:
    mention = post(
        "@alice @dallebot @bob a red fox",
        in_reply_to_user_id="77",
        entities={
            "mentions": [
                {"start": 0, "end": 6, "username": "alice", "id": "77"},
                {"start": 7, "end": 16, "username": "dallebot", "id": BOT.user_id},
                {"start": 17, "end": 21, "username": "bob"},
            ]
        },
    )
    includes = Includes(
        {
            "users": [
                {"id": "42", "name": "Carol", "username": "carol"},
                {"id": "88", "name": "Bob", "username": "bob"},
            ]
        }
    )
    new = mention_to_request(mention, includes, BOT, now=NOW, max_age=AGE)
    assert new is not None
    assert (new.platform, new.external_id, new.user_id, new.user_name) == (
        Platform.X,
        mention["id"],
        "42",
        "carol",
    )
    assert new.prompt == "a red fox"
    # Everyone X would add to the reply besides the summoner is excluded; the bot never lists itself.
    assert new.reply_to == {"tweet_id": mention["id"], "author_id": "42", "exclude_user_ids": "77,88"}


def test_only_mentions_takes_the_prompt_from_the_replied_to_post() -> None:
    parent = post(
        "a lighthouse in a storm, oil painting https://t.co/zz", id="1900000000000000001", author="77"
    )
    mention = post("@alice @dallebot", referenced_posts=[{"type": "replied_to", "id": parent["id"]}])
    new = mention_to_request(mention, Includes({"posts": [parent]}), BOT, now=NOW, max_age=AGE)
    assert new is not None and new.prompt == "a lighthouse in a storm, oil painting"
    assert new.user_id == "42"  # still answered to whoever summoned the bot, not the parent's author


def test_only_mentions_reads_the_older_tweets_spelling_and_quotes() -> None:
    quoted = post("“a fox in snow”", id="1900000000000000002", author="77")
    mention = post("@dallebot https://t.co/q", referenced_tweets=[{"type": "quoted", "id": quoted["id"]}])
    new = mention_to_request(mention, Includes({"tweets": [quoted]}), BOT, now=NOW, max_age=AGE)
    assert new is not None and new.prompt == "a fox in snow"


def test_only_mentions_without_the_parent_gives_an_empty_prompt() -> None:
    mention = post("@dallebot", referenced_posts=[{"type": "replied_to", "id": "1900000000000000003"}])
    new = mention_to_request(mention, Includes({}), BOT, now=NOW, max_age=AGE)
    assert new is not None and new.prompt == ""  # submit rejects it (empty prompt): the user is told once


def test_only_mentions_under_the_bots_own_post_is_not_redrawn() -> None:
    own = post("", id="1900000000000000004", author=BOT.user_id)
    mention = post("@dallebot", referenced_posts=[{"type": "replied_to", "id": own["id"]}])
    new = mention_to_request(mention, Includes({"posts": [own]}), BOT, now=NOW, max_age=AGE)
    assert new is not None and new.prompt == ""


@pytest.mark.parametrize(
    "mention",
    [
        post("@dallebot a cat", author=BOT.user_id),  # the bot's own post
        post(
            "RT @carol: @dallebot a cat",
            referenced_posts=[{"type": "retweeted", "id": "1900000000000000005"}],
        ),
        post("@dallebot a cat", minutes_ago=6 * 60 + 1),  # older than the configured age
    ],
    ids=["own post", "retweet", "too old"],
)
def test_ignored_mentions(mention: dict) -> None:
    assert mention_to_request(mention, Includes({}), BOT, now=NOW, max_age=AGE) is None


def test_page_is_returned_oldest_first_without_duplicates() -> None:
    page = {
        "data": [
            post("@dallebot c", id="1900000000000000030"),
            post("@dallebot b", id="1900000000000000020"),
            post("@dallebot b", id="1900000000000000020"),
            post("@dallebot a", id="1900000000000000010"),
        ]
    }
    news = page_to_requests(page, BOT, now=NOW, max_age=AGE)
    assert [n.prompt for n in news] == ["a", "b", "c"]


def test_replies_under_the_bots_own_post_are_answered_only_when_it_is_named_again() -> None:
    # X puts "@dallebot " in front of a reply to the bot and hides it (display_text_range).
    thanks = post("@dallebot thanks!", in_reply_to_user_id=BOT.user_id, display_text_range=[10, 17])
    assert mention_to_request(thanks, Includes({}), BOT, now=NOW, max_age=AGE) is None
    again = post(
        "@dallebot @dallebot a blue cat", in_reply_to_user_id=BOT.user_id, display_text_range=[10, 30]
    )
    new = mention_to_request(again, Includes({}), BOT, now=NOW, max_age=AGE)
    assert new is not None and new.prompt == "a blue cat"
    # Without display_text_range the handles in front count as X's prefix.
    bare = post("@dallebot nice one", in_reply_to_user_id=BOT.user_id)
    assert mention_to_request(bare, Includes({}), BOT, now=NOW, max_age=AGE) is None
