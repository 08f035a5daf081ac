"""The claims one worker holds, and the one way each ends: completed, failed or released.

A claim is held from `claim` until it is settled. While held it is heartbeaten (so a long batch is
never mistaken for a dead worker); once settled, or once storage could not take it back, it is
not, so a claim can never be heartbeaten forever. What users may read about a failure is a plain
sentence chosen here or by the worker; the exception goes to the log with the request id.

    held.hold(claims)                 # claimed: heartbeaten from now on
    held.fail(claim, "…", retryable=True)
    held.give_back(claims, why)       # storing failed: re-queued (attempt counted) or failed after the last
    held.release_all()                # stop(): back to the queue, the attempt not counted
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from storage.errors import StorageError
from storage.outage import log_failure

if TYPE_CHECKING:
    from storage import Claim, Store

log = logging.getLogger("bot.worker")

NOT_STORED = "the finished image could not be stored (the bot's database was unavailable)"


class HeldClaims:
    """Thread-safe: the GPU thread claims, the finishing thread stores, the heartbeat thread beats."""

    def __init__(self, store: Store, worker_id: str, lease_seconds: float) -> None:
        self.store = store
        self.worker_id = worker_id
        self.lease_seconds = lease_seconds
        self._lock = threading.Lock()
        self._held: dict[int, Claim] = {}  # request id → claim, until settled
        self._handed: set[int] = set()  # held by the finishing thread (being gated and stored)
        self._lost: set[int] = set()  # a heartbeat found another worker holds it now

    def hold(self, claims: Iterable[Claim]) -> None:
        with self._lock:
            self._held.update((claim.request_id, claim) for claim in claims)

    def held(self) -> list[Claim]:
        with self._lock:
            return list(self._held.values())

    def mark_lost(self, request_id: int) -> None:
        with self._lock:
            self._lost.add(request_id)

    def hand_off(self, claims: Iterable[Claim], *, done: bool = False) -> None:
        """The finishing thread owns these now (`done`: it is finished with them)."""
        ids = {claim.request_id for claim in claims}
        with self._lock:
            if done:
                self._handed -= ids
            else:
                self._handed |= ids

    def orphans(self, kept: set[int]) -> list[Claim]:
        """Held claims that neither the finishing thread nor `kept` (the GPU thread's) accounts for."""
        with self._lock:
            return [claim for rid, claim in self._held.items() if rid not in self._handed | kept]

    def settled(self, claims: Iterable[Claim]) -> set[int]:
        """Stop holding these (their results were stored); returns those whose lease had been lost."""
        ids = {claim.request_id for claim in claims}
        with self._lock:
            for request_id in ids:
                self._held.pop(request_id, None)
            lost, self._lost = ids & self._lost, self._lost - ids
        return lost

    def _take(self, claims: Iterable[Claim]) -> list[Claim]:
        """Stop holding (and heartbeating) these; returns the ones that were still held."""
        with self._lock:
            taken = [claim for claim in claims if self._held.pop(claim.request_id, None) is not None]
            self._lost.difference_update(claim.request_id for claim in taken)
        return taken

    def fail(
        self, claim: Claim, message: str, *, retryable: bool, safety: list[dict[str, Any]] | None = None
    ) -> None:
        """Re-queue (or fail after the last attempt) with `message`, which users may read. When storage
        cannot take it, the lease is left to expire and the reaper does the same."""
        self._take([claim])
        try:
            for entry in safety or ():
                self.store.record_safety(claim.request_id, **entry)
            self.store.fail(claim, message, retryable=retryable)
        except StorageError:
            log_failure(
                log, "request %d: recording its failure failed; its lease will expire", claim.request_id
            )

    def release(self, claims: Iterable[Claim]) -> int:
        """Back to the queue now, the attempt not counted (shutdown); returns how many went back.

        After a storage error the rest are left to their leases (each try would wait out the timeout)."""
        taken, released = self._take(claims), 0
        for claim in taken:
            try:
                released += self.store.release(claim)
            except StorageError:
                log_failure(log, "worker %s: releasing %d request(s) failed; their leases will expire",
                            self.worker_id, len(taken) - released)  # fmt: skip
                break
        return released

    def release_all(self) -> int:
        """Release every claim still held (stop); returns how many went back to the queue."""
        with self._lock:
            self._handed.clear()
        return self.release(self.held())

    def give_back(self, claims: Iterable[Claim], why: str, *, message: str = NOT_STORED) -> None:
        """Settle the claims still held that the worker cannot finish: each is failed retryably (back to
        the queue with the attempt counted, or failed with `message`, which users read, after the last)."""
        taken, given = self._take(claims), 0
        if not taken:
            return
        for claim in taken:
            try:
                self.store.fail(claim, message, retryable=True)
            except StorageError:
                break  # storage is down: the rest would wait out the same timeout; their leases expire
            given += 1
        ids = ", ".join(str(claim.request_id) for claim in taken)
        lapse = (
            f"; {len(taken) - given} left to their leases ({self.lease_seconds:g} s)"
            if given < len(taken)
            else ""
        )
        log.warning("worker %s: %s; gave back request(s) %s%s", self.worker_id, why, ids, lapse)
