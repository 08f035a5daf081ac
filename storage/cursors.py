"""Per-platform ingestion cursors (X's since_id), written with the requests they cover.

Only cursors: channel settings and the daily rotation have tables of their own (storage.state)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select

from storage.models import cursors
from storage.sql import insert


def get(connection: Connection, platform: str, key: str) -> str | None:
    return connection.execute(
        select(cursors.c.value).where(cursors.c.platform == platform, cursors.c.key == key)
    ).scalar_one_or_none()


def put(connection: Connection, platform: str, key: str, value: str, now: datetime) -> None:
    stmt = insert(connection, cursors).values(platform=platform, key=key, value=value, updated_at=now)
    connection.execute(
        stmt.on_conflict_do_update(
            index_elements=["platform", "key"], set_={"value": value, "updated_at": now}
        )
    )
