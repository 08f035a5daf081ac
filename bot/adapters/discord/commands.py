"""Slash commands: `/imagine`, `/quota`, `/queue` and the moderators' `/mod` group.

Commands are built by functions rather than at module level because their option ranges come
from config (`generation.limits`). This module deliberately has no `from __future__ import
annotations`: discord.py reads the parameter annotations, and the `Range[...]` bounds here are
values from the closure, not names it could resolve later.
"""

import logging
from typing import TYPE_CHECKING, Protocol

import discord
from discord import app_commands

from bot.adapters.discord import text
from bot.domain import Options, Platform

if TYPE_CHECKING:
    from bot.adapters.discord.running import RunningClient

log = logging.getLogger(__name__)

MAX_SEED = 2**32 - 1
# Discord shows a command by default only to members holding *every* permission listed here, so it
# names one; the runtime check below also accepts Timeout Members (a server can re-grant either way).
MODERATOR_PERMISSIONS = discord.Permissions(manage_messages=True)


class Limits(Protocol):
    """The part of `bot.config.GenerationLimits` the options need."""

    max_prompt_chars: int
    max_images: int
    min_temperature: float
    max_temperature: float
    min_cond_scale: float
    max_cond_scale: float


def imagine_command(limits: Limits) -> app_commands.Command:
    """`/imagine prompt [seed] [images] [cond_scale] [temperature]`, bounded by config."""

    @app_commands.command(name="imagine", description="Generate an image from a text prompt")
    @app_commands.describe(
        prompt="What the picture should show",
        seed="Same seed + same prompt = same picture (leave empty for a random one)",
        images=f"How many images, delivered as one grid (1–{limits.max_images})",
        cond_scale="How closely to follow the prompt (higher = closer)",
        temperature="Randomness of the sampling (higher = wilder)",
    )
    async def imagine(
        interaction: discord.Interaction,
        prompt: app_commands.Range[str, 1, limits.max_prompt_chars],
        seed: app_commands.Range[int, 0, MAX_SEED] | None = None,
        images: app_commands.Range[int, 1, limits.max_images] = 1,
        cond_scale: app_commands.Range[float, limits.min_cond_scale, limits.max_cond_scale] | None = None,
        temperature: app_commands.Range[float, limits.min_temperature, limits.max_temperature] | None = None,
    ) -> None:
        options = Options(seed=seed, images=images, cond_scale=cond_scale, temperature=temperature)
        client: RunningClient = interaction.client  # type: ignore[assignment]
        await client.ingest.imagine(interaction, prompt, options)

    return imagine


@app_commands.command(name="quota", description="How many images you have left, and when they refill")
async def quota_command(interaction: discord.Interaction) -> None:
    client: RunningClient = interaction.client  # type: ignore[assignment]
    await interaction.response.defer(ephemeral=True, thinking=True)  # within 3 s, whatever storage does
    status = await client.service.quota_status(Platform.DISCORD, str(interaction.user.id))
    await interaction.followup.send(text.quota(status, discord.utils.utcnow()), ephemeral=True)


@app_commands.command(name="queue", description="How busy the bot is, and where your requests stand")
async def queue_command(interaction: discord.Interaction) -> None:
    client: RunningClient = interaction.client  # type: ignore[assignment]
    await interaction.response.defer(ephemeral=True, thinking=True)
    stats = await client.service.queue_stats()
    lines = [text.queue(stats, None)]
    for waiting in client.tracker.for_user(interaction.user.id):
        view = await client.service.view(waiting.request_id) if waiting.request_id else None
        if view is not None and view.position > 0:
            status = text.queued(position=view.position, eta=view.eta_seconds)
            lines.append(f"Your request #{view.request.id}: {status}")
    await interaction.followup.send("\n".join(lines), ephemeral=True)


