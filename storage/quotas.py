"""Admission control, all persisted: bans, global queue cap, per-user in-flight cap, sliding window.

Usage rows record the images each accepted request counted, so the window is exact across
restarts. On PostgreSQL a per-user advisory lock serializes one user's concurrent submits (the
checks then the insert); SQLite's `BEGIN IMMEDIATE` already serializes every writer.

The admission rule is `refusal_reason` (its SQL twin is `_build_admit`). `insert_if_admitted`
reads the facts, decides and inserts the request with its usage row: on SQLite as three
statements, on PostgreSQL as one (a guarded INSERT … SELECT fed by the facts), so a submit costs
one round trip. When nothing was inserted, `refusal` gives the facts behind the reason: codes and
numbers, never words (the bot words them).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, Boolean, Connection, bindparam, delete, func, select, text
from sqlalchemy.dialects import postgresql

from storage import queue
from storage.domain import NewRequest, QuotaPolicy, Refusal, RejectionReason
from storage.models import bans, quota_usage, requests
from storage.queue import QUEUED, RUNNING
from storage.records import QuotaStatus
from storage.sql import Fast, insert

_ban_reason = select(bans.c.reason).where(
    bans.c.platform == bindparam("platform"), bans.c.user_id == bindparam("user_id")
)


def _count_with(status: str) -> Any:
    return (
        select(func.count())
        .where(
            requests.c.platform == bindparam("platform"),
            requests.c.user_id == bindparam("user_id"),
            requests.c.status == status,
        )
        .scalar_subquery()
    )


# One count per active status: each is a range of ix_requests_user (platform, user_id, status), so a
# user's finished history is never read (an OR of the statuses scanned and filtered all of it).
_in_flight_count = select(_count_with(QUEUED) + _count_with(RUNNING))
_window_rows = (
    select(quota_usage.c.images, quota_usage.c.used_at)
    .where(
        quota_usage.c.platform == bindparam("platform"),
        quota_usage.c.user_id == bindparam("user_id"),
        quota_usage.c.used_at > bindparam("start"),
    )
    .order_by(quota_usage.c.used_at, quota_usage.c.id)
)
_record = Fast(lambda _dialect: quota_usage.insert())
_used_since = (
    select(func.coalesce(func.sum(quota_usage.c.images), 0))
    .where(
        quota_usage.c.platform == bindparam("platform"),
        quota_usage.c.user_id == bindparam("user_id"),
        quota_usage.c.used_at > bindparam("start"),
    )
    .scalar_subquery()
)
_existing_id = select(requests.c.id).where(
    requests.c.platform == bindparam("platform"), requests.c.external_id == bindparam("external_id")
)
# Everything admission needs to know about one request, in one round trip.
_facts = Fast(
    lambda _dialect: select(
        _ban_reason.scalar_subquery().label("ban_reason"),
        _existing_id.scalar_subquery().label("existing_id"),
        _in_flight_count.scalar_subquery().label("in_flight"),
        _used_since.label("used"),
    )
)
_find_id = Fast(lambda _dialect: _existing_id)


@dataclass(frozen=True)
class Facts:
    ban_reason: str | None  # None: not banned
    existing_id: int | None  # the request already stored under this (platform, external_id)
    in_flight: int
    used: int  # images counted in the quota window (0 without a quota)


def facts(connection: Connection, new: NewRequest, quota: QuotaPolicy | None, now: datetime) -> Facts:
    window = quota.window_seconds if quota is not None else 0
    params = {
        "platform": new.platform.value,
        "user_id": new.user_id,
        "external_id": new.external_id,
        "start": now - timedelta(seconds=window),
    }
    ban_reason, existing_id, in_flight, used = _facts.execute(connection, params).fetchone()
    return Facts(ban_reason, existing_id, int(in_flight), int(used) if quota is not None else 0)


def refusal_reason(
    known: Facts, new: NewRequest, quota: QuotaPolicy | None, room: bool
) -> RejectionReason | None:
    """The admission rule, in its order: ban → queue cap (`room`: not reached) → in-flight cap →
    window quota; None: admit. A duplicate is not refused (it is answered with the stored request).
    `_build_admit` is this rule in SQL for PostgreSQL, where admission is one round trip."""
    if known.ban_reason is not None:
        return RejectionReason.BANNED
    if not room:
        return RejectionReason.QUEUE_FULL
    if quota is None:
        return None
    if known.in_flight >= quota.max_in_flight:
        return RejectionReason.TOO_MANY_IN_FLIGHT
    if known.used + new.options.images > quota.images_per_window:
        return RejectionReason.QUOTA_EXCEEDED
    return None


def admitted(known: Facts, new: NewRequest, quota: QuotaPolicy | None, room: bool) -> bool:
    """May `new` be inserted: not stored yet and not refused (`refusal_reason`)."""
    return known.existing_id is None and refusal_reason(known, new, quota, room) is None


def _build_admit(_dialect: str) -> Any:
    """PostgreSQL: `facts` but the existing id, and the request plus its usage row inserted where
    `admitted` holds. A duplicate is left to ON CONFLICT: the unique index finds it whatever the
    planner's statistics say (a lookup chose another index on a never-analyzed table, and scanned
    every request of the platform).
    """
    known = select(
        _ban_reason.scalar_subquery().label("ban_reason"),
        _in_flight_count.scalar_subquery().label("in_flight"),
        _used_since.label("used"),
    ).cte("facts")
    # typed binds: their processors run (UTC, JSON) and psycopg's SQL casts them (`::JSON`)
    max_in_flight, max_used = (bindparam(name, type_=BigInteger()) for name in ("max_in_flight", "max_used"))
    inserted = (
        postgresql.insert(requests)
        .from_select(
            list(queue.REQUEST_COLUMNS),
            select(*(bindparam(name, type_=requests.c[name].type) for name in queue.REQUEST_COLUMNS)).where(
                known.c.ban_reason.is_(None),
                bindparam("room", type_=Boolean()),
                max_in_flight.is_(None) | (known.c.in_flight < max_in_flight),
                max_used.is_(None) | (known.c.used <= max_used),
            ),
        )
        .on_conflict_do_nothing(index_elements=["platform", "external_id"])
        .returning(requests.c.id)
        .cte("inserted")
    )
    counted = (
        quota_usage.insert()
        .from_select(
            ["platform", "user_id", "request_id", "images", "used_at"],
            select(
                bindparam("platform", type_=quota_usage.c.platform.type),
                bindparam("user_id", type_=quota_usage.c.user_id.type),
                inserted.c.id,
                bindparam("images", type_=quota_usage.c.images.type),
                bindparam("now", type_=quota_usage.c.used_at.type),
            ),
        )
        .cte("counted")
    )
    return select(known, select(inserted.c.id).scalar_subquery().label("inserted_id")).add_cte(counted)


_admit = Fast(_build_admit)
# unnest yields the keys in array order, and the aggregate takes each lock as its row arrives
_lock_users = Fast(
    lambda _dialect: text(
        "SELECT count(pg_advisory_xact_lock(hashtextextended(key, 0)))"
        " FROM unnest(CAST(:keys AS text[])) AS key"
    )
)


def insert_if_admitted(
    connection: Connection, new: NewRequest, quota: QuotaPolicy | None, room: bool, now: datetime
) -> tuple[Facts, int | None]:
    """The facts about `new`, and its id when it was admitted and inserted (with its usage row).

    None: not admitted (see `check`), or inserted meanwhile by a concurrent transaction.
    """
    if connection.dialect.name != "postgresql":
        known = facts(connection, new, quota, now)
        if not admitted(known, new, quota, room):
            return known, None
        request_id = queue.insert_request(connection, new, now)
        if request_id is not None:
            record_usage(connection, new, request_id, now)
        return known, request_id
    window = quota.window_seconds if quota is not None else 0
    params = queue.request_values(new, now) | {
        "start": now - timedelta(seconds=window),
        "room": room,
        "max_in_flight": None if quota is None else quota.max_in_flight,
        "max_used": None if quota is None else quota.images_per_window - new.options.images,
        "images": new.options.images,
        "now": now,
    }
    ban, in_flight, used, request_id = _admit.execute(connection, params).fetchone()
    existing_id = None
    if request_id is None:  # not admitted, or already there (found now, after the insert's conflict check)
        row = _find_id.execute(connection, params).fetchone()
        existing_id = None if row is None else row[0]
    return Facts(ban, existing_id, int(in_flight), int(used) if quota is not None else 0), request_id


def lock_users(connection: Connection, users: Iterable[tuple[str, str]]) -> None:
    """PostgreSQL: take each user's advisory lock, in one round trip and a fixed (sorted) order.

    The same order in every transaction means two pages never wait on each other in a cycle
    (were one to form, PostgreSQL would abort one transaction with an error, never write wrongly).
    """
    if connection.dialect.name != "postgresql":
        return
    keys = [f"{platform}:{user_id}" for platform, user_id in sorted(set(users))]
    _lock_users.execute(connection, {"keys": keys}).fetchone()


def ban_reason(connection: Connection, platform: str, user_id: str) -> str | None:
    """The ban's reason ("" when none was given), or None when the user is not banned."""
    return connection.execute(_ban_reason, {"platform": platform, "user_id": user_id}).scalar_one_or_none()


