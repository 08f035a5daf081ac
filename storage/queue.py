"""The request queue: insert, claim with a lease and fencing token, heartbeat, finish, reap.

Every function runs inside the caller's transaction. A claim bumps the row's `token`; every write
after it matches (id, token, status running), so a worker whose lease was reaped — a "zombie" —
changes nothing. SQLite claims with one `UPDATE … RETURNING` inside `BEGIN IMMEDIATE`;
PostgreSQL adds `FOR UPDATE SKIP LOCKED` to the same statement's pick so claimers never wait on
each other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, select, union, update

from storage.domain import NewRequest, Request, Status
from storage.models import UTCDateTime, requests, to_request
from storage.records import Claim
from storage.sql import Fast, dialect_insert

ACTIVE = (Status.QUEUED.value, Status.RUNNING.value)
ETA_SAMPLE = 20  # recent generations averaged for the ETA
MAX_ERROR_CHARS = 2000
QUEUED, RUNNING, DONE = Status.QUEUED.value, Status.RUNNING.value, Status.DONE.value
R = requests.c

_insert = Fast(
    lambda dialect: (
        dialect_insert(dialect, requests)
        .on_conflict_do_nothing(index_elements=["platform", "external_id"])
        .returning(R.id)
    )
)
_find = select(requests).where(R.platform == bindparam("platform"), R.external_id == bindparam("external_id"))
_get = select(requests).where(R.id == bindparam("id"))
_open = (
    select(requests)
    .where(R.platform == bindparam("platform"), R.status.in_(ACTIVE))
    .order_by(R.id)
    .limit(bindparam("limit"))
)
_claimable = select(R.id).where(R.status == QUEUED, R.not_before <= bindparam("now")).limit(1)
# Materialized so the pick runs exactly once: PostgreSQL may otherwise rescan a subquery and,
# skipping rows this very statement locked, update more than `limit` rows.
_pick = (
    select(R.id)
    .where(R.status == QUEUED, R.not_before <= bindparam("now"))
    .order_by(R.id)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True)  # PostgreSQL only; SQLite's BEGIN IMMEDIATE serializes
    .cte("picked")
    .prefix_with("MATERIALIZED")
)
_claim = Fast(
    lambda _dialect: update(requests)
    .where(R.id == _pick.c.id, R.status == QUEUED)
    .values(
        status=RUNNING,
        lease_owner=bindparam("worker"),
        lease_expires=bindparam("expires"),
        token=R.token + 1,
        attempts=R.attempts + 1,
        updated_at=bindparam("now"),
    )
    .returning(*requests.c)
)  # fmt: skip
_fence = and_(R.id == bindparam("fence_id"), R.token == bindparam("fence_token"), R.status == RUNNING)
_heartbeat = (
    update(requests).where(_fence).values(lease_expires=bindparam("expires"), updated_at=bindparam("now"))
)
_done = Fast(
    lambda _dialect: (
        update(requests)
        .where(_fence)
        .values(
            status=DONE,
            result_ref=bindparam("result_ref"),
            generation_seconds=bindparam("seconds"),
            lease_expires=None,
            last_error=None,
            finished_at=bindparam("now"),
            updated_at=bindparam("now"),
        )
    )
)
_status_of = select(R.status).where(R.id == bindparam("id"))
_ahead = select(func.count()).where(R.status == QUEUED, R.id < bindparam("id"))
_queued = select(func.count()).where(R.status == QUEUED)


def _build_load(_dialect: str) -> Any:
    """Queued count, mean seconds of the last ETA_SAMPLE generations, and the workers sharing them.

    Workers: the owners of those generations finished since :window, and of every running request.
    """
    recent = (
        select(R.generation_seconds, R.lease_owner, R.finished_at)
        .where(R.status == DONE, R.generation_seconds.is_not(None))
        .order_by(R.id.desc())
        .limit(ETA_SAMPLE)
        .subquery()
    )
    owners = union(
        select(recent.c.lease_owner).where(recent.c.finished_at >= bindparam("window", type_=UTCDateTime())),
        select(R.lease_owner).where(R.status == RUNNING),
    ).subquery()
    return select(
        _queued.scalar_subquery(),
        select(func.avg(recent.c.generation_seconds)).scalar_subquery(),
        select(func.count()).select_from(owners).scalar_subquery(),
    )


_load = Fast(_build_load)  # one round trip: every enqueue transaction reads it


def insert_request(
    connection: Connection,
    new: NewRequest,
    now: datetime,
    *,
    status: Status = Status.QUEUED,
    last_error: str | None = None,
) -> int | None:
    """Insert a request; None when (platform, external_id) already exists."""
    row = _insert.execute(connection, request_values(new, now, status, last_error)).fetchone()
    return None if row is None else row[0]


REQUEST_COLUMNS = (
    "platform", "external_id", "user_id", "user_name", "prompt", "options", "reply_to", "status",
    "attempts", "token", "not_before", "created_at", "updated_at", "finished_at", "last_error",
    "ignored_words",
)  # fmt: skip


def request_values(
    new: NewRequest, now: datetime, status: Status = Status.QUEUED, last_error: str | None = None
) -> dict[str, Any]:
    """A new `requests` row: a value for each of REQUEST_COLUMNS."""
    return {
        "platform": new.platform.value,
        "external_id": new.external_id,
        "user_id": new.user_id,
        "user_name": new.user_name,
        "prompt": new.prompt,
        "options": new.options.to_dict(),
        "reply_to": dict(new.reply_to),
        "status": status.value,
        "attempts": 0,
        "token": 0,
        "not_before": now,
        "created_at": now,
        "updated_at": now,
        "finished_at": None if status is Status.QUEUED else now,
        "last_error": last_error,
        "ignored_words": list(new.ignored_words) or None,
    }


def find(connection: Connection, platform: str, external_id: str) -> Request | None:
    row = connection.execute(_find, {"platform": platform, "external_id": external_id}).first()
    return None if row is None else to_request(row)


def open_for(connection: Connection, platform: str, limit: int) -> list[Request]:
    """`platform`'s requests still queued or running, oldest first."""
    rows = connection.execute(_open, {"platform": platform, "limit": limit})
    return [to_request(row) for row in rows]


