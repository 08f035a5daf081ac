"""Generated images as PNG bytes, pruned by age and by total size (oldest first); old refusals too.

An image whose delivery is still owed is never pruned: the reply must be able to carry it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, exists, func, select, update

from storage.domain import Request, Status
from storage.models import deliveries, images, requests, safety_decisions, to_request
from storage.records import ImageRetention
from storage.sql import Fast, dialect_insert


def _build_save(dialect: str) -> Any:
    stmt = dialect_insert(dialect, images)
    replace = {name: stmt.excluded[name] for name in ("png", "size_bytes", "created_at")}
    return stmt.on_conflict_do_update(index_elements=["request_id"], set_=replace)


_save = Fast(_build_save)


def save(connection: Connection, request_id: int, png: bytes, now: datetime) -> None:
    values = {"request_id": request_id, "png": png, "size_bytes": len(png), "created_at": now}
    _save.execute(connection, values)


def get(connection: Connection, request_id: int) -> bytes | None:
    return connection.execute(
        select(images.c.png).where(images.c.request_id == request_id)
    ).scalar_one_or_none()


def recent(
    connection: Connection, limit: int, platform: str | None, passed_gates_only: bool = False
) -> list[Request]:
    """The newest finished requests with an image; `passed_gates_only` drops any with a flagged
    safety decision (a spoilered image, or one an operator hid)."""
    stmt = (
        select(requests)
        .join(images, images.c.request_id == requests.c.id)
        .where(requests.c.status == Status.DONE.value)
        .order_by(requests.c.id.desc())
        .limit(limit)
    )
    if platform is not None:
        stmt = stmt.where(requests.c.platform == platform)
    if passed_gates_only:
        flagged = select(safety_decisions.c.id).where(
            safety_decisions.c.request_id == requests.c.id, safety_decisions.c.flagged.is_(True)
        )
        stmt = stmt.where(~exists(flagged))
    return [to_request(row) for row in connection.execute(stmt)]


def prune(connection: Connection, retention: ImageRetention, now: datetime) -> int:
    """Delete images past the age limit, then the oldest until under the size limit."""
    owed = select(deliveries.c.request_id).where(deliveries.c.state.in_(("pending", "sending")))
    candidates = connection.execute(
        select(images.c.request_id, images.c.size_bytes, images.c.created_at)
        .where(images.c.request_id.not_in(owed))
        .order_by(images.c.created_at, images.c.request_id)
    ).all()
    total = connection.execute(select(func.coalesce(func.sum(images.c.size_bytes), 0))).scalar_one()
    oldest_kept = (
        None if retention.max_age_seconds is None else now - timedelta(seconds=retention.max_age_seconds)
    )
    doomed: list[int] = []
    for row in candidates:
        too_old = oldest_kept is not None and row.created_at < oldest_kept
        too_big = retention.max_total_bytes is not None and total > retention.max_total_bytes
        if not (too_old or too_big):
            break  # sorted oldest first: nothing later is older, and the size is within the limit
        doomed.append(row.request_id)
        total -= row.size_bytes
    for start in range(0, len(doomed), 500):
        chunk = doomed[start : start + 500]
        connection.execute(delete(images).where(images.c.request_id.in_(chunk)))
        connection.execute(update(requests).where(requests.c.id.in_(chunk)).values(result_ref=None))
    return len(doomed)


def prune_refusals(connection: Connection, older_than: datetime) -> int:
    """Delete refused requests created before `older_than` whose reply is no longer owed, with
    their outbox rows and safety decisions (refusals carry no image and no quota usage)."""
    owed = select(deliveries.c.request_id).where(deliveries.c.state.in_(("pending", "sending")))
    doomed = list(
        connection.execute(
            select(requests.c.id).where(
                requests.c.status == Status.REJECTED.value,
                requests.c.created_at < older_than,
                requests.c.id.not_in(owed),
            )
        ).scalars()
    )
    for start in range(0, len(doomed), 500):
        chunk = doomed[start : start + 500]
        connection.execute(delete(safety_decisions).where(safety_decisions.c.request_id.in_(chunk)))
        connection.execute(delete(deliveries).where(deliveries.c.request_id.in_(chunk)))
        connection.execute(delete(requests).where(requests.c.id.in_(chunk)))
    return len(doomed)
