"""Building the adapter from config and env, and syncing the slash commands at start."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.adapters.base import MissingSecret
from bot.adapters.discord import build_adapter
from bot.adapters.discord.adapter import DiscordAdapter
from bot.config import Settings
from tests.bot.adapters.discord.conftest import make_settings


def test_disabled_by_default_and_without_secrets():
    assert build_adapter(Settings(), {}) is None
    assert build_adapter(Settings(), {"DISCORD_TOKEN": "abc"}) is None  # enabled: false wins


def test_enabled_without_token_names_the_variable():
    with pytest.raises(MissingSecret, match="DISCORD_TOKEN"):
        build_adapter(make_settings(), {"DISCORD_TOKEN": "  "})


def test_enabled_with_token_builds_without_connecting_and_never_shows_the_token():
    adapter = build_adapter(make_settings(), {"DISCORD_TOKEN": "secret-token-value"})
    assert isinstance(adapter, DiscordAdapter)
    assert adapter.client is None  # nothing connects before start()
    assert "secret-token-value" not in adapter.describe() + repr(vars(adapter.settings))


def test_unknown_key_in_the_discord_section_is_refused():
    with pytest.raises(ValidationError, match="enabeld"):
        Settings.model_validate({"discord": {"enabeld": True}})


async def test_commands_are_synced_globally_with_ranges_from_generation_limits(world):
    puts = [e for e in world.env.http_requests if e.method == "PUT" and e.path.endswith("/commands")]
    assert [e.path.count("/guilds/") for e in puts] == [0]
    [imagine] = [c for c in puts[0].json if c["name"] == "imagine"]
    options = {o["name"]: o for o in imagine["options"]}
    assert options["images"]["max_value"] == 4  # generation.limits.max_images in make_settings
    assert options["prompt"]["max_length"] == 100
    assert {c["name"] for c in puts[0].json} == {"imagine", "quota", "queue", "mod"}


async def test_dev_guild_gets_the_commands_at_once(world, service):
    settings = make_settings(dev_guild_id=world.guild.id)
    adapter = DiscordAdapter(settings.discord, settings.generation.limits, "unused")

    await world.env.restart_bot(adapter.build_client(service))

    puts = [e for e in world.env.http_requests if e.method == "PUT" and e.path.endswith("/commands")]
    assert puts[-1].path.endswith(f"/guilds/{world.guild.id}/commands")
    assert "imagine" in world.alice.available_commands(world.channel)
