"""Posting to the fake X through the core's real outbox loop: one reply per request, whatever fails."""

from __future__ import annotations

import asyncio
import io
from datetime import timedelta

import pytest
from PIL import Image

from bot.adapters.base import DeliveryError
from bot.adapters.x.adapter import NOT_POSTED, XAdapter
from bot.delivery import DeliveryLoop
from bot.domain import NewRequest, Platform, Rejected
from storage import Store
from tests.bot.adapters.x.conftest import Clock, make_adapter
from tests.bot.adapters.x.fake_x import BOT_NAME, FakeX


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


async def finished(service, store: Store, fake_x: FakeX, prompt: str = "a red fox", **mention: object) -> int:
    """A mention on the fake X, ingested and generated: its image is owed in the outbox."""
    fake_x.user("7", "carol")
    fake_x.user("8", "erin")
    tweet_id = fake_x.mention(f"@{BOT_NAME} {prompt}", author="7", **mention)
    exclude = {"exclude_user_ids": "8"} if "@erin" in prompt else {}
    new = NewRequest(
        Platform.X, tweet_id, "7", prompt, "carol", {"tweet_id": tweet_id, "author_id": "7", **exclude}
    )
    outcome = await service.submit(new)
    assert not isinstance(outcome, Rejected), outcome
    (claim,) = store.claim("worker-1")
    assert store.complete(claim, image_png=png(), seconds=1.0)
    return claim.request.id


async def deliver_all(loop: DeliveryLoop, clock: Clock, rounds: int = 6) -> None:
    """Outbox rounds with the clock moved past any backoff between them."""
    for _ in range(rounds):
        await loop.run_once()
        clock.now += timedelta(minutes=10)


def loop_for(service, adapter: XAdapter, clock: Clock) -> DeliveryLoop:
    return DeliveryLoop(service, {Platform.X: adapter}, clock=clock)


async def test_image_reply_uploads_sets_alt_text_and_replies_to_the_author_only(
    fake_x: FakeX, service, store: Store, clock: Clock, adapter: XAdapter
) -> None:
    request_id = await finished(service, store, fake_x, prompt="a red fox @erin")
    await deliver_all(loop_for(service, adapter, clock), clock, rounds=1)

    (upload,) = fake_x.calls_to("POST /2/media/upload")
    assert upload.body["media_category"] == "tweet_image"
    assert upload.body["media"] == png()
    (metadata,) = fake_x.calls_to("POST /2/media/metadata")
    media_id = metadata.body["id"]
    # the alt text is the prompt without the handle's at sign: a reply never mentions a stranger (issue 19)
    assert metadata.body == {"id": media_id, "metadata": {"alt_text": {"text": "a red fox erin"}}}
    (post,) = fake_x.calls_to("POST /2/tweets")
    tweet_id = store.get_request(request_id).external_id
    assert post.body == {
        "text": "",
        "media": {"media_ids": [media_id]},
        "reply": {"in_reply_to_tweet_id": tweet_id, "exclude_reply_user_ids": ["8"]},
    }
    assert store.get_request(request_id).posted_message_id == fake_x.posts[0]["id"]
    assert store.pending_deliveries(Platform.X) == []


async def test_network_error_during_upload_is_retried_and_posts_once(
    fake_x: FakeX, service, store: Store, clock: Clock, adapter: XAdapter
) -> None:
    request_id = await finished(service, store, fake_x)
    fake_x.fail("POST /2/media/upload", "connection_error")

    (delivery,) = store.pending_deliveries(Platform.X)
    with pytest.raises(DeliveryError) as failed:
        await adapter.deliver(delivery)
    assert failed.value.kind == "retryable"
    assert fake_x.calls_to("POST /2/tweets") == []  # no post without an uploaded image

    await deliver_all(loop_for(service, adapter, clock), clock)
    assert len(fake_x.posts) == 1
    assert store.get_request(request_id).posted_message_id == fake_x.posts[0]["id"]


async def test_timeout_after_a_post_that_landed_does_not_post_again(
    fake_x: FakeX, service, store: Store, clock: Clock, adapter: XAdapter
) -> None:
    request_id = await finished(service, store, fake_x)
    fake_x.fail("POST /2/tweets", "timeout_after_commit")

    await deliver_all(loop_for(service, adapter, clock), clock)

    assert len(fake_x.posts) == 1  # X has it once…
    assert store.get_request(request_id).posted_message_id == fake_x.posts[0]["id"]  # …and the bot knows it
    (lookup, *_) = fake_x.calls_to("GET /2/users/{id}/tweets")
    assert lookup.query["since_id"] == store.get_request(request_id).external_id
    assert store.pending_deliveries(Platform.X) == []


