"""The outbox loop: effectively-once posting with classified errors, against a real store."""

from __future__ import annotations

from bot.adapters.base import DeliveryError
from bot.delivery import INLINE_ANSWER, PAGE, DeliveryLoop
from bot.domain import NewRequest, Platform, Rejected, RejectionReason, Status
from bot.service import BotService
from storage import Store
from tests.bot.fakes import FakeClock, RecordingAdapter


def finished_request(store: Store, n: int = 1) -> int:
    """A DONE request with its image outbox entry, as the worker leaves it."""
    store.enqueue(NewRequest(Platform.DISCORD, f"d{n}", "u", f"prompt {n}"), quota=None, queue_cap=None)
    (claim,) = store.claim("w", limit=1)
    assert store.complete(claim, image_png=b"\x89PNG fake", seconds=0.1)
    return claim.request_id


def loop_for(service: BotService, adapter: RecordingAdapter, clock: FakeClock) -> DeliveryLoop:
    return DeliveryLoop(service, {Platform.DISCORD: adapter}, clock=clock)


def delivery_state(store: Store, request_id: int) -> list[str]:
    return [d.state for d in store.pending_deliveries(Platform.DISCORD) if d.request.id == request_id]


async def test_image_is_posted_once_and_its_id_kept(
    service: BotService, store: Store, clock: FakeClock
) -> None:
    request_id = finished_request(store)
    adapter = RecordingAdapter()
    loop = loop_for(service, adapter, clock)
    assert await loop.run_once() == 1
    assert await loop.run_once() == 0
    assert adapter.posted == [(request_id, "image")]
    assert store.get_request(request_id).posted_message_id == f"post-{request_id}"  # type: ignore[union-attr]


async def test_rate_limited_delivery_waits_for_the_reset(
    service: BotService, store: Store, clock: FakeClock
) -> None:
    """Row 10: a 429 with a reset time is retried after it, and posted once."""
    request_id = finished_request(store)
    adapter = RecordingAdapter(errors=[DeliveryError("retryable", "429", retry_after=120)])
    loop = loop_for(service, adapter, clock)
    await loop.run_once()
    clock.advance(119)
    assert await loop.run_once() == 0 and adapter.posted == []
    clock.advance(2)
    await loop.run_once()
    assert adapter.posted == [(request_id, "image")]


async def test_ambiguous_failure_reconciles_instead_of_posting_twice(
    service: BotService, store: Store, clock: FakeClock
) -> None:
    """Row 3: the post landed but the answer was lost: reconcile finds it; one post."""
    request_id = finished_request(store)
    adapter = RecordingAdapter(errors=[DeliveryError("ambiguous", "timeout after send")])
    loop = loop_for(service, adapter, clock)
    await loop.run_once()
    assert delivery_state(store, request_id) == ["sending"]
    clock.advance(3600)
    await loop.run_once()
    assert adapter.reconciled == [request_id]
    assert adapter.posted == []  # never sent again
    assert store.get_request(request_id).posted_message_id == f"post-{request_id}"  # type: ignore[union-attr]


async def test_crash_between_post_and_record_is_reconciled_on_restart(
    service: BotService, store: Store, clock: FakeClock
) -> None:
    """Row 2: the process died after posting, before recording: the next loop reconciles."""
    request_id = finished_request(store)
    assert store.begin_delivery(request_id)  # the dead process got this far …
    adapter = RecordingAdapter()
    adapter.landed[request_id] = "posted-before-crash"  # … and its post reached the platform
    await loop_for(service, adapter, clock).run_once()
    assert adapter.posted == []
    assert store.get_request(request_id).posted_message_id == "posted-before-crash"  # type: ignore[union-attr]


async def test_sending_entry_that_never_landed_is_posted(
    service: BotService, store: Store, clock: FakeClock
) -> None:
    request_id = finished_request(store)
    assert store.begin_delivery(request_id)
    adapter = RecordingAdapter()
    await loop_for(service, adapter, clock).run_once()
    assert adapter.reconciled == [request_id] and adapter.posted == [(request_id, "image")]


async def test_unknown_exception_is_treated_as_ambiguous(
    service: BotService, store: Store, clock: FakeClock
) -> None:
    request_id = finished_request(store)
    adapter = RecordingAdapter(errors=[ConnectionResetError("reset mid-upload")])
    loop = loop_for(service, adapter, clock)
    await loop.run_once()
    assert delivery_state(store, request_id) == ["sending"]


