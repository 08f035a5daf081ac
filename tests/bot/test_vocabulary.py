"""Issue 14: prompts read against the model's vocabulary before queueing, and how the bot words it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.config import Settings
from bot.domain import Accepted, NewRequest, Platform, Rejected, RejectionReason, Status
from bot.service import BotService
from bot.vocabulary import ignored_note, not_understood, shown_words
from generation.understanding import PromptReader, Understanding
from storage import Store, open_store
from tests.bot.fakes import FakeClock, StandInSafety


@pytest.fixture(scope="module")
def embedded() -> PromptReader:
    """The shapes model's reader (`generation.model: shapes`): its small vocabulary makes the cases plain."""
    return PromptReader.for_model("shapes")


@pytest.fixture
def reading(store: Store, settings: Settings, safety: StandInSafety, embedded) -> Iterator[BotService]:
    """The service with the shapes model's vocabulary, as `dallebot run` builds it."""
    service = BotService(store, settings, safety, reader=embedded)  # type: ignore[arg-type]
    yield service
    service.close()


def web(n: int, prompt: str, user: str = "u1") -> NewRequest:
    return NewRequest(Platform.WEB, f"e{n}", user, prompt)


async def test_nothing_understood_is_refused_not_queued_not_charged(
    reading: BotService, store: Store, settings: Settings
) -> None:
    outcome = await reading.submit(web(1, "a watercolour fox reading a newspaper"))
    assert isinstance(outcome, Rejected) and outcome.reason is RejectionReason.NOT_UNDERSTOOD
    assert '"watercolour", "fox", "reading", "newspaper"' in outcome.message
    assert "circle" in outcome.message and "dallebot models download mini" in outcome.message
    assert store.count_requests(Status.QUEUED) == 0
    recorded = store.find_request(Platform.WEB, "e1")
    assert recorded is not None and recorded.status is Status.REJECTED
    assert recorded.last_error == "not_understood"
    quota = store.quota_status(Platform.WEB, "u1", settings.quotas.policy_for(Platform.WEB))
    assert (quota.used, quota.in_flight) == (0, 0)
    assert reading.metrics.rejections.labels(reason="not_understood")._value.get() == 1


async def test_the_safety_gate_speaks_first(reading: BotService) -> None:
    outcome = await reading.submit(web(1, "a forbidden fox"))
    assert isinstance(outcome, Rejected) and outcome.reason is RejectionReason.UNSAFE_PROMPT


async def test_partly_understood_is_queued_with_its_ignored_words_across_a_restart(
    reading: BotService, store: Store, db_url: str, clock: FakeClock
) -> None:
    outcome = await reading.submit(web(1, "a red circle over the mountains at sunset"))
    assert isinstance(outcome, Accepted) and not outcome.duplicate
    assert store.get_request(outcome.request_id).ignored_words == ("mountains", "sunset")  # type: ignore[union-attr]
    fully = await reading.submit(web(2, "a red circle above a blue square"))
    assert isinstance(fully, Accepted)
    assert store.get_request(fully.request_id).ignored_words == ()  # type: ignore[union-attr]

    reopened = open_store(db_url, clock=clock)  # a new process: the words come back from the database
    try:
        [claim, _] = reopened.claim("w1", limit=2)
        assert claim.request.ignored_words == ("mountains", "sunset")
        assert reopened.complete(claim, image_png=b"\x89PNG", seconds=1.0)
        [delivery] = reopened.pending_deliveries(Platform.WEB)
        assert delivery.request.ignored_words == ("mountains", "sunset")  # what every adapter words
    finally:
        reopened.close()