def refusal(
    connection: Connection,
    reason: RejectionReason,
    new: NewRequest,
    quota: QuotaPolicy | None,
    known: Facts,
    now: datetime,
) -> Refusal:
    """The facts behind `reason` (from `refusal_reason`): for a full window, when to try again."""
    if reason is RejectionReason.BANNED:
        return Refusal(reason, ban_reason=known.ban_reason or "")
    if reason is not RejectionReason.QUOTA_EXCEEDED or quota is None:
        return Refusal(reason, in_flight=known.in_flight, policy=quota)
    wanted, used = new.options.images, known.used
    retry_after = None
    if wanted <= quota.images_per_window:
        freed = 0
        for images, used_at in _window(connection, new.platform.value, new.user_id, quota, now):
            freed += images  # oldest first: when has enough left the window?
            if used + wanted - freed <= quota.images_per_window:
                retry_after = used_at + timedelta(seconds=quota.window_seconds)
                break
    return Refusal(reason, retry_after=retry_after, in_flight=known.in_flight, used=used, policy=quota)


def record_usage(connection: Connection, new: NewRequest, request_id: int, now: datetime) -> None:
    values = {
        "platform": new.platform.value,
        "user_id": new.user_id,
        "request_id": request_id,
        "images": new.options.images,
        "used_at": now,
    }
    _record.execute(connection, values)