def _is_moderator(interaction: discord.Interaction) -> bool:
    """Runtime check behind `default_permissions`: a server can re-grant commands to anyone."""
    permissions = interaction.permissions
    return permissions.manage_messages or permissions.moderate_members or permissions.administrator


class ModGroup(app_commands.Group):
    """`/mod …`: hidden from members without Manage Messages / Timeout Members, and re-checked at run time."""

    def __init__(self) -> None:
        super().__init__(
            name="mod",
            description="Moderator tools for the image bot",
            default_permissions=MODERATOR_PERMISSIONS,
            guild_only=True,
        )

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        """Answered at once either way: a refusal, or a deferral before any storage call."""
        if _is_moderator(interaction):
            await interaction.response.defer(ephemeral=True, thinking=True)
            return True
        await interaction.response.send_message(
            "Only moderators (Manage Messages or Timeout Members) can use /mod.", ephemeral=True
        )
        return False

    @app_commands.command(name="ban", description="Stop a user from using the image bot")
    @app_commands.describe(user="Who to ban", reason="Why (kept in the bot's records)")
    async def ban(self, interaction: discord.Interaction, user: discord.User, reason: str = "") -> None:
        client: RunningClient = interaction.client  # type: ignore[assignment]
        await client.service.ban(Platform.DISCORD, str(user.id), reason=reason or f"by {interaction.user.id}")
        await interaction.followup.send(f"{user.mention} can no longer use the bot.", ephemeral=True)

    @app_commands.command(name="unban", description="Let a banned user use the image bot again")
    async def unban(self, interaction: discord.Interaction, user: discord.User) -> None:
        client: RunningClient = interaction.client  # type: ignore[assignment]
        await client.service.unban(Platform.DISCORD, str(user.id))
        await interaction.followup.send(f"{user.mention} can use the bot again.", ephemeral=True)

    @app_commands.command(name="reset-quota", description="Give a user their full image quota back")
    async def reset_quota(self, interaction: discord.Interaction, user: discord.User) -> None:
        client: RunningClient = interaction.client  # type: ignore[assignment]
        await client.service.reset_quota(Platform.DISCORD, str(user.id))
        await interaction.followup.send(f"{user.mention}'s quota is reset.", ephemeral=True)

    @app_commands.command(
        name="channel", description="Turn the bot on or off here, and whether flagged images may be shown"
    )
    @app_commands.describe(
        enabled="Answer requests in this channel",
        nsfw_images="Post images the safety filter flags, behind a spoiler (only in channels marked NSFW)",
    )
    async def channel(
        self, interaction: discord.Interaction, enabled: bool | None = None, nsfw_images: bool | None = None
    ) -> None:
        client: RunningClient = interaction.client  # type: ignore[assignment]
        channel_id = interaction.channel_id
        assert channel_id is not None  # guild_only: always in a channel
        changes = {k: v for k, v in (("enabled", enabled), ("nsfw_images", nsfw_images)) if v is not None}
        note = ""
        if nsfw_images and not _channel_is_nsfw(interaction.channel):
            note = (
                "\n⚠️ This channel isn't marked age-restricted (NSFW) in Discord, so flagged images stay "
                "blocked here until it is."
            )
        settings = (
            await client.channels.update(channel_id, **changes)
            if changes
            else await client.channels.get(channel_id)
        )
        on = settings.enabled if settings.enabled is not None else not client.require_channel_enabled
        await interaction.followup.send(
            f"In <#{channel_id}>: bot {'on' if on else 'off'}, flagged images "
            f"{'spoilered' if settings.nsfw_images else 'blocked'}.{note}",
            ephemeral=True,
        )


def _channel_is_nsfw(channel: object) -> bool:
    is_nsfw = getattr(channel, "is_nsfw", None)
    return bool(is_nsfw()) if callable(is_nsfw) else False


def all_commands(limits: Limits) -> list[app_commands.Command | app_commands.Group]:
    return [imagine_command(limits), quota_command, queue_command, ModGroup()]
