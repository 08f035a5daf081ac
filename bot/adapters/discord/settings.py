"""The `discord:` section of config.yaml. The bot token is never here: it comes from env DISCORD_TOKEN."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class OptionLimits(BaseModel):
    """Bounds for `/imagine` options; Discord enforces them in the client before a request is sent."""

    model_config = ConfigDict(extra="forbid")

    max_images: int = Field(9, ge=1, le=9, description="largest grid a user may ask for (1–9)")
    min_cond_scale: float = Field(1.0, ge=0.0)
    max_cond_scale: float = Field(20.0, gt=0.0)
    min_temperature: float = Field(0.1, gt=0.0)
    max_temperature: float = Field(2.0, gt=0.0)

    @model_validator(mode="after")
    def _ordered(self) -> OptionLimits:
        if self.min_cond_scale > self.max_cond_scale:
            raise ValueError("discord.limits: min_cond_scale must not exceed max_cond_scale")
        if self.min_temperature > self.max_temperature:
            raise ValueError("discord.limits: min_temperature must not exceed max_temperature")
        return self


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
        description="if true, the bot answers only in channels a moderator enabled with /channel",
    )
    progress_interval_seconds: float = Field(
        15.0, ge=2.0, description="how often a waiting request's queue-position message is edited"
    )
    limits: OptionLimits = Field(default_factory=OptionLimits)
