"""Small state the bot keeps besides requests: each channel's settings and the daily rotation.

Each has its own table (revision 0004), so the cursor table holds only ingestion cursors.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select

from storage.models import channel_settings, daily_rotation
from storage.records import ChannelSettings
from storage.sql import insert

ROTATION_ROW = 1  # daily_rotation holds one row


def get_channel(connection: Connection, platform: str, channel_id: str) -> ChannelSettings | None:
    row = connection.execute(
        select(channel_settings.c.enabled, channel_settings.c.nsfw_images).where(
            channel_settings.c.platform == platform, channel_settings.c.channel_id == channel_id
        )
    ).one_or_none()
    return None if row is None else ChannelSettings(enabled=row.enabled, nsfw_images=row.nsfw_images)


def put_channel(
    connection: Connection, platform: str, channel_id: str, settings: ChannelSettings, now: datetime
) -> None:
    values = {"enabled": settings.enabled, "nsfw_images": settings.nsfw_images, "updated_at": now}
    stmt = insert(connection, channel_settings).values(platform=platform, channel_id=channel_id, **values)
    connection.execute(stmt.on_conflict_do_update(index_elements=["platform", "channel_id"], set_=values))


def get_rotation(connection: Connection) -> str | None:
    return connection.execute(
        select(daily_rotation.c.state).where(daily_rotation.c.id == ROTATION_ROW)
    ).scalar_one_or_none()


def put_rotation(connection: Connection, state: str, now: datetime) -> None:
    values = {"state": state, "updated_at": now}
    stmt = insert(connection, daily_rotation).values(id=ROTATION_ROW, **values)
    connection.execute(stmt.on_conflict_do_update(index_elements=["id"], set_=values))
