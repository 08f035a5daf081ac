"""Mentions, duplicate events, the 15-minute expiry fallback and Discord errors during delivery."""

from __future__ import annotations

import pytest

from bot.adapters.base import DeliveryError
from bot.domain import Platform, Status


def gateway_payload(world, event: str) -> dict:
    """The last payload simcord's gateway sent for `event` (to deliver it a second time)."""
    sent = world.env.backend.transcript
    return [payload for kind, name, payload in sent if kind == "GATEWAY" and name == event][-1]


def message_payload(world, message_id: int) -> dict:
    """The MESSAGE_CREATE payload of one message (the bot's own replies are MESSAGE_CREATEs too)."""
    sent = world.env.backend.transcript
    return next(
        payload
        for kind, name, payload in sent
        if kind == "GATEWAY" and name == "MESSAGE_CREATE" and str(payload["id"]) == str(message_id)
    )


async def redeliver(world, event: str) -> None:
    """Discord may send a gateway event twice (resume, reconnect): send the last one again."""
    world.env.backend.emit(event, gateway_payload(world, event))
    await world.env.settle()


def pending(world) -> list:
    return world.store.pending_deliveries(Platform.DISCORD)


# -- mentions ---------------------------------------------------------------------------------


async def test_mention_queues_and_the_result_replies_to_the_message(world):
    asked = await world.alice.send(world.channel, f"{world.client.user.mention} a blue sphere")

    status = world.channel.last_message
    assert status.author.id == world.client.user.id
    assert status.reference.message_id == asked.id
    assert status.content.startswith("⏳ Queued — position 1")
    [request] = world.requests()
    assert (request.prompt, request.external_id) == ("a blue sphere", str(asked.id))

    world.finish()
    await world.deliver()

    [message] = [m for m in world.channel.history() if m.author.id == world.client.user.id]
    assert message.id == status.id  # the status reply became the result: one reply per request
    assert message.reference.message_id == asked.id
    assert message.attachments[0].description == "a blue sphere"
    assert "request #1" in message.content


async def test_mention_without_prompt_gets_help_and_no_request(world):
    await world.alice.send(world.channel, world.client.user.mention)
    assert "Mention me with a prompt" in world.channel.last_message.content
    assert world.requests() == []


async def test_mention_refusal_replies_with_the_reason(world):
    await world.alice.send(world.channel, f"{world.client.user.mention} something forbidden")
    assert world.channel.last_message.content.startswith("❌ ")
    assert [r.status for r in world.requests()] == [Status.REJECTED]


async def test_replying_to_the_bot_without_mentioning_it_is_not_a_request(world):
    await world.alice.send(world.channel, f"{world.client.user.mention} a cat")
    await world.alice.send(world.channel, "nice!", reply_to=world.channel.last_message)
    assert len(world.requests()) == 1


# -- duplicate gateway events ---------------------------------------------------------------------


async def test_duplicate_interaction_event_makes_one_request_and_one_reply(world):
    await world.alice.slash(world.channel, "imagine", prompt="twice")
    await redeliver(world, "INTERACTION_CREATE")

    assert len(world.requests()) == 1
    assert len([e for e in world.env.http_requests if e.path.endswith("/callback")]) == 1
    assert len(world.channel.history()) == 1


async def test_duplicate_message_event_makes_one_request_and_one_reply(world):
    await world.alice.send(world.channel, f"{world.client.user.mention} twice")
    await redeliver(world, "MESSAGE_CREATE")

    assert len(world.requests()) == 1
    assert len(world.channel.history()) == 2  # the mention and one reply


async def test_duplicate_after_restart_is_caught_by_storage(world):
    asked = await world.alice.send(world.channel, f"{world.client.user.mention} twice")
    payload = message_payload(world, asked.id)
    await world.restart()  # the in-memory record of seen events is gone

    world.env.backend.emit("MESSAGE_CREATE", payload)
    await world.env.settle()

    assert len(world.requests()) == 1
    assert len(world.channel.history()) == 2


async def test_refused_mention_redelivered_after_restart_is_not_refused_twice(world):
    asked = await world.alice.send(world.channel, f"{world.client.user.mention} something forbidden")
    payload = message_payload(world, asked.id)
    assert world.channel.last_message.content.startswith("❌ ")
    await world.restart()  # the in-memory record of seen events is gone

    world.env.backend.emit("MESSAGE_CREATE", payload)
    await world.env.settle()

    assert [r.status for r in world.requests()] == [Status.REJECTED]
    assert len(world.channel.history()) == 2  # the mention and one refusal


# -- after the 15-minute interaction token ----------------------------------------------------------