async def test_permanent_failure_is_not_retried(service: BotService, store: Store, clock: FakeClock) -> None:
    request_id = finished_request(store)
    adapter = RecordingAdapter(errors=[DeliveryError("permanent", "403 app lacks write permission")])
    loop = loop_for(service, adapter, clock)
    await loop.run_once()
    clock.advance(86400)
    assert await loop.run_once() == 0
    assert adapter.posted == [] and delivery_state(store, request_id) == []
    assert store.get_request(request_id).status is Status.DONE  # type: ignore[union-attr]


async def test_rejections_go_out_once_unless_answered_inline(
    service: BotService, store: Store, clock: FakeClock
) -> None:
    background = NewRequest(Platform.DISCORD, "r1", "u", "")
    inline = NewRequest(Platform.WEB, "r2", "u", "")
    assert isinstance(await service.submit(background), Rejected)
    assert isinstance(await service.submit(inline), Rejected)
    told = RecordingAdapter()
    web = RecordingAdapter(inline_rejections=True)
    web.platform = Platform.WEB  # type: ignore[misc]
    loop = DeliveryLoop(service, {Platform.DISCORD: told, Platform.WEB: web}, clock=clock)
    await loop.run_once()
    await loop.run_once()
    rejected = store.find_request(Platform.DISCORD, "r1")
    assert told.posted == [(rejected.id, "rejection")]  # type: ignore[union-attr]
    assert web.posted == []
    inline_row = store.find_request(Platform.WEB, "r2")
    assert inline_row.posted_message_id == INLINE_ANSWER  # type: ignore[union-attr]
    assert inline_row.last_error == RejectionReason.EMPTY_PROMPT.value  # type: ignore[union-attr]


async def test_more_than_a_page_is_delivered_without_waiting_for_the_poll(
    service: BotService, store: Store, clock: FakeClock
) -> None:
    import asyncio

    from bot.delivery import PAGE

    ids = [finished_request(store, n) for n in range(PAGE + 5)]
    adapter = RecordingAdapter()
    loop = DeliveryLoop(service, {Platform.DISCORD: adapter}, clock=clock, poll_seconds=60)
    stop = asyncio.Event()
    task = asyncio.create_task(loop.run(stop))
    async with asyncio.timeout(10):  # one poll would take 60 s
        while len(adapter.posted) < len(ids):
            await asyncio.sleep(0.01)
    stop.set()
    await task
    assert sorted(request_id for request_id, _ in adapter.posted) == ids


async def test_entries_waiting_to_reconcile_do_not_hide_a_due_reply(
    service: BotService, store: Store, clock: FakeClock
) -> None:
    """A full page of "sending" entries in backoff (listed first) must not starve pending ones."""
    stuck = [finished_request(store, n) for n in range(PAGE)]
    adapter = RecordingAdapter(errors=[DeliveryError("ambiguous", "timeout after send") for _ in stuck])
    loop = loop_for(service, adapter, clock)
    await loop.run_once()
    assert all(delivery_state(store, r) == ["sending"] for r in stuck)
    due = finished_request(store, PAGE + 1)
    await loop.run_once()  # the clock has not moved: every stuck entry is still in its backoff
    assert adapter.posted == [(due, "image")] and adapter.reconciled == []


async def test_rate_limit_waits_do_not_spend_the_attempt_cap(
    service: BotService, store: Store, clock: FakeClock
) -> None:
    """A backlog under a viral spike can meet many 429s; only failures that saw the post count."""
    request_id = finished_request(store)
    limits = [DeliveryError("retryable", "429", retry_after=60) for _ in range(5)]
    adapter = RecordingAdapter(errors=[*limits, DeliveryError("retryable", "502 before the post")])
    loop = DeliveryLoop(service, {Platform.DISCORD: adapter}, clock=clock, max_attempts=2)
    for _ in range(6):
        await loop.run_once()
        clock.advance(61)
    [entry] = store.pending_deliveries(Platform.DISCORD)
    assert entry.attempts == 1  # the 502 counted, the five rate limits did not
    await loop.run_once()
    assert adapter.posted == [(request_id, "image")]


def test_a_failed_post_backs_off_with_storages_one_back_off() -> None:
    from bot.delivery import backoff_seconds

    delays = [backoff_seconds(attempts) for attempts in range(11)]
    assert delays == [2.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 300.0, 300.0]
