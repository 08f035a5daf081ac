"""WriteGate: one SQLite writer at a time across threads and processes, with a timeout.

SQLite's busy handler waits by sleeping (up to 100 ms a time), so under many writers a waiter
keeps missing the lock and starves past its timeout, while the lock sits idle between sleeps.
Our writers queue on an exclusive `flock` of a file beside the database instead: the kernel hands
it to a blocked waiter the moment it is released, and SQLite's own lock is then nearly always
free when asked for. flock has no timeout, so a contended wait blocks in a helper thread and the
caller waits on it with one; a waiter that gives up leaves the helper to drop the lock on arrival.
A process that dies releases its flock with its file descriptors.
"""

from __future__ import annotations

import fcntl
import os
import queue
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from storage.errors import StorageUnavailable


class _Ticket:
    """One blocked wait, handed from the caller to the helper thread."""

    def __init__(self) -> None:
        self.arrived = threading.Event()
        self.lock = threading.Lock()
        self.granted = False
        self.abandoned = False


class WriteGate:
    def __init__(self, database: str, timeout: float) -> None:
        self.path = f"{database}-writer.lock"
        self.timeout = timeout
        self._thread_lock = threading.Lock()  # flock is per open file: threads queue here first
        self._fd: int | None = None
        self._pid = os.getpid()
        self._tickets: queue.SimpleQueue[_Ticket] | None = None  # the helper thread's, once started
        self._helper_fd = -1

    @contextmanager
    def hold(self, url: str) -> Iterator[float]:
        """Hold the gate; yields the time.monotonic() deadline, which the wait that follows keeps to."""
        deadline = time.monotonic() + self.timeout
        if not self._thread_lock.acquire(timeout=self.timeout):
            raise self._timed_out(url)
        try:
            fd = self._file()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                fd = self._wait(deadline, url)
            try:
                yield deadline
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()

    def _file(self) -> int:
        if self._fd is None or self._pid != os.getpid():
            # a forked child must not share its parent's open file: flock would treat both as one
            self._fd, self._pid, self._tickets = (
                os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644),
                os.getpid(),
                None,
            )
        return self._fd

    def _wait(self, deadline: float, url: str) -> int:
        """Block (up to the deadline) for the lock; returns the descriptor that holds it."""
        if self._tickets is None:
            # the helper locks through a file of its own: were it the caller's, a lock that the
            # helper takes for an abandoned wait would look held to the caller's next attempt
            self._helper_fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            self._tickets = queue.SimpleQueue()
            helper = threading.Thread(
                target=self._serve,
                args=(self._helper_fd, self._tickets),
                name="sqlite-write-gate",
                daemon=True,
            )
            helper.start()
        ticket = _Ticket()
        self._tickets.put(ticket)
        if ticket.arrived.wait(max(0.0, deadline - time.monotonic())):
            return self._helper_fd
        with ticket.lock:
            if ticket.granted:  # it arrived just as we gave up
                return self._helper_fd
            ticket.abandoned = True
        raise self._timed_out(url)

    @staticmethod
    def _serve(fd: int, tickets: queue.SimpleQueue[_Ticket]) -> None:
        while True:
            ticket = tickets.get()
            fcntl.flock(fd, fcntl.LOCK_EX)
            with ticket.lock:
                if ticket.abandoned:
                    fcntl.flock(fd, fcntl.LOCK_UN)
                    continue
                ticket.granted = True
            ticket.arrived.set()

    def _timed_out(self, url: str) -> StorageUnavailable:
        return StorageUnavailable(
            f"the database at {url} stayed locked by another dallebot process for longer than the "
            f"busy timeout ({self.timeout:g} s); nothing was written — retry shortly, and look for a "
            f"stuck process holding {self.path}",
            cause="locked",
        )

    def close(self) -> None:
        """Close the lock file (a helper thread, if one started, keeps its own until the process ends)."""
        if self._fd is not None and self._pid == os.getpid():
            os.close(self._fd)
        self._fd = None