async def test_timeout_when_the_post_did_not_land_posts_after_reconciling(
    fake_x: FakeX, service, store: Store, clock: Clock, adapter: XAdapter
) -> None:
    request_id = await finished(service, store, fake_x)
    fake_x.fail("POST /2/tweets", "500")  # the server failed: unknown to the bot whether it posted

    await deliver_all(loop_for(service, adapter, clock), clock)

    assert len(fake_x.posts) == 1
    assert len(fake_x.calls_to("GET /2/users/{id}/tweets")) >= 1  # looked before posting again
    assert store.get_request(request_id).posted_message_id == fake_x.posts[0]["id"]


async def test_rate_limited_post_waits_for_the_reset_then_posts_once(
    fake_x: FakeX, service, store: Store, clock: Clock, adapter: XAdapter
) -> None:
    await finished(service, store, fake_x)
    fake_x.rate_limit_reset = int(clock.now.timestamp()) + 600
    fake_x.fail("POST /2/tweets", "429")

    (delivery,) = store.pending_deliveries(Platform.X)
    with pytest.raises(DeliveryError) as limited:
        await adapter.deliver(delivery)
    assert (limited.value.kind, limited.value.retry_after) == ("retryable", pytest.approx(601))

    await deliver_all(loop_for(service, adapter, clock), clock)
    assert len(fake_x.posts) == 1


async def test_forbidden_post_fails_for_good_without_a_retry_loop(
    fake_x: FakeX, service, store: Store, clock: Clock, adapter: XAdapter
) -> None:
    await finished(service, store, fake_x)
    (delivery,) = store.pending_deliveries(Platform.X)
    fake_x.fail("POST /2/tweets", "403")
    with pytest.raises(DeliveryError) as refused:
        await adapter.deliver(delivery)
    assert refused.value.kind == "permanent"


async def test_a_rejected_mention_gets_one_short_text_reply(
    fake_x: FakeX, service, store: Store, clock: Clock, adapter: XAdapter
) -> None:
    fake_x.user("7", "carol")
    tweet_id = fake_x.mention(f"@{BOT_NAME}", author="7")  # nothing to draw
    new = NewRequest(Platform.X, tweet_id, "7", "", "carol", {"tweet_id": tweet_id, "author_id": "7"})
    assert isinstance(await service.submit(new), Rejected)
    assert isinstance(await service.submit(new), Rejected)  # the same mention read twice

    await deliver_all(loop_for(service, adapter, clock), clock)

    (reply,) = fake_x.calls_to("POST /2/tweets")
    assert reply.body["reply"] == {"in_reply_to_tweet_id": tweet_id}
    assert "media" not in reply.body
    assert 0 < len(reply.body["text"]) <= 280


async def test_rejection_replies_can_be_turned_off(
    fake_x: FakeX, service, store: Store, clock: Clock
) -> None:
    adapter = make_adapter(clock, reply_to_rejections=False)
    fake_x.user("7", "carol")
    tweet_id = fake_x.mention(f"@{BOT_NAME}", author="7")
    new = NewRequest(Platform.X, tweet_id, "7", "", "carol", {"tweet_id": tweet_id, "author_id": "7"})
    request_id = (await service.submit(new), store.find_request(Platform.X, tweet_id).id)[1]

    await deliver_all(loop_for(service, adapter, clock), clock)

    assert fake_x.calls_to("POST /2/tweets") == []
    assert store.get_request(request_id).posted_message_id == NOT_POSTED
    assert store.pending_deliveries(Platform.X) == []


async def test_daily_post_is_a_new_post_and_is_found_again_after_a_timeout(
    fake_x: FakeX, service, store: Store, clock: Clock
) -> None:
    adapter = make_adapter(clock, daily_text="Today's prompt: {prompt} #dallebot")
    new = NewRequest(
        Platform.X, "daily:2026-11-26", "daily", "a lighthouse & a storm", "daily", {"daily": "2026-11-26"}
    )
    await service.submit(new, trusted=True)
    (claim,) = store.claim("worker-1")
    store.complete(claim, image_png=png(), seconds=1.0)
    fake_x.fail("POST /2/tweets", "timeout_after_commit")

    await deliver_all(loop_for(service, adapter, clock), clock)

    (post,) = fake_x.posts
    assert post["request"]["text"] == "Today's prompt: a lighthouse & a storm #dallebot"
    assert "reply" not in post["request"]
    assert store.get_request(claim.request.id).posted_message_id == post["id"]
    (lookup, *_) = fake_x.calls_to("GET /2/users/{id}/tweets")
    assert lookup.query["exclude"] == "replies,retweets"


