"""A restarted bot (or an expired interaction token) leaves no "⏳ Queued" message behind.

At start the new process takes its waiting messages back (stale.adopt_waiting): they show the
present queue position again and receive the result, as if there had been no restart. A message it
could not take back is told, at delivery, where the result went.
"""

from __future__ import annotations

from bot.adapters.discord import text


def own_messages(world) -> list:
    return [m for m in world.channel.history() if m.author.id == world.client.user.id]


async def test_a_mentions_queued_reply_receives_the_result_after_a_restart(world):
    await world.alice.send(world.channel, f"{world.client.user.mention} a lighthouse")
    [status] = own_messages(world)
    assert status.content.startswith("⏳ Queued")
    await world.restart()
    world.finish()

    await world.deliver()

    [result] = own_messages(world)
    assert result.id == status.id and result.attachments
    assert result.content.startswith("**a lighthouse**")
    assert world.store.get_request(1).posted_message_id == str(result.id)
    assert await world.adapter.reconcile(world.store.get_request(1)) == str(result.id)


async def test_an_interactions_queued_message_receives_the_result_after_a_restart(world):
    answer = await world.alice.slash(world.channel, "imagine", prompt="a windmill")
    assert answer.response.content.startswith("⏳ Queued")
    await world.restart()
    world.finish()

    await world.deliver()

    [result] = own_messages(world)
    assert result.id == answer.response.id and result.attachments


async def test_an_adopted_message_shows_the_present_position_at_once(world):
    await world.alice.send(world.channel, f"{world.client.user.mention} first")
    await world.alice.send(world.channel, f"{world.client.user.mention} second")
    first, second = own_messages(world)
    assert second.content.startswith("⏳ Queued — position 2")
    [claim] = world.store.claim("test-worker", limit=1)  # the first one starts while the bot is down
    await world.restart()

    assert next(m for m in own_messages(world) if m.id == first.id).content == text.queued(position=0)
    assert next(m for m in own_messages(world) if m.id == second.id).content.startswith(
        "⏳ Queued — position 1 (you're next)"
    )
    world.store.release(claim)


async def test_a_refusal_after_a_restart_goes_into_the_queued_message_too(world):
    await world.alice.send(world.channel, f"{world.client.user.mention} doomed")
    await world.restart()
    world.fail_all("generation failed: out of memory")

    await world.deliver()

    [notice] = own_messages(world)
    assert "failed: generation failed: out of memory" in notice.content


async def test_a_message_not_taken_back_at_start_is_settled_at_delivery(world):
    await world.alice.send(world.channel, f"{world.client.user.mention} a lighthouse")
    [status] = own_messages(world)
    await world.restart_unable_to_read_back()
    world.finish()

    await world.deliver()

    old, result = own_messages(world)
    assert old.id == status.id and old.content == text.MOVED
    assert result.attachments and result.content.startswith(f"<@{world.alice.id}> **a lighthouse**")
    assert world.store.get_request(1).posted_message_id == str(result.id)
    assert await world.adapter.reconcile(world.store.get_request(1)) == str(result.id)  # never the notice


async def test_an_interactions_message_not_taken_back_is_settled_at_delivery(world):
    answer = await world.alice.slash(world.channel, "imagine", prompt="a windmill")
    await world.restart_unable_to_read_back()
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
