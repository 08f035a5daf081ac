"""Buttons under each image that keep working after a restart.

Each button is a `DynamicItem`: its state lives in its `custom_id` (re-roll: the request's external id;
delete: the requester's user id), so a freshly started client parses it back from any old message.
Nothing about the view is kept in memory between clicks.
"""

from __future__ import annotations

import contextlib
import re
from typing import TYPE_CHECKING, Any, cast

import discord

if TYPE_CHECKING:
    from bot.adapters.discord.running import RunningClient

REROLL_PREFIX = "dallebot:reroll:"
DELETE_PREFIX = "dallebot:delete:"


class RerollButton(
    discord.ui.DynamicItem[discord.ui.Button], template=r"dallebot:reroll:(?P<external_id>[\w:.-]{1,80})"
):
    """Same prompt and options, new seed; charged to whoever clicks."""

    def __init__(self, external_id: str) -> None:
        super().__init__(
            discord.ui.Button(
                label="Re-roll",
                emoji="🎲",
                style=discord.ButtonStyle.primary,
                custom_id=f"{REROLL_PREFIX}{external_id}",
            )
        )
        self.external_id = external_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> RerollButton:
        return cls(match["external_id"])

    async def callback(self, interaction: discord.Interaction) -> None:
        client = cast("RunningClient", interaction.client)
        await client.ingest.reroll(interaction, self.external_id)


class DeleteButton(
    discord.ui.DynamicItem[discord.ui.Button], template=r"dallebot:delete:(?P<user_id>\d{1,20})"
):
    """Deletes the image message; only the requester or someone who may manage messages there."""

    def __init__(self, user_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Delete",
                emoji="🗑️",
                style=discord.ButtonStyle.secondary,
                custom_id=f"{DELETE_PREFIX}{user_id}",
            )
        )
        self.user_id = user_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> DeleteButton:
        return cls(int(match["user_id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        allowed = interaction.user.id == self.user_id or interaction.permissions.manage_messages
        if not allowed:
            await interaction.response.send_message(
                "Only the person who asked for this image or a moderator can delete it.", ephemeral=True
            )
            return
        await interaction.response.defer()
        if interaction.message is not None:
            with contextlib.suppress(discord.NotFound):  # already gone: that is what was asked
                await interaction.message.delete()


def result_view(external_id: str, user_id: str | int | None) -> discord.ui.View:
    """The re-roll and delete buttons for one delivered image (timeout=None: never expires); an image
    nobody asked for (user_id None: the daily prompt) gets only re-roll, moderators delete it as any."""
    view = discord.ui.View(timeout=None)
    view.add_item(RerollButton(external_id))
    if user_id is not None:
        view.add_item(DeleteButton(int(user_id)))
    return view
