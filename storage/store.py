"""Store: the one storage interface the bot uses, over SQLite or PostgreSQL.

Each public method is one transaction (writers begin with `BEGIN IMMEDIATE` on SQLite) and either
commits everything it does or nothing. The clock is injected so leases, backoff, quotas and
retention are tested without sleeping.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from storage import cursors, decisions, outbox, queue, quotas, results, schema
from storage.db import dispose, make_engine
from storage.domain import (
    Accepted,
    NewRequest,
    Platform,
    QuotaPolicy,
    Refusal,
    Rejected,
    RejectionReason,
    Status,
)
from storage.lookups import Lookups
from storage.records import Claim, Completion, Delivery, DeliveryKind, ImageRetention
from storage.transactions import Clock, utc_now

log = logging.getLogger(__name__)

Cursor = tuple[str, str, str]  # (platform, key, value)


@dataclass
class _Page:
    """What one enqueue transaction knows about the queue, counted once rather than per request."""

    queued: int
    speed: queue.Throughput | None

    def eta(self, position: int) -> float | None:
        return None if self.speed is None else self.speed.eta(position)

    def duplicate(self, connection: Connection, request_id: int) -> Accepted:
        position = queue.position(connection, request_id)
        return Accepted(
            request_id=request_id, position=position, eta_seconds=self.eta(position), duplicate=True
        )


class Store(Lookups):
    """Requests, claims, outbox, images, quotas, bans and cursors in one database.

    Admission, claims, safety records and the outbox are here; reads, operator actions and
    housekeeping in `storage.lookups`; transactions and the clock in `storage.transactions`."""

    # -- ingest -------------------------------------------------------------------------------

    def enqueue(
        self,
        new: NewRequest,
        *,
        quota: QuotaPolicy | None,
        queue_cap: int | None,
        safety: dict[str, Any] | None = None,
    ) -> Accepted | Refusal:
        """Ban → duplicate → queue cap → in-flight cap → window quota → insert, in one transaction
        (with `safety`, the decision that let it in, when it is queued)."""
        return self.enqueue_many([new], quota=quota, queue_cap=queue_cap, safety=[safety])[0]

    def enqueue_many(
        self,
        news: list[NewRequest],
        *,
        quota: QuotaPolicy | None,
        queue_cap: int | None,
        cursor: Cursor | None = None,
        safety: Sequence[dict[str, Any] | None] | None = None,
    ) -> list[Accepted | Refusal]:
        """Enqueue a page of requests and advance `cursor` in the same transaction.

        `safety`: per request, the safety decision that let it in (see `record_safety`), kept with
        each newly queued row in the same transaction, so no queued request lacks its audit row
        (an incomplete decision raises ValueError and the whole page rolls back).
        """
        if safety is not None and len(safety) != len(news):
            raise ValueError(f"enqueue_many: {len(safety)} safety decisions for {len(news)} requests")
        now = self._now()
        with self._write() as connection:
            quotas.lock_users(connection, ((new.platform.value, new.user_id) for new in news))
            page = _Page(*queue.load(connection, now))
            outcomes = [self._admit(connection, new, quota, queue_cap, now, page) for new in news]
            for outcome, decision in zip(outcomes, safety or (), strict=False):
                if decision is not None and isinstance(outcome, Accepted) and not outcome.duplicate:
                    decisions.record(connection, outcome.request_id, decision, now)
            if cursor is not None:
                cursors.put(connection, *cursor, now)
        return outcomes

    def _admit(
        self,
        connection: Connection,
        new: NewRequest,
        quota: QuotaPolicy | None,
        queue_cap: int | None,
        now: datetime,
        page: _Page,
    ) -> Accepted | Refusal:
        room = queue_cap is None or page.queued < queue_cap
        known, request_id = quotas.insert_if_admitted(connection, new, quota, room, now)
        if request_id is not None:
            page.queued += 1  # the newest row: everything queued is ahead of it
            return Accepted(request_id=request_id, position=page.queued, eta_seconds=page.eta(page.queued))
        reason = quotas.refusal_reason(known, new, quota, room)
        if known.existing_id is not None and reason is not RejectionReason.BANNED:
            return page.duplicate(connection, known.existing_id)
        if reason is not None:
            return quotas.refusal(connection, reason, new, quota, known, now)
        # admitted, yet not inserted: a concurrent transaction inserted it since the facts were read
        existing = queue.find(connection, new.platform.value, new.external_id)
        assert existing is not None, f"admission and its check disagree on {new.platform}:{new.external_id}"
        return page.duplicate(connection, existing.id)

    def record_rejection(self, new: NewRequest, rejected: Rejected) -> int:
        """Store a REJECTED request and owe the user one reply; a repeat returns the first row's id."""
        now = self._now()
        with self._write() as connection:
            request_id = queue.insert_request(
                connection, new, now, status=Status.REJECTED, last_error=rejected.reason.value
            )
            if request_id is None:
                existing = queue.find(connection, new.platform.value, new.external_id)
                assert existing is not None
                return existing.id
            platform = new.platform.value
            outbox.add(connection, request_id, platform, DeliveryKind.REJECTION, rejected.message, now)
            return request_id

    # -- claims -------------------------------------------------------------------------------

    def claim(self, worker_id: str, *, limit: int = 1, lease_seconds: float = 60) -> list[Claim]:
        """Claim up to `limit` queued requests, oldest first, each with a lease and a fencing token."""
        now = self._now()
        if self._queue_seemed_empty:
            # an idle poll looks first (a cheap read) rather than take the write lock (SQLite) or lock rows
            with self._read(one_statement=True) as connection:
                if not queue.any_claimable(connection, now):
                    return []
        with self._write(one_statement=True) as connection:
            claims = queue.claim(connection, worker_id, limit, lease_seconds, now)
        self._queue_seemed_empty = len(claims) < limit
        return claims

    def heartbeat(self, claim: Claim, lease_seconds: float) -> bool:
        """Extend the lease; False when the claim was lost (reaped, or claimed by another worker)."""
        with self._write() as connection:
            return queue.heartbeat(connection, claim, lease_seconds, self._now())

    def complete(
        self,
        claim: Claim,
        *,
        image_png: bytes,
        seconds: float,
        safety: list[dict[str, Any]] | None = None,
    ) -> bool:
        """DONE + image + outbox entry (+ safety records) at once; False, nothing written, if fenced out.

        The image gate's actions in `safety` say how the picture is shown (`Delivery.image_action`).
        """
        completion = Completion(claim, image_png, seconds, tuple(safety or ()))
        return self.complete_many([completion])[0]

    def complete_many(self, completions: list[Completion]) -> list[bool]:
        """Complete a batch in one transaction, each fenced by its own claim's token.

        Per completion: True when its result, image, outbox entry and safety records were written;
        False, with nothing written for it, when its claim was lost. The others still commit.
        """
        if not completions:
            return []
        now = self._now()
        with self._write(one_statement=True) as connection:  # one statement on PostgreSQL
            written = results.write(connection, completions, now)
        for completion, ok in zip(completions, written, strict=True):
            if not ok:
                log.warning("request %s: late result from a lost claim dropped", completion.claim.request_id)
        return written

    def fail(self, claim: Claim, error: str, *, retryable: bool = True) -> bool:
        """Re-queue after a backoff, or (not retryable / last attempt) fail and owe a failure notice."""
        now = self._now()
        final = not retryable or claim.request.attempts >= self.max_attempts
        with self._write() as connection:
            changed = queue.requeue_or_fail(
                connection,
                claim.request.id,
                claim.token,
                attempts=claim.request.attempts,
                error=error,
                final=final,
                backoff_seconds=self.backoff_seconds,
                now=now,
            )
            if changed and final:
                self._owe_failure(connection, claim.request.id, claim.request.platform.value, error, now)
            return changed

    def release(self, claim: Claim) -> bool:
        """Shutdown: back to the queue now, the attempt not counted."""
        with self._write() as connection:
            return queue.release(connection, claim, self._now())

    def reap(self) -> int:
        """Expired leases → queued with backoff, or failed after the last attempt; returns how many."""
        now = self._now()
        reaped: list[tuple[int, str | None, bool]] = []  # (request id, lease owner, failed for good)
        with self._write() as connection:
            for row in queue.expired(connection, now):
                final = row.attempts >= self.max_attempts
                # the user may read this text: no host or process names in it
                error = f"the worker generating it stopped (attempt {row.attempts} of {self.max_attempts})"
                if queue.requeue_or_fail(
                    connection,
                    row.id,
                    row.token,
                    attempts=row.attempts,
                    error=error,
                    final=final,
                    backoff_seconds=self.backoff_seconds,
                    now=now,
                ):
                    reaped.append((row.id, row.lease_owner, final))
                    if final:
                        self._owe_failure(connection, row.id, row.platform, error, now)
        for request_id, owner, final in reaped:  # after the commit: the log never runs ahead of the database
            log.info(
                "request %d: worker %s stopped renewing its lease; %s",
                request_id, owner, "failed after its last attempt" if final else "re-queued",
            )  # fmt: skip
        return len(reaped)

    def probe(self) -> None:
        """A real write (one cursor row, upserted), bounded by the write timeout; raises StorageError."""
        now = self._now()
        with self._write() as connection:
            cursors.put(connection, "dallebot", "ready_probe", now.isoformat(), now)

    def _owe_failure(
        self, connection: Connection, request_id: int, platform: str, error: str, now: datetime
    ) -> None:
        message = error[: queue.MAX_ERROR_CHARS]
        outbox.add(connection, request_id, platform, DeliveryKind.FAILURE, message, now)
        quotas.refund(connection, [request_id])

    # -- safety -------------------------------------------------------------------------------

    def record_safety(
        self, request_id: int, gate: str, score: float, threshold: float, flagged: bool, action: str
    ) -> None:
        """Keep why a prompt or image was let through, spoilered or blocked."""
        decision = {
            "gate": gate,
            "score": score,
            "threshold": threshold,
            "flagged": flagged,
            "action": action,
        }
        now = self._now()
        with self._write() as connection:
            decisions.record(connection, request_id, decision, now)

    def safety_decisions(self, request_id: int) -> list[dict[str, Any]]:
        """The safety decisions kept for a request, oldest first."""
        with self._read() as connection:
            return decisions.for_request(connection, request_id)

    def hide(self, request_id: int) -> None:
        """An operator's decision to keep a request out of public view (the gallery): a flagged
        "operator" safety decision. Raises KeyError for an unknown request."""
        if self.get_request(request_id) is None:
            raise KeyError(request_id)
        self.record_safety(request_id, "operator", 1.0, 1.0, True, "hide")

    # -- outbox -------------------------------------------------------------------------------

    def pending_deliveries(self, platform: Platform, *, limit: int = 20) -> list[Delivery]:
        """Replies owed on `platform`: "sending" ones first (reconcile them), then due "pending" ones."""
        with self._read() as connection:
            return outbox.pending(connection, Platform(platform).value, limit, self._now())

    def begin_delivery(self, request_id: int) -> bool:
        """pending → sending (attempts + 1); False when someone else is sending it or it is done."""
        with self._write() as connection:
            return outbox.begin(connection, request_id, self._now())

    def finish_delivery(self, request_id: int, posted_message_id: str) -> None:
        with self._write() as connection:
            outbox.finish(connection, request_id, posted_message_id, self._now())

    def retry_delivery(
        self, request_id: int, error: str, *, not_before: datetime | None = None, count_attempt: bool = True
    ) -> None:
        """Back to pending (due at `not_before`, default now) after a failure known not to have posted;
        `count_attempt=False` (a rate limit) does not spend one of the entry's attempts."""
        now = self._now()
        with self._write() as connection:
            outbox.retry(connection, request_id, error, not_before or now, now, count_attempt=count_attempt)

    def fail_delivery(self, request_id: int, error: str) -> None:
        with self._write() as connection:
            outbox.fail(connection, request_id, error, self._now())

def open_store(
    url: str,
    *,
    clock: Clock | None = None,
    upgrade: bool = True,
    max_attempts: int = 3,
    image_retention: ImageRetention | None = None,
    busy_timeout: float = 5.0,
    backoff_seconds: float = 5.0,
) -> Store:
    """Connect to `url`, bring its schema to the newest version (or check it), return a Store."""
    engine = make_engine(url, busy_timeout=busy_timeout)
    try:
        if upgrade:
            schema.upgrade(engine)
        else:
            schema.require_head(engine)
    except BaseException:
        dispose(engine)
        raise
    return Store(
        engine,
        clock=clock or utc_now,
        max_attempts=max_attempts,
        image_retention=image_retention,
        backoff_seconds=backoff_seconds,
    )