def get(connection: Connection, request_id: int) -> Request | None:
    row = connection.execute(_get, {"id": request_id}).first()
    return None if row is None else to_request(row)


def any_claimable(connection: Connection, now: datetime) -> bool:
    return connection.execute(_claimable, {"now": now}).first() is not None


def claim(
    connection: Connection, worker_id: str, limit: int, lease_seconds: float, now: datetime
) -> list[Claim]:
    """Move up to `limit` claimable queued requests (oldest first) to running for `worker_id`."""
    expires = now + timedelta(seconds=lease_seconds)
    params = {"now": now, "limit": limit, "worker": worker_id, "expires": expires}
    rows = sorted(_claim.rows(connection, params, requests), key=lambda row: row.id)
    return [Claim(request=to_request(row), token=row.token, lease_expires=expires) for row in rows]


def fence(claim: Claim) -> dict[str, int]:
    """Bind parameters for `_fence`: the claimed row, only while this claim still holds it."""
    return {"fence_id": claim.request.id, "fence_token": claim.token}


def heartbeat(connection: Connection, claim: Claim, lease_seconds: float, now: datetime) -> bool:
    params = {**fence(claim), "expires": now + timedelta(seconds=lease_seconds), "now": now}
    return bool(connection.execute(_heartbeat, params).rowcount == 1)


def mark_done(connection: Connection, claim: Claim, seconds: float, now: datetime) -> bool:
    params = {**fence(claim), "result_ref": f"image:{claim.request.id}", "seconds": seconds, "now": now}
    return bool(_done.execute(connection, params).rowcount == 1)


