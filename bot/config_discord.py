"""The `discord:` section of config.yaml: read by bot.config, used by the Discord adapter.

The bot token is never here: it comes from env DISCORD_TOKEN.

Option limits for `/imagine` (images, cond_scale, temperature, prompt length) are not repeated here:
the slash command takes them from `generation.limits`, the same limits `submit` enforces.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class DiscordSettings(BaseModel):
    """Discord adapter settings; the defaults run with no secrets (adapter disabled)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(False, description="start the Discord adapter (also needs env DISCORD_TOKEN)")
    dev_guild_id: int | None = Field(
        None,
        description="sync slash commands to this guild only (instant); unset: sync globally (up to an hour)",
    )
    respond_to_mentions: bool = Field(True, description="treat '@bot <prompt>' messages like /imagine")
    require_channel_enabled: bool = Field(
        False,
        description="if true, the bot answers only in channels a moderator enabled with /mod channel",
    )
    progress_interval_seconds: float = Field(
        15.0, ge=2.0, description="least time between two edits of a waiting request's queue message"
    )
    daily_channel_id: int | None = Field(
        None,
        description="channel the daily prompt's image is posted to; unset: Discord gets no daily image",
    )
