"""The wording helpers: escaping what users typed, ETAs, and retry times in the reader's timezone."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.adapters.discord import text
from bot.adapters.discord.ingest import prompt_from_mention
from bot.domain import Options, Platform, Rejected, RejectionReason, Request, Status

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def request(prompt: str = "a cat", **options) -> Request:
    return Request(
        id=7, platform=Platform.DISCORD, external_id="1", user_id="42", user_name="alice", prompt=prompt,
        options=Options(**options), reply_to={}, status=Status.DONE, attempts=1,
        created_at=NOW, updated_at=NOW,
    )  # fmt: skip


def test_prompt_echo_cannot_ping_or_format():
    quoted = text.quote("<@123> @everyone @here **bold** `code`")
    assert "<@123>" not in quoted and "@everyone" not in quoted and "@here" not in quoted
    assert quoted.endswith(r"\*\*bold\*\* \`code\`")


def test_long_prompt_is_cut_with_an_ellipsis():
    assert text.quote("x" * 500, limit=10) == "x" * 9 + "…"


def test_caption_names_seed_grid_time_and_request():
    caption = text.caption(request(seed=5, images=4), seconds=12.34, mention=True)
    assert caption == "<@42> **a cat**\nseed 5 · 4 images · took 12.3 s · request #7"


def test_eta_wording():
    assert text.format_eta(None) == "unknown"
    assert text.format_eta(0.2) == "~1 s"
    assert text.format_eta(42) == "~42 s"
    assert text.format_eta(600) == "~10 min"


def test_queued_wording():
    assert text.queued(position=1, eta=5) == "⏳ Queued — position 1 (you're next), ETA ~5 s."
    assert text.queued(position=3, eta=None) == "⏳ Queued — position 3 (2 ahead of you), ETA unknown."
    assert text.queued(position=0) == "🎨 Generating your image now…"


def test_rejection_gives_a_relative_retry_time():
    retry = datetime(2026, 1, 1, 1, tzinfo=UTC)
    plain = text.rejection(Rejected(RejectionReason.QUEUE_FULL, "The queue is full.", retry))
    assert plain == f"❌ The queue is full.\nYou can try again <t:{int(retry.timestamp())}:R>."
    worded = text.rejection(Rejected(RejectionReason.QUOTA_EXCEEDED, "Try again after 01:00 UTC.", retry))
    assert worded.endswith(f"Try again after 01:00 UTC. (<t:{int(retry.timestamp())}:R>)")


def test_prompt_from_mention_strips_every_mention():
    assert prompt_from_mention("<@1> a red <@!2> fox ") == "a red fox"
    assert prompt_from_mention("<@1>") == ""
