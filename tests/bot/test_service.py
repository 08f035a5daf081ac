"""`submit` against a real SQLite store: idempotency and the bad-input rows of reliability.md."""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from bot.config import Settings
from bot.domain import Accepted, NewRequest, Options, Platform, Rejected, RejectionReason, Status
from bot.service import BotService
from storage import Store, open_store
from tests.bot.fakes import FakeClock, StandInSafety


def web(n: int | str, prompt: str = "a red fox", *, user: str = "u1", **options: object) -> NewRequest:
    return NewRequest(Platform.WEB, f"e{n}", user, prompt, options=Options(**options))  # type: ignore[arg-type]


async def test_accepted_request_is_queued_with_position(service: BotService, store: Store) -> None:
    first = await service.submit(web(1))
    second = await service.submit(web(2))
    assert isinstance(first, Accepted) and isinstance(second, Accepted)
    assert (first.position, second.position) == (1, 2)
    stored = store.get_request(first.request_id)
    assert stored is not None and stored.status is Status.QUEUED and stored.prompt == "a red fox"


async def test_prompt_is_stored_normalised(service: BotService, store: Store) -> None:
    outcome = await service.submit(web(1, "  a\u200b  red\n fox "))
    assert isinstance(outcome, Accepted)
    assert store.get_request(outcome.request_id).prompt == "a red fox"  # type: ignore[union-attr]


async def test_same_platform_id_twice_is_one_request(service: BotService, store: Store) -> None:
    first = await service.submit(web(1))
    again = await service.submit(web(1, "a different prompt"))
    assert isinstance(first, Accepted) and isinstance(again, Accepted)
    assert again.duplicate and again.request_id == first.request_id
    assert store.count_requests() == 1
    assert service.metrics.submitted.labels(platform="web")._value.get() == 1


@pytest.mark.parametrize(
    ("new", "reason"),
    [
        (web(1, ""), RejectionReason.EMPTY_PROMPT),
        (web(1, " \t\n "), RejectionReason.EMPTY_PROMPT),
        (web(1, "\u200b\u200d\u2060"), RejectionReason.EMPTY_PROMPT),
        (web(1, "a fox\x07"), RejectionReason.INVALID_CHARACTERS),
        (web(1, "x" * 301), RejectionReason.PROMPT_TOO_LONG),
        (web(1, "a forbidden thing"), RejectionReason.UNSAFE_PROMPT),
        (web(1, "for\u200bbidden"), RejectionReason.UNSAFE_PROMPT),  # invisible split does not dodge it
        (web(1, images=99), RejectionReason.BAD_OPTION),
        (web(1, temperature=float("nan")), RejectionReason.BAD_OPTION),
    ],
)
async def test_bad_input_is_rejected_recorded_and_never_queued(
    service: BotService, store: Store, new: NewRequest, reason: RejectionReason
) -> None:
    outcome = await service.submit(new)
    assert isinstance(outcome, Rejected)
    assert outcome.reason is reason and outcome.message
    recorded = store.find_request(Platform.WEB, new.external_id)
    assert recorded is not None and recorded.status is Status.REJECTED
    assert store.count_requests(Status.QUEUED) == 0
    assert service.metrics.rejections.labels(reason=reason.value)._value.get() == 1
    # the same event again gets the same answer and adds nothing
    again = await service.submit(new)
    assert isinstance(again, Rejected) and again.reason is reason
    assert store.count_requests() == 1


async def test_refused_prompt_records_the_gate_decision_once(service: BotService, store: Store) -> None:
    """Issue 5: a refusal is audited with its gate, score and threshold; a redelivery adds nothing."""
    outcome = await service.submit(web(1, "a forbidden thing"))
    assert isinstance(outcome, Rejected) and outcome.reason is RejectionReason.UNSAFE_PROMPT
    recorded = store.find_request(Platform.WEB, "e1")
    assert recorded is not None
    expected = {"gate": "prompt", "score": 1.0, "threshold": 0.5, "flagged": True, "action": "refuse"}
    decisions = [{k: d[k] for k in expected} for d in store.safety_decisions(recorded.id)]
    assert decisions == [expected]

    again = await service.submit(web(1, "a forbidden thing"))
    assert isinstance(again, Rejected) and again.reason is RejectionReason.UNSAFE_PROMPT
    assert len(store.safety_decisions(recorded.id)) == 1


