"""`/imagine` as a user runs it: deferred reply, queue position, progress edits, the delivered image."""

from __future__ import annotations

import re

import pytest
import simcord

from bot.domain import Status
from tests.bot.adapters.discord.conftest import make_settings


def calls(world, method: str, fragment: str) -> list:
    return [entry for entry in world.env.http_requests if entry.method == method and fragment in entry.path]


async def test_defers_at_once_then_shows_queue_position(world):
    result = await world.alice.slash(world.channel, "imagine", prompt="a red cube", seed=42)

    callbacks = calls(world, "POST", "/callback")
    assert [entry.json["type"] for entry in callbacks] == [5]  # DEFERRED_CHANNEL_MESSAGE ("thinking")
    assert not result.ephemeral
    assert result.response.content == "⏳ Queued — position 1 (you're next), ETA unknown."
    [request] = world.requests()
    assert (request.prompt, request.options.seed, request.user_id) == ("a red cube", 42, str(world.alice.id))
    assert request.external_id == str(result._interaction.id)
    assert request.reply_to["message_id"] == str(result.response.id)  # the thinking message


async def test_result_replaces_the_waiting_message_with_image_alt_text_seed_and_buttons(world):
    result = await world.alice.slash(world.channel, "imagine", prompt="a red cube", seed=42, images=2)
    await world.env.advance_time(3)
    world.finish()

    assert await world.deliver() == 1

    message = result.response
    assert message.content == "**a red cube**\nseed 42 · 2 images · took 3.0 s · request #1"
    [attachment] = message.attachments
    assert attachment.filename == "dallebot.png"
    assert attachment.description == "a red cube"  # alt text
    buttons = [c["custom_id"] for row in message.components for c in row["components"]]
    assert buttons == [f"dallebot:reroll:{result._interaction.id}", f"dallebot:delete:{world.alice.id}"]
    assert len(world.channel.history()) == 1  # one message, edited in place: no spam
    assert world.store.get_request(1).posted_message_id == str(message.id)
    assert await world.deliver() == 0  # delivered once


async def test_random_seed_is_chosen_and_shown_when_none_given(world):
    result = await world.alice.slash(world.channel, "imagine", prompt="a red cube")
    seed = world.requests()[0].options.seed
    assert seed is not None
    world.finish()
    await world.deliver()
    assert f"seed {seed} ·" in result.response.content


async def test_queue_position_is_edited_while_waiting_not_reposted(world):
    await world.mod.slash(world.channel, "imagine", prompt="first")
    second = await world.alice.slash(world.channel, "imagine", prompt="second")
    assert second.response.content.startswith("⏳ Queued — position 2 (1 ahead of you)")

    world.store.claim("test-worker", limit=1)  # the first request starts running
    await world.env.advance_time(world.adapter.settings.progress_interval_seconds)

    assert second.response.content.startswith("⏳ Queued — position 1 (you're next)")
    edits_before = len(calls(world, "PATCH", "/messages/@original"))
    await world.env.advance_time(world.adapter.settings.progress_interval_seconds * 3)
    assert len(calls(world, "PATCH", "/messages/@original")) == edits_before  # unchanged: no edit
    assert len(world.channel.history()) == 2  # still one message per request


async def test_quota_rejection_is_ephemeral_and_says_when_to_retry(world):
    await world.alice.slash(world.channel, "imagine", prompt="three at once", images=3)
    world.finish()
    await world.deliver()

    refused = await world.alice.slash(world.channel, "imagine", prompt="one more")

    [followup] = refused.followups
    assert followup.ephemeral
    assert "3 of your 3 images" in followup.content
    assert re.search(r"[Tt]ry again .*<t:\d+:R>", followup.content)
    assert refused.response is None  # the public "thinking" message is gone
    assert len(world.channel.history()) == 1  # only the first image is public


async def test_unsafe_prompt_is_refused_ephemerally_and_never_queued(world):
    refused = await world.alice.slash(world.channel, "imagine", prompt="a forbidden picture")

    [followup] = refused.followups
    assert followup.ephemeral
    assert "Please rephrase it" in followup.content  # the prompt gate's reason, shown as is
    assert world.channel.history() == []
    assert [r.status for r in world.requests()] == [Status.REJECTED]  # recorded for the audit only