def backoff(attempts: int, base_seconds: float, max_seconds: float = 600.0) -> float:
    """The one exponential back-off (re-queued requests, outbox retries): after `attempts` failed
    tries (0 counts as 1), base, 2·base, 4·base, … up to `max_seconds`."""
    return min(max_seconds, base_seconds * 2.0 ** max(0, attempts - 1))


def requeue_or_fail(
    connection: Connection,
    request_id: int,
    token: int,
    *,
    attempts: int,
    error: str,
    final: bool,
    backoff_seconds: float,
    now: datetime,
) -> bool:
    """Put the still-held running row back in the queue after a backoff, or fail it for good."""
    values: dict[str, Any] = {"lease_expires": None, "last_error": error[:MAX_ERROR_CHARS], "updated_at": now}
    if final:
        values.update(status=Status.FAILED.value, finished_at=now)
    else:
        values.update(status=QUEUED, not_before=now + timedelta(seconds=backoff(attempts, backoff_seconds)))
    stmt = update(requests).where(_fence).values(**values)
    return connection.execute(stmt, {"fence_id": request_id, "fence_token": token}).rowcount == 1


def release(connection: Connection, claim: Claim, now: datetime) -> bool:
    """Back to the queue at once; the attempt is not counted (a clean shutdown is not a failure)."""
    stmt = (
        update(requests)
        .where(_fence)
        .values(
            status=QUEUED,
            attempts=R.attempts - 1,
            lease_owner=None,
            lease_expires=None,
            not_before=now,
            updated_at=now,
        )
    )
    return connection.execute(stmt, fence(claim)).rowcount == 1


def expired(connection: Connection, now: datetime) -> list[Any]:
    """Running rows whose lease has run out (locked on PostgreSQL; others reap the rest)."""
    stmt = (
        select(R.id, R.platform, R.token, R.attempts, R.lease_owner)
        .where(R.status == RUNNING, R.lease_expires < now)
        .order_by(R.id)
        .with_for_update(skip_locked=True)
    )
    return list(connection.execute(stmt).all())


def position(connection: Connection, request_id: int) -> int:
    """1 = next to run; 0 = not queued (running, finished or unknown)."""
    status = connection.execute(_status_of, {"id": request_id}).scalar_one_or_none()
    if status != QUEUED:
        return 0
    return connection.execute(_ahead, {"id": request_id}).scalar_one() + 1


@dataclass(frozen=True)
class Throughput:
    """Recent generation speed: mean seconds per request and how many workers share the queue."""

    seconds_per_request: float
    workers: int

    def eta(self, position_in_queue: int) -> float | None:
        """Seconds until a request at this position is done; None when it is not queued."""
        if position_in_queue <= 0:
            return None
        return self.seconds_per_request * math.ceil(position_in_queue / self.workers)


def load(connection: Connection, now: datetime) -> tuple[int, Throughput | None]:
    """(queued requests, recent speed — None before the first generation)."""
    queued, average, workers = _load.execute(connection, {"window": now - timedelta(minutes=10)}).fetchone()
    return queued, None if average is None else Throughput(float(average), max(1, workers))


def throughput(connection: Connection, now: datetime) -> Throughput | None:
    """From the last ETA_SAMPLE generations; None before the first one."""
    return load(connection, now)[1]


def counts_by_platform(connection: Connection, since: datetime) -> dict[str, dict[str, int]]:
    """platform → status → count, for active requests and those finished since `since`."""
    stmt = (
        select(R.platform, R.status, func.count())
        .where(R.status.in_(ACTIVE) | (R.finished_at >= since))
        .group_by(R.platform, R.status)
    )
    result: dict[str, dict[str, int]] = {}
    for platform, status, n in connection.execute(stmt):
        result.setdefault(platform, {})[status] = n
    return result