async def test_refusal_in_a_page_is_audited(service: BotService, store: Store) -> None:
    page = [replace(web(1, "forbidden"), platform=Platform.X)]
    await service.submit_many(page, platform=Platform.X)
    await service.submit_many(page, platform=Platform.X)  # the page read again after a crash
    recorded = store.find_request(Platform.X, "e1")
    assert recorded is not None
    assert [d["action"] for d in store.safety_decisions(recorded.id)] == ["refuse"]


async def test_passed_prompt_records_the_gate_decision_with_the_request_once(
    service: BotService, store: Store
) -> None:
    """Issue 5: every decision is recorded, passes too; a redelivered id adds nothing."""
    outcome = await service.submit(web(1, "a red fox"))
    assert isinstance(outcome, Accepted)
    expected = {"gate": "prompt", "score": 0.0, "threshold": 0.5, "flagged": False, "action": "allow"}
    decisions = [{k: d[k] for k in expected} for d in store.safety_decisions(outcome.request_id)]
    assert decisions == [expected]

    again = await service.submit(web(1, "a red fox"))
    assert isinstance(again, Accepted) and again.duplicate
    assert len(store.safety_decisions(outcome.request_id)) == 1


async def test_a_pass_is_recorded_even_when_storage_then_rejects(service: BotService, store: Store) -> None:
    store.ban(Platform.WEB, "troll", "spam")
    outcome = await service.submit(web(1, user="troll"))
    assert isinstance(outcome, Rejected) and outcome.reason is RejectionReason.BANNED
    recorded = store.find_request(Platform.WEB, "e1")
    assert recorded is not None
    assert [(d["gate"], d["action"]) for d in store.safety_decisions(recorded.id)] == [("prompt", "allow")]


async def test_passes_in_a_page_are_audited(service: BotService, store: Store) -> None:
    page = [replace(web(n, prompt), platform=Platform.X) for n, prompt in ((1, "a fox"), (2, "forbidden"))]
    await service.submit_many(page, platform=Platform.X)
    actions = {}
    for n in (1, 2):
        recorded = store.find_request(Platform.X, f"e{n}")
        assert recorded is not None
        actions[n] = [d["action"] for d in store.safety_decisions(recorded.id)]
    assert actions == {1: ["allow"], 2: ["refuse"]}


async def test_invalid_prompt_records_no_gate_decision(service: BotService, store: Store) -> None:
    await service.submit(web(1, ""))
    recorded = store.find_request(Platform.WEB, "e1")
    assert recorded is not None and store.safety_decisions(recorded.id) == []


async def test_rejection_record_is_sanitised(service: BotService, store: Store) -> None:
    await service.submit(web(1, "bad\x00" + "y" * 5000, temperature=float("nan")))
    recorded = store.find_request(Platform.WEB, "e1")
    assert recorded is not None
    assert "\x00" not in recorded.prompt and len(recorded.prompt) <= 301
    assert recorded.options == Options()


async def test_banned_user_is_rejected(service: BotService, store: Store) -> None:
    store.ban(Platform.WEB, "troll", "spam")
    outcome = await service.submit(web(1, user="troll"))
    assert isinstance(outcome, Rejected) and outcome.reason is RejectionReason.BANNED
    assert store.count_requests(Status.QUEUED) == 0


async def test_quota_holds_across_a_restart(
    db_url: str, clock: FakeClock, settings: Settings, safety: StandInSafety
) -> None:
    """Row 13: rapid requests with a restart in between — exactly N accepted, the rest told when."""
    settings = settings.model_copy(
        update={"quotas": settings.quotas.model_copy(update={"images_per_window": 3, "max_in_flight": 10})}
    )
    outcomes = []
    for run in range(2):  # two processes' lifetimes over the same file
        store = open_store(db_url, clock=clock)
        service = BotService(store, settings, safety)  # type: ignore[arg-type]
        for n in range(3):
            outcomes.append(await service.submit(web(f"{run}-{n}")))
            clock.advance(1)
        service.close()
        store.close()
    accepted = [o for o in outcomes if isinstance(o, Accepted)]
    rejected = [o for o in outcomes if isinstance(o, Rejected)]
    assert len(accepted) == 3
    assert [r.reason for r in rejected] == [RejectionReason.QUOTA_EXCEEDED] * 3
    assert all(r.retry_after is not None and r.retry_after > clock() for r in rejected)


async def test_queue_full_is_immediate(service: BotService, store: Store, settings: Settings) -> None:
    """Row 14: at the global cap, more requests get 'queue full' at once."""
    service.settings = settings.model_copy(update={"queue": settings.queue.model_copy(update={"cap": 2})})
    outcomes = [await service.submit(web(n, user=f"u{n}")) for n in range(4)]
    assert [type(o).__name__ for o in outcomes] == ["Accepted", "Accepted", "Rejected", "Rejected"]
    assert outcomes[2].reason is RejectionReason.QUEUE_FULL  # type: ignore[union-attr]
    assert store.count_requests(Status.QUEUED) == 2


