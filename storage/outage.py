"""Storage outages, told once: a line when one starts, a reminder now and then, a line when it ends.

Every Store transaction reports here (`Store._write` / `Store._read`), so the rest of the bot
never logs a storage outage itself: it hands what it caught to `log_failure`, which keeps a
StorageUnavailable at DEBUG (the outage's own lines already say it) and logs anything else in
full. A database that is locked, read-only or full still answers reads, so an outage that began
on a write ends only when a write succeeds again. An operation that began before the outage ended
and fails after it (a thread descheduled between its error and its report, a connection attempt
answered "starting up" just before the server was ready) reaches the listeners (/metrics) but
starts no new outage: it says nothing about the storage since.

    outage = Outage("sqlite:///var/dallebot.db")
    outage.failure(error, write=True)   # the first one logs "storage unavailable …"
    outage.success(write=True)          # logs "storage available again after 15.2 s …"
    began = outage.now()                # before an operation; its failure(…, began=began) after
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable

from storage.errors import StorageError, StorageUnavailable

log = logging.getLogger("storage.outage")

KINDS = ("unreachable", "locked", "read_only", "full", "other")  # "other": a StorageError of no known cause


def kind_of(error: StorageError) -> str:
    """The metrics label of a storage error: its unavailability cause, or "other"."""
    return error.cause if isinstance(error, StorageUnavailable) else "other"


class Outage:
    """Thread-safe outage state of one database, and the counts /metrics shows."""

    def __init__(
        self,
        url: str,
        *,
        reminder_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        logger: logging.Logger = log,
    ) -> None:
        self.url = url  # password already hidden by the caller
        self.reminder_seconds = reminder_seconds
        self._clock = clock
        self._log = logger
        self._lock = threading.Lock()
        self._listeners: list[Callable[[str], None]] = []
        self._since: float | None = None  # clock() when the current outage began
        self._began_on_write = False
        self._last_told = 0.0
        self._ended = float("-inf")  # clock() when the last outage ended
        self._failed: Counter[str] = Counter()  # failed operations in the current outage, by kind
        self.last_error: StorageUnavailable | None = None  # while an outage lasts

    @property
    def active(self) -> bool:
        return self._since is not None

    def listen(self, on_error: Callable[[str], None]) -> None:
        """Call `on_error(kind)` for every storage error (e.g. a metrics counter)."""
        self._listeners.append(on_error)

    def now(self) -> float:
        """The outage clock's reading: pass it as `failure(began=...)` for an operation started now."""
        return self._clock()

    def failure(self, error: StorageError, *, write: bool, began: float | None = None) -> None:
        """Count an error; an outage logs its first StorageUnavailable, then a reminder now and then.

        `began` (this clock) is when the failed operation started: one that started before the last
        outage ended is stale news of that outage and starts no new one."""
        kind = kind_of(error)
        for listener in self._listeners:
            listener(kind)
        if not isinstance(error, StorageUnavailable):
            return  # not an outage: the caller reports it
        now = self._clock()
        with self._lock:
            if self._since is None and began is not None and began < self._ended:
                self._log.debug("failed, but began before the outage ended: %s", error)
                return
            self._failed[kind] += 1
            self.last_error = error
            if self._since is None:
                self._since, self._began_on_write, self._last_told = now, write, now
                self._log.error("storage unavailable (%s): %s", kind, error)
            elif now - self._last_told >= self.reminder_seconds:
                self._last_told = now
                self._log.warning(
                    "storage still unavailable after %.0f s (%s failed operations: %s)",
                    now - self._since, sum(self._failed.values()), _counts(self._failed),
                )  # fmt: skip

    def success(self, *, write: bool) -> None:
        """An operation went through: ends the outage (one began on a write needs a write)."""
        if self._since is None:  # the hot path: no lock
            return
        with self._lock:
            if self._since is None or (self._began_on_write and not write):
                return
            self._ended = self._clock()
            seconds = self._ended - self._since
            failed, self._failed = self._failed, Counter()
            self._since, self.last_error = None, None
        self._log.warning(
            "storage available again after %.1f s (%d failed operations: %s)",
            seconds, sum(failed.values()), _counts(failed),
        )  # fmt: skip


def _counts(failed: Counter[str]) -> str:
    return ", ".join(f"{kind} {n}" for kind, n in sorted(failed.items()))


def log_failure(logger: logging.Logger, message: str, *args: object) -> None:
    """In an `except` block: a StorageUnavailable at DEBUG (its outage is logged once), else in full."""
    error = sys.exc_info()[1]
    if isinstance(error, StorageUnavailable):
        logger.debug(message + ": %s", *args, error)
    else:
        logger.exception(message, *args)