def refund(connection: Connection, request_ids: Iterable[int]) -> None:
    """A request that failed for good gives its images back (the failure was not the user's)."""
    ids = list(request_ids)
    if ids:
        connection.execute(delete(quota_usage).where(quota_usage.c.request_id.in_(ids)))


def status(
    connection: Connection, platform: str, user_id: str, policy: QuotaPolicy, now: datetime
) -> QuotaStatus:
    usage = _window(connection, platform, user_id, policy, now)
    used = sum(images for images, _ in usage)
    refills_at = usage[0][1] + timedelta(seconds=policy.window_seconds) if usage else None
    return QuotaStatus(
        used=used,
        remaining=max(0, policy.images_per_window - used),
        refills_at=refills_at,
        in_flight=_in_flight(connection, platform, user_id),
    )


def reset(connection: Connection, platform: str, user_id: str) -> None:
    connection.execute(
        delete(quota_usage).where(quota_usage.c.platform == platform, quota_usage.c.user_id == user_id)
    )


def ban(connection: Connection, platform: str, user_id: str, reason: str, now: datetime) -> None:
    stmt = insert(connection, bans).values(platform=platform, user_id=user_id, reason=reason, created_at=now)
    connection.execute(
        stmt.on_conflict_do_update(index_elements=["platform", "user_id"], set_={"reason": reason})
    )


def unban(connection: Connection, platform: str, user_id: str) -> None:
    connection.execute(delete(bans).where(bans.c.platform == platform, bans.c.user_id == user_id))


def _in_flight(connection: Connection, platform: str, user_id: str) -> int:
    return int(connection.execute(_in_flight_count, {"platform": platform, "user_id": user_id}).scalar_one())


def _window(
    connection: Connection, platform: str, user_id: str, policy: QuotaPolicy, now: datetime
) -> list[tuple[int, datetime]]:
    """(images, used_at) counted in the window ending now, oldest first."""
    start = now - timedelta(seconds=policy.window_seconds)
    rows = connection.execute(_window_rows, {"platform": platform, "user_id": user_id, "start": start}).all()
    return [(row.images, row.used_at) for row in rows]
