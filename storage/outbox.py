"""The delivery outbox: one entry per request that owes the user a reply.

An entry commits in the same transaction as the result it announces (image, final failure or
rejection). Posting moves it pending → sending (attempts + 1) before the platform call, and
sending → sent with the posted id after it. An entry still "sending" when read back means a
post may have landed without being recorded: the caller reconciles before posting again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, case, exists, or_, select, update

from storage.models import deliveries, images, requests, safety_decisions, to_request
from storage.queue import MAX_ERROR_CHARS
from storage.records import Delivery, DeliveryKind, ImageAction
from storage.sql import Fast, dialect_insert

_add = Fast(
    lambda dialect: dialect_insert(dialect, deliveries).on_conflict_do_nothing(index_elements=["request_id"])
)


def add(
    connection: Connection,
    request_id: int,
    platform: str,
    kind: DeliveryKind,
    message: str | None,
    now: datetime,
) -> None:
    """Owe one reply for this request (a second add for the same request is ignored)."""
    values = {
        "request_id": request_id,
        "platform": platform,
        "kind": kind.value,
        "state": "pending",
        "attempts": 0,
        "message": message,
        "not_before": now,
        "created_at": now,
        "updated_at": now,
    }
    _add.execute(connection, values)


def pending(connection: Connection, platform: str, limit: int, now: datetime) -> list[Delivery]:
    """Entries to act on: every "sending" one (reconcile) and "pending" ones that are due."""
    stmt = (
        select(
            requests,
            deliveries.c.kind.label("delivery_kind"),
            deliveries.c.state.label("delivery_state"),
            deliveries.c.attempts.label("delivery_attempts"),
            deliveries.c.message.label("delivery_message"),
            images.c.png.label("image_png"),
            _judged(ImageAction.SPOILER).label("spoilered"),
            _judged().label("judged"),
        )
        .select_from(
            deliveries.join(requests, requests.c.id == deliveries.c.request_id).outerjoin(
                images, images.c.request_id == deliveries.c.request_id
            )
        )
        .where(
            deliveries.c.platform == platform,
            or_(
                deliveries.c.state == "sending",
                (deliveries.c.state == "pending") & (deliveries.c.not_before <= now),
            ),
        )
        .order_by(deliveries.c.state.desc(), deliveries.c.request_id)  # "sending" before "pending"
        .limit(limit)
    )
    return [
        Delivery(
            request=to_request(row),
            kind=DeliveryKind(row.delivery_kind),
            image_png=row.image_png if row.delivery_kind == DeliveryKind.IMAGE else None,
            state=row.delivery_state,
            attempts=row.delivery_attempts,
            message=row.delivery_message,
            image_action=_image_action(row),
        )
        for row in connection.execute(stmt)
    ]


def _judged(action: ImageAction | None = None) -> Any:
    """Whether the image gate judged the delivery's request (with `action`, for at least one tile)."""
    where = [safety_decisions.c.request_id == deliveries.c.request_id, safety_decisions.c.gate == "image"]
    if action is not None:
        where.append(safety_decisions.c.action == action.value)
    return exists().where(*where)


def _image_action(row: Any) -> ImageAction | None:
    if row.delivery_kind != DeliveryKind.IMAGE or not row.judged:
        return None
    return ImageAction.SPOILER if row.spoilered else ImageAction.POST


def begin(connection: Connection, request_id: int, now: datetime) -> bool:
    """pending → sending; False when another sender got there first (or nothing is owed)."""
    stmt = (
        update(deliveries)
        .where(deliveries.c.request_id == request_id, deliveries.c.state == "pending")
        .values(state="sending", attempts=deliveries.c.attempts + 1, updated_at=now)
    )
    return connection.execute(stmt).rowcount == 1


def finish(connection: Connection, request_id: int, posted_message_id: str, now: datetime) -> None:
    connection.execute(
        update(deliveries)
        .where(deliveries.c.request_id == request_id)
        .values(state="sent", posted_message_id=posted_message_id, last_error=None, updated_at=now)
    )
    connection.execute(
        update(requests)
        .where(requests.c.id == request_id)
        .values(posted_message_id=posted_message_id, updated_at=now)
    )


def retry(
    connection: Connection,
    request_id: int,
    error: str,
    not_before: datetime,
    now: datetime,
    *,
    count_attempt: bool = True,
) -> None:
    """Back to pending; `count_attempt=False` hands back the attempt `begin` counted (a rate limit:
    the platform refused to look at the post, so it says nothing about the post)."""
    attempts: ColumnElement[int] = deliveries.c.attempts
    if not count_attempt:
        attempts = case((deliveries.c.attempts > 0, deliveries.c.attempts - 1), else_=0)
    connection.execute(
        update(deliveries)
        .where(deliveries.c.request_id == request_id, deliveries.c.state.in_(("pending", "sending")))
        .values(
            state="pending",
            last_error=error[:MAX_ERROR_CHARS],
            not_before=not_before,
            updated_at=now,
            attempts=attempts,
        )
    )


def fail(connection: Connection, request_id: int, error: str, now: datetime) -> None:
    connection.execute(
        update(deliveries)
        .where(deliveries.c.request_id == request_id, deliveries.c.state.in_(("pending", "sending")))
        .values(state="failed", last_error=error[:MAX_ERROR_CHARS], updated_at=now)
    )
