"""What a stranger's prompt can do on Discord: nothing. And every interaction is answered first.

Rendered text is asserted exactly: masked links, headings, lists and URLs come back escaped (a
backslash before punctuation shows as nothing) and URLs as inline code, which Discord neither
links nor unfurls.
"""

from __future__ import annotations

import pytest

from bot.adapters.discord import text
from bot.assembly import plan_adapters
from bot.config import parse_settings
from bot.domain import Platform

HOSTILE = "[free nitro](https://evil.example/x) # big - see https://spam.example"
INERT = r"\[free nitro\]\(`https://evil.example/x)` \# big - see `https://spam.example`"


@pytest.mark.parametrize(
    ("prompt", "rendered"),
    [
        (HOSTILE, INERT),
        ("# heading", r"\# heading"),
        ("-# subtext", r"-\# subtext"),
        ("- a list item", r"\- a list item"),
        ("1. first", r"1\. first"),
        ("> quoted", r"\> quoted"),
        ("see www.example.org", "see `www.example.org`"),
        ("a <t:0:R> <#123> <@&55> <@!9>", r"a \<t:0:R\> \<\#123\> @55 @9"),
        ("code `https://x.example/`a`", r"code \``https://x.example/ˋaˋ`"),
        ("line one\n# line two", r"line one \# line two"),
    ],
)
def test_quote_makes_user_text_inert(prompt: str, rendered: str) -> None:
    assert text.quote(prompt) == rendered


async def test_masked_links_and_urls_are_inert_in_the_caption(world):
    result = await world.alice.slash(world.channel, "imagine", prompt=HOSTILE, seed=1)
    world.finish()
    await world.deliver()
    assert result.response.content.splitlines()[0] == f"**{INERT}**"


async def test_masked_links_are_inert_in_a_failure_post(world):
    result = await world.alice.slash(world.channel, "imagine", prompt=HOSTILE)
    world.fail_all("generation failed: [x](https://evil.example/)")
    await world.deliver()
    assert result.response.content == (
        f"<@{world.alice.id}> ❌ Sorry — request #1 (**{INERT}**) failed: "
        r"generation failed: \[x\]\(`https://evil.example/)`"
    )


async def test_masked_links_are_inert_in_a_channel_post_after_the_token_expired(world):
    await world.alice.slash(world.channel, "imagine", prompt=HOSTILE, seed=1)
    await world.env.advance_time(16 * 60)
    world.finish()
    await world.deliver()
    assert world.channel.last_message.content.splitlines()[0] == f"<@{world.alice.id}> **{INERT}**"


async def test_masked_links_are_inert_in_a_dm(world):
    await world.alice.send(world.channel, f"{world.client.user.mention} {HOSTILE}")
    await world.restart_unable_to_read_back()
    world.finish()
    world.env.inject_error("POST", f"/channels/{world.channel.id}/messages", status=403, code=50013)
    await world.deliver()
    dm = world.alice.user.dm_channel.last_message
    assert dm.content.splitlines()[0] == f"<@{world.alice.id}> **{INERT}**"


def _acknowledged_before(world, calls: list[int]):
    """A storage read that notes how many interaction callbacks Discord had got by then."""

    def note(original):
        async def wrapped(*args, **kwargs):
            calls.append(
                sum(1 for e in world.env.http_requests if e.method == "POST" and "/callback" in e.path)
            )
            return await original(*args, **kwargs)

        return wrapped

    return note


@pytest.mark.parametrize(
    ("who", "command", "options", "method"),
    [
        ("alice", "quota", {}, "quota_status"),
        ("alice", "queue", {}, "queue_stats"),
        ("mod", "mod ban", {"user": "alice"}, "ban"),
        ("mod", "mod reset-quota", {"user": "alice"}, "reset_quota"),
    ],
)
async def test_every_command_is_acknowledged_before_any_storage_call(world, who, command, options, method):
    calls: list[int] = []
    service = world.service
    setattr(service, method, _acknowledged_before(world, calls)(getattr(service, method)))
    member = getattr(world, who)
    options = {name: getattr(world, value) for name, value in options.items()}
    before = sum(1 for e in world.env.http_requests if e.method == "POST" and "/callback" in e.path)

    result = await member.slash(world.channel, command, **options)

    assert calls == [before + 1]  # the deferral reached Discord first
    assert result.ephemeral and result.response.content


def test_a_prompt_limit_above_discords_option_maximum_is_named_at_start() -> None:
    settings = parse_settings(
        {"discord": {"enabled": True}, "generation": {"limits": {"max_prompt_chars": 8000}}}
    )
    plan = plan_adapters(settings, {"DISCORD_TOKEN": "t"})
    assert Platform.DISCORD not in plan.adapters
    assert plan.errors == [
        "discord: generation.limits.max_prompt_chars: 8000 is above Discord's maximum for a slash command "
        "option (6000); lower it, or turn discord off"
    ]
    ok = parse_settings({"discord": {"enabled": True}, "generation": {"limits": {"max_prompt_chars": 6000}}})
    assert Platform.DISCORD in plan_adapters(ok, {"DISCORD_TOKEN": "t"}).adapters


def test_check_config_names_the_key_and_discords_limit(tmp_path, capsys, monkeypatch) -> None:
    from bot.cli import main

    monkeypatch.setenv("DISCORD_TOKEN", "t")
    config = tmp_path / "config.yaml"
    limits = "  limits:\n    max_prompt_chars: 9000\n"
    config.write_text(f"generation:\n  model: {tmp_path}\n{limits}discord:\n  enabled: true\n")
    assert main(["check-config", "--config", str(config)]) == 1
    assert "generation.limits.max_prompt_chars: 9000 is above Discord's maximum" in capsys.readouterr().err


async def test_the_reroll_button_is_acknowledged_before_it_reads_storage(world):
    from tests.bot.adapters.discord.test_buttons_and_moderation import delivered_image

    image = await delivered_image(world)
    calls: list[int] = []
    world.service.find_request = _acknowledged_before(world, calls)(world.service.find_request)
    before = sum(1 for e in world.env.http_requests if e.method == "POST" and "/callback" in e.path)

    clicked = await world.alice.click(image, label="Re-roll")

    assert calls == [before + 1]
    assert clicked.response.content.startswith("⏳ Queued")


async def test_a_reroll_whose_original_is_gone_is_answered_privately(world):
    from tests.bot.adapters.discord.test_buttons_and_moderation import delivered_image

    image = await delivered_image(world)

    async def gone(*args, **kwargs):
        return None

    world.service.find_request = gone
    clicked = await world.alice.click(image, label="Re-roll")

    [followup] = clicked.followups
    assert followup.ephemeral and followup.content.startswith("I can't find the request behind this image")
    assert clicked.response is None  # the public "thinking" message is gone
    assert len(world.requests()) == 1
