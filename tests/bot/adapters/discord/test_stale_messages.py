"""A restarted bot (or an expired interaction token) leaves no "⏳ Queued" message behind."""

from __future__ import annotations

from bot.adapters.discord import text


def own_messages(world) -> list:
    return [m for m in world.channel.history() if m.author.id == world.client.user.id]


async def test_a_mentions_queued_reply_is_settled_after_a_restart(world):
    await world.alice.send(world.channel, f"{world.client.user.mention} a lighthouse")
    [status] = own_messages(world)
    assert status.content.startswith("⏳ Queued")
    await world.restart()
    world.finish()

    await world.deliver()

    old, result = own_messages(world)
    assert old.id == status.id and old.content == text.MOVED
    assert result.attachments and result.content.startswith(f"<@{world.alice.id}> **a lighthouse**")
    assert world.store.get_request(1).posted_message_id == str(result.id)
    assert await world.adapter.reconcile(world.store.get_request(1)) == str(result.id)  # never the notice


async def test_an_interactions_queued_message_is_settled_after_a_restart(world):
    answer = await world.alice.slash(world.channel, "imagine", prompt="a windmill")
    assert answer.response.content.startswith("⏳ Queued")
    await world.restart()
    world.finish()

    await world.deliver()

    old = next(m for m in world.channel.history() if m.id == answer.response.id)
    assert old.content == text.MOVED and not old.attachments
    result = world.channel.last_message
    assert result.attachments and result.reference.message_id == answer.response.id


async def test_an_expired_interactions_queued_message_is_settled(world):
    answer = await world.alice.slash(world.channel, "imagine", prompt="slow one")
    await world.env.advance_time(16 * 60)
    world.finish()

    await world.deliver()

    old = next(m for m in world.channel.history() if m.id == answer.response.id)
    assert old.content == text.MOVED
    assert world.channel.last_message.attachments


async def test_a_refusal_after_a_restart_settles_the_queued_message_too(world):
    await world.alice.send(world.channel, f"{world.client.user.mention} doomed")
    await world.restart()
    world.fail_all("generation failed: out of memory")

    await world.deliver()

    old, notice = own_messages(world)
    assert old.content == text.MOVED
    assert "failed: generation failed: out of memory" in notice.content
