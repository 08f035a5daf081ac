"""An outage is one line when it starts, a reminder now and then, one line when it ends."""

from __future__ import annotations

import logging

import pytest

from storage import StorageError, StorageUnavailable
from storage.outage import Outage, log_failure

LOCKED = StorageUnavailable(
    "the database at sqlite:///x.db stayed locked … (database is locked)", cause="locked"
)
DOWN = StorageUnavailable("cannot reach the database … (connection refused)", cause="unreachable")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _outage(caplog: pytest.LogCaptureFixture) -> tuple[Outage, Clock, list[str]]:
    caplog.set_level(logging.DEBUG, logger="storage.outage")
    clock = Clock()
    kinds: list[str] = []
    outage = Outage("sqlite:///x.db", reminder_seconds=60, clock=clock)
    outage.listen(kinds.append)
    return outage, clock, kinds


def test_a_15_second_outage_under_load_is_two_short_lines(caplog: pytest.LogCaptureFixture) -> None:
    """50 failing operations a second for 15 s (the injected clock stands for the wait)."""
    outage, clock, kinds = _outage(caplog)
    for tick in range(750):
        clock.now = 1000.0 + tick * 0.02
        outage.failure(DOWN if tick % 3 else LOCKED, write=bool(tick % 2))
    clock.now = 1015.0
    outage.success(write=True)
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 2, lines
    assert lines[0].startswith("storage unavailable (locked): the database at sqlite:///x.db")
    assert (
        lines[1]
        == "storage available again after 15.0 s (750 failed operations: locked 250, unreachable 500)"
    )
    assert len("\n".join(lines)) < 1024
    assert len(kinds) == 750 and kinds.count("locked") == 250  # every error still reaches /metrics
    assert not outage.active and outage.last_error is None


def test_a_long_outage_reminds_once_a_minute(caplog: pytest.LogCaptureFixture) -> None:
    outage, clock, _ = _outage(caplog)
    for second in range(200):
        clock.now = 1000.0 + second
        outage.failure(DOWN, write=True)
    assert [r.levelname for r in caplog.records] == ["ERROR", "WARNING", "WARNING", "WARNING"]
    assert caplog.records[1].getMessage() == (
        "storage still unavailable after 60 s (61 failed operations: unreachable 61)"
    )


def test_reads_that_work_do_not_end_an_outage_of_writes(caplog: pytest.LogCaptureFixture) -> None:
    """A locked, read-only or full database still answers reads: no start/end line per read."""
    outage, _, _ = _outage(caplog)
    outage.failure(LOCKED, write=True)
    for _ in range(100):
        outage.success(write=False)
        outage.failure(LOCKED, write=True)
    assert outage.active and len(caplog.records) == 1
    outage.success(write=True)
    assert not outage.active and len(caplog.records) == 2


def test_other_storage_errors_are_counted_but_are_no_outage(caplog: pytest.LogCaptureFixture) -> None:
    outage, _, kinds = _outage(caplog)
    outage.failure(StorageError("database error at sqlite:///x.db: no such table: requests"), write=True)
    assert kinds == ["other"] and not outage.active and not caplog.records


def test_log_failure_keeps_an_outage_quiet_and_anything_else_in_full(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log = logging.getLogger("tests.outage")
    caplog.set_level(logging.DEBUG, logger="tests.outage")
    for error in (LOCKED, RuntimeError("a bug")):
        try:
            raise error
        except Exception:
            log_failure(log, "round %d failed", 7)
    quiet, loud = caplog.records
    assert quiet.levelname == "DEBUG" and "round 7 failed: the database" in quiet.getMessage()
    assert loud.levelname == "ERROR" and loud.exc_info is not None


def test_a_failure_begun_before_the_outage_ended_starts_no_new_one(caplog: pytest.LogCaptureFixture) -> None:
    """A thread descheduled between its error and its report (seen once as a second outage right
    after a PostgreSQL restart, on a loaded machine): its failure is news of the outage that ended."""
    outage, clock, kinds = _outage(caplog)
    began = outage.now()
    outage.failure(DOWN, write=True, began=began)
    clock.now += 5
    stale = outage.now()  # a connection attempt made while the server was still starting
    clock.now += 1
    outage.success(write=True)
    clock.now += 0.1
    outage.failure(DOWN, write=True, began=stale)
    assert not outage.active and outage.last_error is None
    assert [r.levelname for r in caplog.records] == ["ERROR", "WARNING", "DEBUG"]
    assert kinds == ["unreachable", "unreachable"]  # /metrics still counts it
    outage.failure(DOWN, write=True, began=outage.now())  # one begun after: a new outage
    assert outage.active and caplog.records[-1].levelname == "ERROR"
    clock.now += 2
    outage.success(write=True)
    assert caplog.records[-1].getMessage() == (
        "storage available again after 2.0 s (1 failed operations: unreachable 1)"
    )
