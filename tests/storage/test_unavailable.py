"""The database cannot take a write: locked past the timeout, read-only, full, unreachable.

Each surfaces as StorageUnavailable with a message saying what to do, and nothing is half-written:
no request rows, no quota usage, the cursor not advanced.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import event
from sqlalchemy.engine import make_url

from storage import StorageError, StorageUnavailable, open_store
from storage.domain import Accepted, NewRequest, Options, Platform, QuotaPolicy
from tests.storage.helpers import FakeClock, new_request

POLICY = QuotaPolicy(images_per_window=100, max_in_flight=100)


def _page(count: int = 3, prompt_chars: int = 20) -> list[NewRequest]:
    return [
        NewRequest(Platform.X, f"t{n}", "u1", "x" * prompt_chars, options=Options(images=1))
        for n in range(count)
    ]


def _assert_nothing_written(url: str) -> None:
    store = open_store(url)
    assert store.count_requests() == 0
    assert store.get_cursor(Platform.X, "since_id") == "100"
    assert store.quota_status(Platform.X, "u1", POLICY).used == 0
    store.close()


@contextmanager
def _write_lock_held(url: str) -> Iterator[None]:
    """Another connection (not dallebot's) holds the write lock."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        other = sqlite3.connect(parsed.database, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            other.execute("ROLLBACK")
            other.close()
        return
    libpq = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq) as other:
        other.execute("LOCK TABLE requests IN EXCLUSIVE MODE")
        try:
            yield
        finally:
            other.rollback()


def test_locked_past_the_timeout_writes_nothing_and_recovers(db_url: str, clock: FakeClock) -> None:
    store = open_store(db_url, clock=clock, busy_timeout=0.3)
    store.set_cursor(Platform.X, "since_id", "100")
    with _write_lock_held(db_url), pytest.raises(StorageUnavailable) as caught:
        store.enqueue_many(_page(), quota=POLICY, queue_cap=None, cursor=("x", "since_id", "103"))
    assert caught.value.cause == "locked"
    assert "locked" in str(caught.value) and "nothing was written" in str(caught.value)
    _assert_nothing_written(db_url)
    # once the lock is gone the same page goes through
    outcomes = store.enqueue_many(_page(), quota=POLICY, queue_cap=None, cursor=("x", "since_id", "103"))
    assert all(isinstance(o, Accepted) for o in outcomes)
    assert store.get_cursor(Platform.X, "since_id") == "103"
    store.close()


