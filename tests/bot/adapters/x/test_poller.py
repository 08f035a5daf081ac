"""Mention polling against the fake X: pages, cursor, crash between pages, duplicates, 429, back-off."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from bot.adapters.x.parsing import BotAccount
from bot.adapters.x.poller import CURSOR_KEY, MentionPoller, RateLimited
from bot.config_x import XSettings
from bot.domain import Platform
from storage import StorageError, Store, open_store
from tests.bot.adapters.x.conftest import Clock, make_adapter, make_service, make_store
from tests.bot.adapters.x.fake_x import BOT_ID, BOT_NAME, KEYS, FakeX
from tests.bot.adapters.x.openapi import oauth1_signature_valid

BOT = BotAccount(BOT_ID, BOT_NAME)


def poller_for(service, clock: Clock, *, page_size: int = 100, **settings: object) -> MentionPoller:
    adapter = make_adapter(clock)
    x_settings = XSettings(enabled=True, **({"skip_backlog_on_first_start": False} | settings))
    return MentionPoller(adapter.api, x_settings, BOT, service, clock=clock, page_size=page_size)


def many_mentions(fake: FakeX, count: int) -> list[str]:
    for n in range(count):
        fake.user(str(1000 + n), f"user{n}")
    return [fake.mention(f"@{BOT_NAME} picture {n}", author=str(1000 + n)) for n in range(count)]


def stored_x(store: Store) -> dict[str, str]:
    """external id → prompt of every stored X request."""
    out = {}
    for n in range(1, store.count_requests() + 1):
        request = store.get_request(n)
        if request is not None and request.platform is Platform.X:
            out[request.external_id] = request.prompt
    return out


async def test_all_pages_are_stored_and_the_cursor_moves_once(
    fake_x: FakeX, service, store: Store, clock
) -> None:
    ids = many_mentions(fake_x, 25)
    poller = poller_for(service, clock, page_size=10)

    assert await poller.poll_once() == 25

    mention_calls = fake_x.calls_to("GET /2/users/{id}/mentions")
    assert len(mention_calls) == 3  # 10 + 10 + 5
    assert [c.query.get("pagination_token") for c in mention_calls] == [None, "pt10", "pt20"]
    assert all(c.query["expansions"].split(",")[0] == "author_id" for c in mention_calls)
    assert all(c.query["max_results"] == "10" for c in mention_calls)
    assert set(stored_x(store)) == set(ids)
    assert store.get_cursor(Platform.X, CURSOR_KEY) == max(ids, key=int)  # the newest, from page one

    # The next poll asks only for what is newer, and finds nothing.
    assert await poller.poll_once() == 0
    assert fake_x.calls_to("GET /2/users/{id}/mentions")[-1].query["since_id"] == max(ids, key=int)


async def test_crash_between_pages_loses_nothing_and_stores_nothing_twice(
    fake_x: FakeX, db_path: Path, clock: Clock
) -> None:
    ids = many_mentions(fake_x, 250)
    store = make_store(db_path, clock)
    service = make_service(store)
    poller = poller_for(service, clock)

    # The process dies while fetching page 3: pages 1 and 2 are stored, the cursor is not.
    fake_x.fail("GET /2/users/{id}/mentions", "ok", "ok", "connection_error")
    with pytest.raises(Exception, match="NewConnectionError"):
        await poller.poll_once()
    assert len(stored_x(store)) == 200
    assert store.get_cursor(Platform.X, CURSOR_KEY) is None
    service.close()
    store.close()

    # A new process, a new poller: it re-reads from the old cursor.
    store = make_store(db_path, clock)
    service = make_service(store)
    try:
        assert await poller_for(service, clock).poll_once() == 50  # the first 200 come back as duplicates
        stored = stored_x(store)
        assert set(stored) == set(ids) and store.count_requests() == 250
        assert store.get_cursor(Platform.X, CURSOR_KEY) == max(ids, key=int)
        assert (
            len(store.pending_deliveries(Platform.X, limit=500)) == 0
        )  # nothing generated yet, nothing owed
    finally:
        service.close()
        store.close()


async def test_the_same_mention_twice_is_one_request(fake_x: FakeX, service, store: Store, clock) -> None:
    fake_x.user("7", "carol")
    first = fake_x.mention(f"@{BOT_NAME} a red fox", author="7")
    poller = poller_for(service, clock)
    assert await poller.poll_once() == 1
    # X serves it again (an edit, a replayed page, a cursor that moved back): still one row.
    store.set_cursor(Platform.X, CURSOR_KEY, str(int(first) - 1))
    poller.seen_since_id = None
    assert await poller.poll_once() == 0
    assert store.count_requests() == 1


async def test_first_start_skips_the_backlog(fake_x: FakeX, service, store: Store, clock) -> None:
    many_mentions(fake_x, 3)
    poller = poller_for(service, clock, skip_backlog_on_first_start=True)
    assert await poller.poll_once() == 0
    assert store.count_requests() == 0
    assert fake_x.calls_to("GET /2/users/{id}/mentions")[0].query["max_results"] == "5"

    fake_x.user("9", "dave")
    new = fake_x.mention(f"@{BOT_NAME} after the start", author="9")
    assert await poller.poll_once() == 1
    assert list(stored_x(store)) == [new]


async def test_the_skipped_backlog_stays_skipped_after_a_restart(
    fake_x: FakeX, service, store: Store, clock
) -> None:
    ids = many_mentions(fake_x, 3)
    assert await poller_for(service, clock, skip_backlog_on_first_start=True).poll_once() == 0
    assert store.get_cursor(Platform.X, CURSOR_KEY) == max(ids, key=int)

    fake_x.user("9", "dave")
    new = fake_x.mention(f"@{BOT_NAME} after the restart", author="9")
    restarted = poller_for(service, clock, skip_backlog_on_first_start=True)  # no in-memory since_id
    assert await restarted.poll_once() == 1
    assert list(stored_x(store)) == [new]


async def test_ignored_and_stale_mentions_are_not_stored(fake_x: FakeX, service, store: Store, clock) -> None:
    fake_x.user("7", "carol")
    fake_x.mention(f"@{BOT_NAME} too late", author="7", age=timedelta(hours=7))
    fake_x.mention(f"@{BOT_NAME} my own", author=BOT_ID)
    fresh = fake_x.mention(f"@{BOT_NAME} just right", author="7")
    poller = poller_for(service, clock, max_mention_age_minutes=360)
    assert await poller.poll_once() == 1
    assert stored_x(store) == {fresh: "just right"}


async def test_only_ignored_mentions_still_move_the_read_position(
    fake_x: FakeX, service, store, clock
) -> None:
    own = fake_x.mention(f"@{BOT_NAME} my own", author=BOT_ID)
    poller = poller_for(service, clock)
    assert await poller.poll_once() == 0
    assert store.get_cursor(Platform.X, CURSOR_KEY) == own  # a restart does not re-read it either
    await poller.poll_once()
    assert fake_x.calls_to("GET /2/users/{id}/mentions")[-1].query["since_id"] == own


async def test_only_mentions_reply_draws_the_parent_post(fake_x: FakeX, service, store: Store, clock) -> None:
    fake_x.user("7", "carol")
    fake_x.user("8", "erin")
    parent = fake_x.other_post("a lighthouse in a storm", author="8")
    mention = fake_x.mention(f"@erin @{BOT_NAME}", author="7", reply_to=parent)
    await poller_for(service, clock).poll_once()
    request = store.find_request(Platform.X, mention)
    assert request is not None
    assert (request.prompt, request.user_id, request.user_name) == ("a lighthouse in a storm", "7", "carol")
    assert request.reply_to["exclude_user_ids"] == "8"  # erin did not ask: she is left out of the reply


async def test_rate_limit_is_honoured_then_the_poll_succeeds(
    fake_x: FakeX, service, store: Store, clock
) -> None:
    many_mentions(fake_x, 2)
    fake_x.rate_limit_reset = int(clock.now.timestamp()) + 300
    fake_x.fail("GET /2/users/{id}/mentions", "429")
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) == 2:
            raise _Stop

    poller = poller_for(service, clock)
    poller.sleep = sleep
    with pytest.raises(_Stop):
        await poller.run()
    assert slept[0] == pytest.approx(301)  # until x-rate-limit-reset, not the poll interval
    assert store.count_requests() == 2
    assert slept[1] == 60  # news found: back to the base interval


async def test_rate_limit_raises_with_the_wait(fake_x: FakeX, service, clock) -> None:
    fake_x.rate_limit_reset = int(clock.now.timestamp()) + 120
    fake_x.fail("GET /2/users/{id}/mentions", "429")
    with pytest.raises(RateLimited) as limited:
        await poller_for(service, clock).poll_once()
    assert limited.value.wait_seconds == pytest.approx(121)


async def test_idle_polls_back_off_up_to_the_maximum(fake_x: FakeX, service, clock) -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) == 3:
            fake_x.user("7", "carol")
            fake_x.mention(f"@{BOT_NAME} wake up", author="7")
        if len(slept) == 6:
            raise _Stop

    poller = poller_for(service, clock, poll_interval_seconds=60, max_poll_interval_seconds=200)
    poller.sleep = sleep
    with pytest.raises(_Stop):
        await poller.run()
    assert slept == [120, 200, 200, 60, 120, 200]


async def test_every_call_is_signed_with_oauth1(fake_x: FakeX, service, clock) -> None:
    many_mentions(fake_x, 1)
    await poller_for(service, clock).poll_once()
    call = fake_x.calls[-1]
    header = call.request.headers["Authorization"]
    assert header.startswith("OAuth ") and f'oauth_consumer_key="{KEYS["X_API_KEY"]}"' in header
    assert 'oauth_signature_method="HMAC-SHA1"' in header
    assert oauth1_signature_valid(call.request, KEYS["X_API_SECRET"], KEYS["X_ACCESS_TOKEN_SECRET"])
    assert not oauth1_signature_valid(call.request, "wrong-secret", KEYS["X_ACCESS_TOKEN_SECRET"])


class _Stop(Exception):
    pass


async def test_adapter_start_polls_as_the_keys_account_until_stopped(
    fake_x: FakeX, service, store, clock
) -> None:
    fake_x.user("7", "carol")
    fake_x.mention(f"@{BOT_NAME} a cat", author="7")
    adapter = make_adapter(clock, skip_backlog_on_first_start=False)
    polled = asyncio.Event()

    async def sleep(seconds: float) -> None:
        polled.set()
        await asyncio.Event().wait()  # until cancelled by stop()

    adapter.sleep = sleep
    await adapter.start(service)
    await asyncio.wait_for(polled.wait(), timeout=10)
    await adapter.stop()
    await adapter.stop()  # idempotent

    assert adapter.bot == BOT
    assert "@dallebot" in adapter.describe()
    assert fake_x.calls_to("GET /2/users/me") and store.count_requests() == 1


async def test_a_thank_you_under_the_bots_reply_is_not_a_new_request(
    fake_x: FakeX, service, store, clock
) -> None:
    fake_x.user("7", "carol")
    fake_x.posts.append(
        {
            "id": "1890000000000000001",
            "text": "",
            "author_id": BOT_ID,
            "created_at": "2026-11-26T11:58:00.000Z",
        }
    )
    fake_x.mention(f"@{BOT_NAME} thanks, love it!", author="7", reply_to="1890000000000000001")
    explicit = fake_x.mention(
        f"@{BOT_NAME} @{BOT_NAME} now a blue one", author="7", reply_to="1890000000000000001"
    )
    assert await poller_for(service, clock).poll_once() == 1
    assert stored_x(store) == {explicit: "now a blue one"}


async def test_locked_database_stores_nothing_and_moves_no_cursor(
    fake_x: FakeX, db_path: Path, clock
) -> None:
    ids = many_mentions(fake_x, 3)
    store = open_store(f"sqlite:///{db_path}", clock=clock, busy_timeout=0.3)
    service = make_service(store)
    blocker = sqlite3.connect(db_path, isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock past the timeout
        poller = poller_for(service, clock)
        with pytest.raises(StorageError):
            await poller.poll_once()
        blocker.execute("ROLLBACK")
        assert store.count_requests() == 0 and store.get_cursor(Platform.X, CURSOR_KEY) is None

        assert await poller.poll_once() == 3  # after the lock is released: nothing lost
        assert set(stored_x(store)) == set(ids)
    finally:
        blocker.close()
        service.close()
        store.close()