async def test_a_page_reads_each_request(reading: BotService, store: Store) -> None:
    news = [
        NewRequest(Platform.X, "t1", "u1", "sunset over the mountains"),
        NewRequest(Platform.X, "t2", "u2", "a blue star and a fox"),
    ]
    refused, accepted = await reading.submit_many(news, platform=Platform.X)
    assert isinstance(refused, Rejected) and refused.reason is RejectionReason.NOT_UNDERSTOOD
    assert isinstance(accepted, Accepted)
    assert store.get_request(accepted.request_id).ignored_words == ("fox",)  # type: ignore[union-attr]
    [owed] = store.pending_deliveries(Platform.X)  # the refusal is owed to the X user, in words
    assert owed.kind == "rejection" and '"sunset", "mountains"' in (owed.message or "")


async def test_without_a_reader_nothing_is_read(service: BotService, store: Store) -> None:
    outcome = await service.submit(web(1, "sunset over the mountains"))
    assert isinstance(outcome, Accepted)
    assert store.get_request(outcome.request_id).ignored_words == ()  # type: ignore[union-attr]


def test_words_are_made_safe_to_echo_and_capped() -> None:
    assert shown_words(["@elonmusk", "<b>x</b>", "http://evil.com", "#tag"]) == (
        '"elonmusk", "bxb", "httpevilcom", "tag"'
    )
    assert shown_words(["!!!"]) == "some symbols"
    many = shown_words([f"word{i}" for i in range(11)])
    assert many.endswith('"word7" and 3 more') and "word8" not in many


def test_notes_and_refusals(embedded: PromptReader) -> None:
    assert ignored_note(()) is None
    assert ignored_note(("fox",)) == 'Left out (not in this model\'s vocabulary): "fox".'
    understanding = Understanding(("sunset",), ())
    for_user = not_understood(understanding, embedded.repertoire)
    assert "nothing was counted against your quota" in for_user
    assert 'try "a red circle above a blue square"' in for_user and "the bot's operator" in for_user
    from generation.understanding import things_repertoire

    for_things = not_understood(understanding, things_repertoire())
    assert "everyday things (animals" in for_things and 'try "an apple above a banana"' in for_things
    for_operator = not_understood(understanding, None, operator=True)
    assert "quota" not in for_operator and "operator" not in for_operator
    assert "install a real model: `dallebot models download mini`" in for_operator


# -- storage's refusals, worded here (storage returns codes and numbers) ---------------------------


def test_every_refusal_storage_returns_is_worded_with_its_facts() -> None:
    from datetime import UTC, datetime

    from bot.domain import QuotaPolicy, Refusal
    from bot.vocabulary import refusal

    hourly = QuotaPolicy(images_per_window=3, window_seconds=3600, max_in_flight=2)
    at = datetime(2026, 1, 1, 14, 5, tzinfo=UTC)
    cases = {
        Refusal(RejectionReason.BANNED, ban_reason="spam"): "You are not allowed to use this bot (spam).",
        Refusal(RejectionReason.BANNED): "You are not allowed to use this bot.",
        Refusal(RejectionReason.QUEUE_FULL): (
            "The queue is full right now, so this request was not taken. Please try again in a few minutes."
        ),
        Refusal(RejectionReason.TOO_MANY_IN_FLIGHT, in_flight=2, policy=hourly): (
            "You already have 2 request(s) waiting or running; send the next one when one of them is done."
        ),
        Refusal(RejectionReason.QUOTA_EXCEEDED, retry_after=at, used=3, policy=hourly): (
            "You have used 3 of your 3 images for this hour. Try again after 14:05 UTC."
        ),
        Refusal(RejectionReason.QUOTA_EXCEEDED, used=1, policy=QuotaPolicy(1, 2 * 86400)): (
            "You have used 1 of your 1 images for this 2 days."
        ),
    }
    for refused, words in cases.items():
        rejected = refusal(refused)
        assert (rejected.reason, rejected.message, rejected.retry_after) == (
            refused.reason,
            words,
            refused.retry_after,
        )
    with pytest.raises(ValueError, match="unsafe_prompt"):
        refusal(Refusal(RejectionReason.UNSAFE_PROMPT))  # the bot's own reasons are not storage's