async def test_empty_prompt_after_cleanup_is_refused_with_the_reason(world):
    refused = await world.alice.slash(world.channel, "imagine", prompt="\u200b\u200b")

    [followup] = refused.followups
    assert followup.ephemeral
    assert "empty" in followup.content


async def test_options_outside_the_configured_limits_never_reach_the_bot(world):
    # Discord's client enforces the ranges the command declared from generation.limits (max_images 4).
    with pytest.raises(simcord.OptionError):
        await world.alice.slash(world.channel, "imagine", prompt="grid", images=5)
    with pytest.raises(simcord.OptionError):
        await world.alice.slash(world.channel, "imagine", prompt="hot", temperature=50.0)
    assert world.requests() == []


async def test_in_flight_cap_rejection(world):
    await world.alice.slash(world.channel, "imagine", prompt="one")
    await world.alice.slash(world.channel, "imagine", prompt="two")
    refused = await world.alice.slash(world.channel, "imagine", prompt="three")
    [followup] = refused.followups
    assert followup.ephemeral and "❌" in followup.content


@pytest.fixture
def settings():
    return make_settings(progress_interval_seconds=10)


async def test_progress_never_overwrites_a_delivered_result(world):
    result = await world.alice.slash(world.channel, "imagine", prompt="done fast", seed=1)
    world.finish()
    await world.deliver()
    caption = result.response.content

    await world.env.advance_time(world.adapter.settings.progress_interval_seconds * 3)

    assert result.response.content == caption
    assert result.response.attachments


async def test_mention_status_reply_is_edited_with_the_position(world):
    mention = world.client.user.mention
    await world.mod.send(world.channel, f"{mention} first")
    await world.alice.send(world.channel, f"{mention} second")
    status = world.channel.last_message
    assert "position 2" in status.content

    world.store.claim("test-worker", limit=1)
    await world.env.advance_time(world.adapter.settings.progress_interval_seconds)

    [edited] = [m for m in world.channel.history() if m.id == status.id]
    assert "position 1" in edited.content


async def test_words_the_model_does_not_know_are_refused_or_named_under_the_image(world):
    """Issue 14, with the shapes model's vocabulary: nothing known → an ephemeral refusal that
    names the words and what the model draws; partly known → the caption names what was left out."""
    from generation.understanding import PromptReader

    world.service.reader = PromptReader.for_model("shapes")
    refused = await world.alice.slash(world.channel, "imagine", prompt="sunset over the mountains")
    [followup] = refused.followups
    assert followup.ephemeral
    assert 'does not know "sunset", "mountains"' in followup.content and "a red circle" in followup.content
    assert world.channel.history() == []
    assert [r.status for r in world.requests()] == [Status.REJECTED]

    result = await world.alice.slash(world.channel, "imagine", prompt="a red cube under a rainbow", seed=42)
    world.finish()
    assert await world.deliver() == 2  # the refusal's outbox entry (answered inline) and the image
    lines = result.response.content.split("\n")
    assert lines[0] == "**a red cube under a rainbow**" and lines[1].startswith("seed 42 ·")
    assert lines[2:] == ['🔤 Left out (not in this model\'s vocabulary): "rainbow".']


async def test_while_drawing_the_waiting_message_shows_steps_and_time_left_within_the_edit_interval(world):
    from bot.progress import ProgressBoard

    class Clock:
        now = 0.0

        def __call__(self) -> float:
            return self.now

    clock = Clock()
    world.service.progress = ProgressBoard(clock)  # as a worker in the bot's own process fills it
    result = await world.alice.slash(world.channel, "imagine", prompt="a red cube")
    [claim] = world.store.claim("test-worker", limit=1)
    world.service.progress.begin([claim.request_id], steps=256)
    clock.now = 4.0
    world.service.progress.advance([claim.request_id], 64)
    interval = world.adapter.settings.progress_interval_seconds
    await world.env.advance_time(interval)
    assert result.response.content == "🎨 Drawing — step 64 of 256 (25%), ~12 s left."
    edits = len(calls(world, "PATCH", "/messages/@original"))
    world.service.progress.advance([claim.request_id], 128)
    await world.env.advance_time(interval / 4)  # changed, but too soon: Discord's limits are kept
    assert len(calls(world, "PATCH", "/messages/@original")) == edits
    await world.env.advance_time(interval)
    assert result.response.content.startswith("🎨 Drawing — step 128 of 256 (50%)")
    assert len(world.channel.history()) == 1  # the same message, edited
