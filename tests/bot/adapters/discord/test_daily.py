"""The daily prompt on Discord: posted to `discord.daily_channel_id`, or not given to Discord at all."""

from __future__ import annotations

from datetime import date

from bot.config_discord import DiscordSettings
from bot.daily import DailyPrompt
from bot.daily.settings import DailySettings
from bot.domain import Accepted, Platform

DAY = date(2026, 11, 26)


def with_daily_channel(world, channel_id: int | None) -> None:
    world.adapter.settings = world.adapter.settings.model_copy(update={"daily_channel_id": channel_id})


async def submit_daily(world, prompt: str = "a lighthouse at dawn") -> None:
    daily = DailyPrompt(
        DailySettings(enabled=True, prompts=[prompt]), world.service, platforms=[Platform.DISCORD]
    )
    outcomes = await daily.run_for(DAY)
    assert isinstance(outcomes[Platform.DISCORD], Accepted)


def bot_posts(world, channel) -> list:
    return [m for m in channel.history() if m.author.id == world.client.user.id]


def test_only_an_adapter_with_a_daily_channel_takes_daily_requests(adapter) -> None:
    assert not adapter.takes_daily()
    adapter.settings = DiscordSettings(enabled=True, daily_channel_id=1234)
    assert adapter.takes_daily()


async def test_daily_image_is_posted_to_the_daily_channel_once(world):
    daily_channel = world.guild.create_text_channel("daily")
    with_daily_channel(world, daily_channel.id)
    await submit_daily(world)
    world.finish()

    await world.deliver()
    await world.deliver()

    [message] = bot_posts(world, daily_channel)
    assert "a lighthouse at dawn" in message.content and "2026-11-26" in message.content
    assert "request #1" in message.content and "<@" not in message.content  # nobody to mention
    assert message.attachments[0].description == "a lighthouse at dawn"
    assert bot_posts(world, world.channel) == []
    assert world.store.get_request(1).posted_message_id == str(message.id)
    assert world.store.pending_deliveries(Platform.DISCORD) == []


async def test_reconcile_finds_the_daily_post(world):
    daily_channel = world.guild.create_text_channel("daily")
    with_daily_channel(world, daily_channel.id)
    await submit_daily(world)
    world.finish()
    await world.deliver()
    posted = world.store.get_request(1).posted_message_id
    await world.restart()

    assert await world.adapter.reconcile(world.store.get_request(1)) == posted


async def test_failed_daily_image_is_not_announced(world):
    daily_channel = world.guild.create_text_channel("daily")
    with_daily_channel(world, daily_channel.id)
    await submit_daily(world)
    world.fail_all("generation failed: out of memory")

    await world.deliver()

    assert bot_posts(world, daily_channel) == []  # nobody asked for it, so nobody is told
    assert world.store.pending_deliveries(Platform.DISCORD) == []


async def test_daily_channel_gone_is_a_recorded_failure_not_a_dm(world):
    daily_channel = world.guild.create_text_channel("daily")
    with_daily_channel(world, daily_channel.id)
    await submit_daily(world)
    world.finish()
    world.env.inject_error("POST", f"/channels/{daily_channel.id}/messages", status=403, code=50013)

    await world.deliver()

    assert world.store.pending_deliveries(Platform.DISCORD) == []
    assert world.store.get_request(1).posted_message_id is None