async def test_result_after_token_expiry_goes_to_the_channel_once(world):
    result = await world.alice.slash(world.channel, "imagine", prompt="slow one")
    await world.env.advance_time(16 * 60)
    world.finish()

    assert await world.deliver() == 1

    posted = world.channel.last_message
    assert posted.id != result.response.id
    assert posted.reference.message_id == result.response.id  # replies to the original request
    assert posted.content.startswith(f"<@{world.alice.id}> **slow one**")
    assert posted.attachments[0].description == "slow one"
    assert world.store.get_request(1).posted_message_id == str(posted.id)
    assert pending(world) == []
    assert await world.deliver() == 0


async def test_token_rejected_early_falls_back_to_the_channel_without_retrying_it(world):
    await world.alice.slash(world.channel, "imagine", prompt="token gone")
    world.finish()
    world.env.inject_error(
        "PATCH", "/webhooks/*/messages/@original", status=401, code=50027, message="Invalid Webhook Token"
    )

    await world.deliver()

    patches = [e for e in world.env.http_requests if e.method == "PATCH" and "@original" in e.path]
    assert len(patches) == 2  # the queue position, then the one failed attempt: no retry loop
    assert world.channel.last_message.attachments
    assert pending(world) == []


async def test_channel_unusable_falls_back_to_a_dm(world):
    await world.alice.send(world.channel, f"{world.client.user.mention} dm me")
    await world.restart_unable_to_read_back()  # so delivery must post anew
    world.finish()
    world.env.inject_error("POST", f"/channels/{world.channel.id}/messages", status=403, code=50013)

    await world.deliver()

    dm = world.alice.user.dm_channel.last_message
    assert dm.attachments and "request #1" in dm.content
    assert pending(world) == []


async def test_no_channel_and_no_dm_is_a_recorded_failure_not_a_retry_loop(world):
    await world.alice.send(world.channel, f"{world.client.user.mention} nowhere to go")
    await world.restart_unable_to_read_back()
    world.finish()
    world.env.inject_error("POST", "/channels/*/messages", status=403, code=50007, times=None)

    await world.deliver()
    await world.env.advance_time(3600)
    await world.deliver()

    posts = [e for e in world.env.http_requests if e.method == "POST" and e.path.endswith("/messages")]
    # the mention's status reply (before the fault), then one channel try and one DM try
    assert len(posts) == 3
    assert pending(world) == []


# -- errors the core must classify ------------------------------------------------------------------


async def test_rate_limit_is_retried_after_its_reset_and_posts_once(world):
    await world.alice.send(world.channel, f"{world.client.user.mention} busy")
    await world.restart_unable_to_read_back()
    world.finish()
    world.env.inject_error("POST", f"/channels/{world.channel.id}/messages", status=429)

    [delivery] = pending(world)
    with pytest.raises(DeliveryError) as raised:
        await world.adapter.deliver(delivery)
    assert raised.value.kind == "retryable" and raised.value.retry_after is not None

    world.env.inject_error("POST", f"/channels/{world.channel.id}/messages", status=429)
    await world.deliver()
    assert pending(world) == []  # not due until the reset: no retry loop
    assert not [m for m in world.channel.history() if m.attachments]
    await world.env.advance_time(60)
    await world.deliver()

    assert pending(world) == []
    images = [m for m in world.channel.history() if m.attachments]
    assert len(images) == 1


async def test_server_error_on_send_is_ambiguous_then_reconciled_and_posted_once(world):
    await world.alice.send(world.channel, f"{world.client.user.mention} flaky")
    await world.restart_unable_to_read_back()
    world.finish()
    world.env.inject_error("POST", f"/channels/{world.channel.id}/messages", status=500)

    [delivery] = pending(world)
    with pytest.raises(DeliveryError) as raised:
        await world.adapter.deliver(delivery)
    assert raised.value.kind == "ambiguous"

    await world.deliver()  # reconciles (nothing landed), then posts
    await world.env.advance_time(600)
    await world.deliver()

    assert pending(world) == []
    assert len([m for m in world.channel.history() if m.attachments]) == 1


async def test_reconcile_finds_the_post_that_landed(world):
    await world.alice.send(world.channel, f"{world.client.user.mention} landed")
    world.finish()
    await world.deliver()
    posted = world.store.get_request(1).posted_message_id
    await world.restart()

    assert await world.adapter.reconcile(world.store.get_request(1)) == posted


async def test_reconcile_returns_none_when_nothing_was_posted(world):
    await world.alice.send(world.channel, f"{world.client.user.mention} not yet")
    assert await world.adapter.reconcile(world.store.get_request(1)) is None


async def test_failed_generation_tells_the_user_once(world):
    result = await world.alice.slash(world.channel, "imagine", prompt="poison")
    world.fail_all("generation failed: out of memory")

    await world.deliver()
    await world.deliver()

    assert "failed: generation failed: out of memory" in result.response.content
    assert not result.response.attachments