async def test_read_only_database_is_a_clear_rejection_with_no_partial_rows(
    tmp_path: Path,
    service: BotService,
    store: Store,
    settings: Settings,
    safety: StandInSafety,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Row 20: storage cannot write → the user gets 'unavailable', the log says why, nothing is written."""
    assert isinstance(await service.submit(web(1)), Accepted)
    path = tmp_path / "bot.db"
    read_only = open_store(f"sqlite:///file:{path}?mode=ro&uri=true", upgrade=False)
    ro_service = BotService(read_only, settings, safety)  # type: ignore[arg-type]
    try:
        outcome = await ro_service.submit(web(2))
        bad = await ro_service.submit(web(3, ""))  # a rejection that cannot be recorded either
    finally:
        ro_service.close()
        read_only.close()
    assert isinstance(outcome, Rejected) and outcome.reason is RejectionReason.UNAVAILABLE
    assert "try again" in outcome.message.lower()
    assert isinstance(bad, Rejected) and bad.reason is RejectionReason.UNAVAILABLE
    assert "read-only" in caplog.text
    assert store.count_requests() == 1


async def test_locked_database_is_unavailable_not_a_crash(
    tmp_path: Path, store: Store, settings: Settings, safety: StandInSafety
) -> None:
    """Another process holds the write lock past the busy timeout: rejected, then fine after release."""
    impatient = open_store(f"sqlite:///{tmp_path / 'bot.db'}", busy_timeout=0.05)
    service = BotService(impatient, settings, safety)  # type: ignore[arg-type]
    holder = sqlite3.connect(tmp_path / "bot.db", isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        outcome = await service.submit(web(1))
        assert isinstance(outcome, Rejected) and outcome.reason is RejectionReason.UNAVAILABLE
        holder.execute("ROLLBACK")
        assert isinstance(await service.submit(web(1)), Accepted)
    finally:
        holder.close()
        service.close()
        impatient.close()


async def test_submit_many_stores_the_cursor_with_the_page(service: BotService, store: Store) -> None:
    page = [
        replace(web(1), platform=Platform.X),
        replace(web(2, ""), platform=Platform.X),
        replace(web(3, "forbidden"), platform=Platform.X),
    ]
    outcomes = await service.submit_many(page, platform=Platform.X, cursor=("since_id", "300"))
    assert [type(o).__name__ for o in outcomes] == ["Accepted", "Rejected", "Rejected"]
    assert store.get_cursor(Platform.X, "since_id") == "300"
    # the page read again after a crash: nothing new, the same answers
    again = await service.submit_many(page, platform=Platform.X, cursor=("since_id", "300"))
    assert isinstance(again[0], Accepted) and again[0].duplicate
    assert store.count_requests() == 3


async def test_submit_many_stores_the_cursor_of_an_empty_page(service: BotService, store: Store) -> None:
    """Every mention ignored (or a first start skipping the backlog): the read position still moves."""
    outcomes = await service.submit_many([], platform=Platform.X, cursor=("since_id", "300"))
    assert outcomes == []
    assert store.get_cursor(Platform.X, "since_id") == "300"
    assert store.count_requests() == 0


async def test_trusted_submit_skips_the_quota(service: BotService, settings: Settings) -> None:
    service.settings = settings.model_copy(
        update={"quotas": settings.quotas.model_copy(update={"images_per_window": 0})}
    )
    assert isinstance(await service.submit(web(1)), Rejected)
    assert isinstance(await service.submit(web(2), trusted=True), Accepted)


async def test_the_gate_is_told_the_platform_and_an_nsfw_channel(
    service: BotService, safety: StandInSafety
) -> None:
    discord = NewRequest(Platform.DISCORD, "d1", "u1", "a red fox", reply_to={"channel": "7", "nsfw": "true"})
    await service.submit(discord)
    await service.submit(web(2))
    assert safety.prompt_places[-2:] == [("discord", True), ("web", False)]


async def test_a_sexual_minors_refusal_is_logged_for_the_operator_without_the_prompt(
    service: BotService, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.service"):
        outcome = await service.submit(web(1, "a minorword picture", user="u42"))
    assert isinstance(outcome, Rejected) and outcome.reason is RejectionReason.UNSAFE_PROMPT
    assert "sexual_minors prompt refused: web user u42" in caplog.text and "minorword" not in caplog.text
