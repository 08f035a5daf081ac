"""The request queue: insert, claim with a lease and fencing token, heartbeat, finish, reap.

Every function runs inside the caller's transaction. A claim bumps the row's `token`; every write
after it matches (id, token, status running), so a worker whose lease was reaped — a "zombie" —
changes nothing. SQLite claims with one `UPDATE … RETURNING` inside `BEGIN IMMEDIATE`;
PostgreSQL adds `FOR UPDATE SKIP LOCKED` to the same statement's subquery so claimers never wait
on each other.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, select, update

from bot.domain import NewRequest, Request, Status
from storage.models import requests, to_request
from storage.records import Claim
from storage.sql import count, insert

ACTIVE = (Status.QUEUED.value, Status.RUNNING.value)
ETA_SAMPLE = 20  # recent generations averaged for the ETA
MAX_ERROR_CHARS = 2000


def insert_request(
    connection: Connection,
    new: NewRequest,
    now: datetime,
    *,
    status: Status = Status.QUEUED,
    last_error: str | None = None,
) -> int | None:
    """Insert a request; None when (platform, external_id) already exists."""
    stmt = (
        insert(connection, requests)
        .values(
            platform=new.platform.value,
            external_id=new.external_id,
            user_id=new.user_id,
            user_name=new.user_name,
            prompt=new.prompt,
            options=new.options.to_dict(),
            reply_to=dict(new.reply_to),
            status=status.value,
            attempts=0,
            token=0,
            not_before=now,
            created_at=now,
            updated_at=now,
            finished_at=None if status is Status.QUEUED else now,
            last_error=last_error,
        )
        .on_conflict_do_nothing(index_elements=["platform", "external_id"])
        .returning(requests.c.id)
    )
    return connection.execute(stmt).scalar_one_or_none()


def find(connection: Connection, platform: str, external_id: str) -> Request | None:
    row = connection.execute(
        select(requests).where(requests.c.platform == platform, requests.c.external_id == external_id)
    ).first()
    return None if row is None else to_request(row)


def get(connection: Connection, request_id: int) -> Request | None:
    row = connection.execute(select(requests).where(requests.c.id == request_id)).first()
    return None if row is None else to_request(row)


def claim(
    connection: Connection, worker_id: str, limit: int, lease_seconds: float, now: datetime
) -> list[Claim]:
    """Move up to `limit` claimable queued requests (oldest first) to running for `worker_id`."""
    expires = now + timedelta(seconds=lease_seconds)
    # Materialized so the pick runs exactly once: PostgreSQL may otherwise rescan a subquery and,
    # skipping rows this very statement locked, update more than `limit` rows.
    pick = (
        select(requests.c.id)
        .where(requests.c.status == Status.QUEUED.value, requests.c.not_before <= now)
        .order_by(requests.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)  # PostgreSQL only; SQLite's BEGIN IMMEDIATE serializes
        .cte("picked")
        .prefix_with("MATERIALIZED")
    )
    stmt = (
        update(requests)
        .where(requests.c.id == pick.c.id, requests.c.status == Status.QUEUED.value)
        .values(
            status=Status.RUNNING.value,
            lease_owner=worker_id,
            lease_expires=expires,
            token=requests.c.token + 1,
            attempts=requests.c.attempts + 1,
            updated_at=now,
        )
        .returning(*requests.c)
    )
    rows = sorted(connection.execute(stmt).all(), key=lambda row: row.id)
    return [Claim(request=to_request(row), token=row.token, lease_expires=expires) for row in rows]


def fenced(claim: Claim) -> Any:
    """WHERE clause matching the claimed row only while this claim still holds it."""
    return and_(
        requests.c.id == claim.request.id,
        requests.c.token == claim.token,
        requests.c.status == Status.RUNNING.value,
    )


def heartbeat(connection: Connection, claim: Claim, lease_seconds: float, now: datetime) -> bool:
    stmt = (
        update(requests)
        .where(fenced(claim))
        .values(lease_expires=now + timedelta(seconds=lease_seconds), updated_at=now)
    )
    return connection.execute(stmt).rowcount == 1


def mark_done(connection: Connection, claim: Claim, seconds: float, now: datetime) -> bool:
    stmt = (
        update(requests)
        .where(fenced(claim))
        .values(
            status=Status.DONE.value,
            result_ref=f"image:{claim.request.id}",
            generation_seconds=seconds,
            lease_expires=None,
            last_error=None,
            finished_at=now,
            updated_at=now,
        )
    )
    return connection.execute(stmt).rowcount == 1


def backoff(attempts: int, base_seconds: float, max_seconds: float = 600.0) -> float:
    """Exponential retry delay after `attempts` failed claims: base, 2·base, 4·base, … capped."""
    return min(max_seconds, base_seconds * 2 ** max(0, attempts - 1))


def requeue_or_fail(
    connection: Connection,
    where: Any,
    *,
    attempts: int,
    error: str,
    final: bool,
    backoff_seconds: float,
    now: datetime,
) -> bool:
    """Put the matched running row back in the queue after a backoff, or fail it for good."""
    values: dict[str, Any] = {"lease_expires": None, "last_error": error[:MAX_ERROR_CHARS], "updated_at": now}
    if final:
        values.update(status=Status.FAILED.value, finished_at=now)
    else:
        values.update(
            status=Status.QUEUED.value,
            not_before=now + timedelta(seconds=backoff(attempts, backoff_seconds)),
        )
    return connection.execute(update(requests).where(where).values(**values)).rowcount == 1


def release(connection: Connection, claim: Claim, now: datetime) -> bool:
    """Back to the queue at once; the attempt is not counted (a clean shutdown is not a failure)."""
    stmt = (
        update(requests)
        .where(fenced(claim))
        .values(
            status=Status.QUEUED.value,
            attempts=requests.c.attempts - 1,
            lease_owner=None,
            lease_expires=None,
            not_before=now,
            updated_at=now,
        )
    )
    return connection.execute(stmt).rowcount == 1


def expired(connection: Connection, now: datetime) -> list[Any]:
    """Running rows whose lease has run out (locked on PostgreSQL; others reap the rest)."""
    stmt = (
        select(
            requests.c.id, requests.c.platform, requests.c.token, requests.c.attempts, requests.c.lease_owner
        )
        .where(requests.c.status == Status.RUNNING.value, requests.c.lease_expires < now)
        .order_by(requests.c.id)
        .with_for_update(skip_locked=True)
    )
    return list(connection.execute(stmt).all())


def position(connection: Connection, request_id: int) -> int:
    """1 = next to run; 0 = not queued (running, finished or unknown)."""
    row = connection.execute(select(requests.c.status).where(requests.c.id == request_id)).first()
    if row is None or row.status != Status.QUEUED.value:
        return 0
    ahead = count(connection, requests, requests.c.status == Status.QUEUED.value, requests.c.id < request_id)
    return ahead + 1


def eta_seconds(connection: Connection, position_in_queue: int, now: datetime) -> float | None:
    """Seconds until a request at this position is done, from recent generation times and workers."""
    if position_in_queue <= 0:
        return None
    recent = connection.execute(
        select(requests.c.generation_seconds, requests.c.lease_owner, requests.c.finished_at)
        .where(requests.c.status == Status.DONE.value, requests.c.generation_seconds.is_not(None))
        .order_by(requests.c.id.desc())
        .limit(ETA_SAMPLE)
    ).all()
    if not recent:
        return None
    average = sum(row.generation_seconds for row in recent) / len(recent)
    window = now - timedelta(minutes=10)
    workers = {row.lease_owner for row in recent if row.finished_at and row.finished_at >= window}
    workers |= set(
        connection.execute(
            select(requests.c.lease_owner).where(requests.c.status == Status.RUNNING.value).distinct()
        ).scalars()
    )
    return average * math.ceil(position_in_queue / max(1, len(workers)))


def counts_by_platform(connection: Connection, since: datetime) -> dict[str, dict[str, int]]:
    """platform → status → count, for active requests and those finished since `since`."""
    stmt = (
        select(requests.c.platform, requests.c.status, func.count())
        .where(requests.c.status.in_(ACTIVE) | (requests.c.finished_at >= since))
        .group_by(requests.c.platform, requests.c.status)
    )
    result: dict[str, dict[str, int]] = {}
    for platform, status, n in connection.execute(stmt):
        result.setdefault(platform, {})[status] = n
    return result