async def test_mention_to_reply_end_to_end_answers_only_the_summoner(
    fake_x: FakeX, service, store: Store, clock: Clock, adapter: XAdapter
) -> None:
    # Erin posted; Carol replied to it summoning the bot. The image goes to Carol's post, and Erin
    # (whom X would add to the reply) is excluded.
    fake_x.user("7", "carol")
    fake_x.user("8", "erin")
    parent = fake_x.other_post("a lighthouse in a storm", author="8")
    mention = fake_x.mention(f"@erin @{BOT_NAME}", author="7", reply_to=parent)
    adapter.settings = adapter.settings.model_copy(update={"skip_backlog_on_first_start": False})
    await adapter.start(service)
    try:
        for _ in range(100):
            if store.find_request(Platform.X, mention) is not None:
                break
            await asyncio.sleep(0.02)
    finally:
        await adapter.stop()
    (claim,) = store.claim("worker-1")
    assert claim.request.prompt == "a lighthouse in a storm"
    store.complete(claim, image_png=png(), seconds=1.0)
    adapter = make_adapter(clock)  # stop() closed the first one's session

    await deliver_all(loop_for(service, adapter, clock), clock, rounds=1)

    (post,) = fake_x.calls_to("POST /2/tweets")
    assert post.body["reply"] == {"in_reply_to_tweet_id": mention, "exclude_reply_user_ids": ["8"]}
    assert "@" not in post.body["text"]


async def test_refusals_for_the_same_reason_are_never_identical_so_x_posts_each(
    fake_x: FakeX, service, store: Store, clock: Clock, adapter: XAdapter
) -> None:
    """X refuses a text the bot already posted (403 duplicate content, in the fake too): two users
    refused for the same reason each get their own reply, named by request."""
    fake_x.user("7", "carol")
    fake_x.user("9", "dave")
    ids = []
    for author, name in (("7", "carol"), ("9", "dave")):
        tweet_id = fake_x.mention(f"@{BOT_NAME}", author=author)  # nothing to draw: the same refusal
        new = NewRequest(Platform.X, tweet_id, author, "", name, {"tweet_id": tweet_id, "author_id": author})
        assert isinstance(await service.submit(new), Rejected)
        ids.append(store.find_request(Platform.X, tweet_id).id)

    await deliver_all(loop_for(service, adapter, clock), clock)

    texts = [call.body["text"] for call in fake_x.calls_to("POST /2/tweets")]
    assert texts == [
        f"The prompt is empty: describe the picture you want. (request #{ids[0]})",
        f"The prompt is empty: describe the picture you want. (request #{ids[1]})",
    ]
    assert store.pending_deliveries(Platform.X) == []


async def test_replies_carry_no_handle_or_link_from_the_prompt(
    fake_x: FakeX, service, store: Store, clock: Clock, adapter: XAdapter
) -> None:
    prompt = "a fox with @erin and ＠frank at https://spam.example/x and buy.example.com now"
    await finished(service, store, fake_x, prompt=prompt)

    await deliver_all(loop_for(service, adapter, clock), clock)

    (upload,) = fake_x.calls_to("POST /2/media/metadata")
    assert upload.body["metadata"]["alt_text"]["text"] == "a fox with erin and frank at (link) and (link) now"
    (reply,) = fake_x.calls_to("POST /2/tweets")
    assert "@" not in reply.body["text"] and "example" not in reply.body["text"]


def test_notices_are_inert_and_fit_in_a_post() -> None:
    from bot.adapters.x import text

    assert (
        text.notice(5, "Refused: see www.evil.example or @spammer")
        == "Refused: see (link) or spammer (request #5)"
    )
    long = text.notice(123456, "x" * 400)
    assert len(long) == 280 and long.endswith("… (request #123456)")


async def test_words_the_model_does_not_know_are_refused_or_named_in_the_reply(
    fake_x: FakeX, service, store: Store, clock: Clock, adapter: XAdapter, db_path
) -> None:
    """Issue 14, with the shapes model's vocabulary: a refusal names the words (in one post's
    length); a partly understood prompt's image reply names what was left out, after a restart too."""
    from generation.understanding import PromptReader
    from tests.bot.adapters.x.conftest import make_service, make_store

    service.reader = PromptReader.for_model("shapes")
    fake_x.user("7", "carol")
    refused_id = fake_x.mention(f"@{BOT_NAME} sunset over the mountains", author="7")
    refused = NewRequest(
        Platform.X, refused_id, "7", "sunset over the mountains", "carol", {"tweet_id": refused_id}
    )
    assert isinstance(await service.submit(refused), Rejected)
    request_id = await finished(service, store, fake_x, prompt="a red fox")

    later_store = make_store(db_path, clock)  # a new process delivers: the words come from storage
    later = make_service(later_store)
    try:
        await deliver_all(loop_for(later, adapter, clock), clock, rounds=1)
    finally:
        later.close()
        later_store.close()

    posts = {
        post.body["reply"]["in_reply_to_tweet_id"]: post.body for post in fake_x.calls_to("POST /2/tweets")
    }
    refusal = posts[refused_id]["text"]
    assert refusal.startswith('This model does not know "sunset", "mountains"') and len(refusal) <= 280
    image_reply = posts[store.get_request(request_id).external_id]
    note = 'Left out (not in this model\'s vocabulary): "fox".'
    assert image_reply["text"] == f"{note} (request #{request_id})"  # numbered: X refuses repeated texts
    assert image_reply["media"]["media_ids"]