def _read_only_url(url: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"sqlite:///file:{parsed.database}?mode=ro&uri=true"
    options = parsed.query.get("options", "")
    return parsed.update_query_dict(
        {"options": f"{options} -cdefault_transaction_read_only=on"}
    ).render_as_string(hide_password=False)


def test_read_only_database_refuses_writes_and_still_reads(db_url: str, clock: FakeClock) -> None:
    writable = open_store(db_url, clock=clock)
    writable.set_cursor(Platform.X, "since_id", "100")
    writable.close()
    store = open_store(_read_only_url(db_url), clock=clock, upgrade=False)
    with pytest.raises(StorageUnavailable) as caught:
        store.enqueue_many(_page(), quota=POLICY, queue_cap=None, cursor=("x", "since_id", "103"))
    assert caught.value.cause == "read_only"
    assert "read-only" in str(caught.value) and "permissions" in str(caught.value)
    assert store.stats().queued == 0  # reads still work, e.g. `dallebot queue`
    store.close()
    _assert_nothing_written(db_url)


def test_full_disk_writes_nothing(sqlite_url: str, clock: FakeClock) -> None:
    store = open_store(sqlite_url, clock=clock)
    store.set_cursor(Platform.X, "since_id", "100")
    store.close()
    store = open_store(sqlite_url, clock=clock)

    @event.listens_for(store.engine, "connect")
    def _no_room(dbapi_connection, _record) -> None:  # the file may not grow by a single page
        pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

    store.engine.dispose()  # new connections get the limit
    with pytest.raises(StorageUnavailable) as caught:
        store.enqueue_many(_page(50, 4000), quota=POLICY, queue_cap=None, cursor=("x", "since_id", "150"))
    assert caught.value.cause == "full"
    assert "full" in str(caught.value)
    store.close()
    _assert_nothing_written(sqlite_url)


def test_a_pooled_connection_the_server_ended_is_replaced_not_failed(
    postgres_url: str, clock: FakeClock
) -> None:
    """A restart, an idle timeout or an administrator ended the idle pooled connection: no error."""
    store = open_store(postgres_url, clock=clock)
    libpq = make_url(postgres_url).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        for n in range(2):
            store.enqueue(new_request(n), quota=None, queue_cap=None)
            with store.engine.connect() as connection:  # the pool's one idle connection
                backend = connection.connection.dbapi_connection.info.backend_pid  # type: ignore[union-attr]
            with psycopg.connect(libpq, autocommit=True) as admin:
                ended = admin.execute("SELECT pg_terminate_backend(%s, 5000)", (backend,)).fetchone()
            assert ended == (True,)
            [claim] = store.claim("w1")
            assert store.complete(claim, image_png=b"png", seconds=1.0)
    finally:
        store.close()


def test_unreachable_postgres_says_where_it_looked() -> None:
    url = "postgresql+psycopg://dallebot:secret@127.0.0.1:1/nowhere"
    with pytest.raises(StorageUnavailable) as caught:
        open_store(url, busy_timeout=1)
    assert caught.value.cause == "unreachable"
    message = str(caught.value)
    assert "127.0.0.1:1" in message and "storage.url" in message
    assert "secret" not in message  # never the password


def test_sqlite_file_that_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    with pytest.raises(StorageUnavailable) as caught:
        open_store(f"sqlite:///{blocker / 'dallebot.db'}")
    assert caught.value.cause == "unreachable"


def test_storage_error_messages_name_the_database(sqlite_url: str) -> None:
    store = open_store(sqlite_url, busy_timeout=0.2)
    with _write_lock_held(sqlite_url), pytest.raises(StorageUnavailable) as caught:
        store.enqueue(new_request(1), quota=None, queue_cap=None)
    assert sqlite_url.split("///")[1] in str(caught.value)
    store.close()


def test_a_stuck_dallebot_writer_times_out_the_others_cleanly(sqlite_url: str) -> None:
    from storage.db import _GATES

    stuck, waiting = open_store(sqlite_url), open_store(sqlite_url, busy_timeout=0.2)
    with _GATES[stuck.engine].hold(sqlite_url), pytest.raises(StorageUnavailable) as caught:
        waiting.enqueue(new_request(1), quota=None, queue_cap=None)
    assert caught.value.cause == "locked" and "writer.lock" in str(caught.value)
    assert waiting.count_requests() == 0
    # the abandoned wait must not leave the lock taken: both go on writing
    assert isinstance(waiting.enqueue(new_request(1), quota=None, queue_cap=None), Accepted)
    assert isinstance(stuck.enqueue(new_request(2), quota=None, queue_cap=None), Accepted)
    assert isinstance(waiting.enqueue(new_request(3), quota=None, queue_cap=None), Accepted)
    stuck.close()
    waiting.close()


def test_a_write_behind_a_waiting_writer_gives_up_within_one_timeout(sqlite_url: str) -> None:
    """Another process holds SQLite's lock; a dallebot writer waits for it holding the writer gate;
    a second dallebot writer queues behind that one. It gives up within one write timeout in all
    (before, the gate's wait and SQLite's busy wait were added: twice the timeout)."""
    import threading
    import time

    first, second = open_store(sqlite_url, busy_timeout=1.0), open_store(sqlite_url, busy_timeout=1.0)
    errors: list[StorageUnavailable] = []

    def wait_in_sqlite() -> None:
        with pytest.raises(StorageUnavailable) as caught:
            first.enqueue(new_request(1), quota=None, queue_cap=None)
        errors.append(caught.value)

    with _write_lock_held(sqlite_url):
        waiting = threading.Thread(target=wait_in_sqlite)
        waiting.start()
        time.sleep(0.15)  # the first writer holds the gate and sits in SQLite's busy handler
        started = time.monotonic()
        with pytest.raises(StorageUnavailable) as caught:
            second.enqueue(new_request(2), quota=None, queue_cap=None)
        elapsed = time.monotonic() - started
        waiting.join()
    assert caught.value.cause == "locked" and errors and errors[0].cause == "locked"
    assert elapsed < 1.5, f"gave up after {elapsed:.2f} s with a 1 s write timeout"  # 1.85 s before
    assert second.count_requests() == 0
    first.close()
    second.close()


def test_postgres_without_its_driver_names_the_extra_to_install(monkeypatch) -> None:
    import sys

    from storage.db import make_engine

    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if `pip install dallebot` without [postgres]
    with pytest.raises(StorageError, match=r"pip install 'dallebot\[postgres\]'"):
        make_engine("postgresql://dallebot@127.0.0.1:5432/dallebot")
