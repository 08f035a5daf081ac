"""Buttons that survive a restart, /quota and /queue, and the moderators' /mod commands."""

from __future__ import annotations

from dataclasses import replace

import pytest
import simcord
from discord import app_commands

from bot.domain import Platform, Status
from storage import ImageAction


async def delivered_image(world, prompt: str = "a lighthouse", **options):
    result = await world.alice.slash(world.channel, "imagine", prompt=prompt, **options)
    world.finish()
    await world.deliver()
    return result.response.message


# -- buttons ------------------------------------------------------------------------------------------


async def test_reroll_after_restart_queues_same_prompt_with_new_seed(world):
    image = await delivered_image(world, seed=7, images=2)
    await world.restart()

    clicked = await world.mod.click(image, label="Re-roll")

    assert clicked.deferred or clicked.acknowledged
    assert clicked.response.content.startswith("⏳ Queued")
    original, reroll = world.requests()
    assert reroll.prompt == original.prompt and reroll.options.images == 2
    assert reroll.options.seed != 7
    assert reroll.user_id == str(world.mod.id)  # charged to whoever clicked
    assert reroll.external_id == str(clicked._interaction.id)


async def test_reroll_of_a_reroll_is_delivered_with_its_own_buttons(world):
    image = await delivered_image(world)
    clicked = await world.alice.click(image, label="Re-roll")
    world.finish()
    await world.deliver()

    rerolled = clicked.response.message
    assert rerolled.attachments
    again = await world.alice.click(rerolled, label="Re-roll")
    assert again.response.content.startswith("⏳ Queued")
    assert len(world.requests()) == 3


async def test_delete_button_refuses_others_and_works_for_the_requester_after_restart(world):
    image = await delivered_image(world)
    bob = world.guild.add_member(world.env.create_user("bob"))
    await world.restart()

    refused = await bob.click(image, label="Delete")
    assert refused.ephemeral and "Only the person who asked" in refused.response.content
    assert world.channel.history()  # still there

    await world.alice.click(image, label="Delete")
    assert world.channel.history() == []


async def test_delete_button_works_for_a_moderator(world):
    image = await delivered_image(world)
    await world.mod.click(image, label="Delete")
    assert world.channel.history() == []


# -- /quota and /queue ------------------------------------------------------------------------------


async def test_quota_shows_remaining_and_refill_time(world):
    await delivered_image(world, images=2)

    result = await world.alice.slash(world.channel, "quota")

    assert result.ephemeral
    assert result.response.content.startswith("You have **1** image(s) left (2 used).")
    assert "refills <t:" in result.response.content


async def test_queue_shows_depth_and_your_position(world):
    await world.mod.slash(world.channel, "imagine", prompt="first")
    await world.alice.slash(world.channel, "imagine", prompt="second")

    result = await world.alice.slash(world.channel, "queue")

    assert result.ephemeral
    lines = result.response.content.splitlines()
    assert lines[0] == "📋 2 waiting, 0 generating."
    assert lines[1].startswith("Your request #2: ⏳ Queued — position 2")


# -- moderators ---------------------------------------------------------------------------------------


async def test_mod_commands_are_hidden_from_members(world):
    assert "mod ban" in world.mod.available_commands(world.channel)
    assert "mod ban" not in world.alice.available_commands(world.channel)
    with pytest.raises(simcord.SetupError):
        await world.alice.slash(world.channel, "mod ban", user=world.mod)


async def test_mod_commands_recheck_permissions_when_a_server_grants_them_to_anyone(world):
    [command] = [c for c in await world.client.tree.fetch_commands() if c.name == "mod"]
    world.guild.set_command_permissions(command, {world.alice: True})

    result = await world.alice.slash(world.channel, "mod ban", user=world.mod)

    assert result.ephemeral and "Only moderators" in result.response.content
    assert not world.store.is_banned(Platform.DISCORD, str(world.mod.id))
    # discord.py reports the refused check to the tree's error handler (which stays quiet about it)
    assert [type(e) for e in world.env.errors] == [app_commands.CheckFailure]


async def test_ban_and_unban(world):
    banned = await world.mod.slash(world.channel, "mod ban", user=world.alice, reason="spam")
    assert banned.ephemeral
    assert world.store.is_banned(Platform.DISCORD, str(world.alice.id))

    refused = await world.alice.slash(world.channel, "imagine", prompt="let me in")
    assert refused.followups[0].ephemeral

    await world.mod.slash(world.channel, "mod unban", user=world.alice)
    accepted = await world.alice.slash(world.channel, "imagine", prompt="thanks")
    assert accepted.response.content.startswith("⏳ Queued")


async def test_reset_quota_lets_the_user_ask_again(world):
    await delivered_image(world, images=3)
    assert (await world.alice.slash(world.channel, "imagine", prompt="more")).followups[0].ephemeral

    await world.mod.slash(world.channel, "mod reset-quota", user=world.alice)

    again = await world.alice.slash(world.channel, "imagine", prompt="more")
    assert again.response.content.startswith("⏳ Queued")


async def test_channel_can_be_switched_off_and_it_persists_across_restart(world):
    result = await world.mod.slash(world.channel, "mod channel", enabled=False)
    assert "bot off" in result.response.content
    await world.restart()

    refused = await world.alice.slash(world.channel, "imagine", prompt="here?")
    assert "not enabled in this channel" in refused.followups[0].content
    await world.alice.send(world.channel, f"{world.client.user.mention} here?")
    assert "not enabled in this channel" in world.channel.last_message.content
    assert all(r.status is not Status.QUEUED for r in world.requests())

    await world.mod.slash(world.channel, "mod channel", enabled=True)
    assert (await world.alice.slash(world.channel, "imagine", prompt="now")).response.content.startswith("⏳")


async def test_nsfw_images_setting_warns_outside_nsfw_channels(world):
    result = await world.mod.slash(world.channel, "mod channel", nsfw_images=True)
    assert "isn't marked age-restricted" in result.response.content


async def test_flagged_image_is_withheld_outside_nsfw_channels(world):
    await world.mod.slash(world.channel, "mod channel", nsfw_images=True)
    result = await world.alice.slash(world.channel, "imagine", prompt="edgy")
    assert "nsfw" not in world.requests()[0].reply_to  # the worker's gate will block, not spoiler

    [claim] = world.store.claim("test-worker")
    world.store.complete(claim, image_png=b"png", seconds=1.0)
    delivery = world.store.pending_deliveries(Platform.DISCORD)[0]
    flagged = replace(delivery, image_action=ImageAction.SPOILER)
    await world.adapter.deliver(flagged)
    await world.env.settle()

    assert "withheld by the safety filter" in result.response.content
    assert not result.response.attachments


async def test_flagged_image_is_spoilered_in_an_nsfw_channel_that_allows_it(world):
    world.client.get_channel(world.channel.id).nsfw = True  # simcord does not model the NSFW flag
    await world.mod.slash(world.channel, "mod channel", nsfw_images=True)
    result = await world.alice.slash(world.channel, "imagine", prompt="edgy")
    assert world.requests()[0].reply_to["nsfw"] == "true"  # the worker may spoiler instead of block

    world.finish()
    await world.deliver()

    [attachment] = result.response.attachments
    assert attachment.is_spoiler()
    assert "behind a spoiler" in result.response.content
