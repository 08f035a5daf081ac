"""Channel settings and the daily rotation get tables of their own; cursors keep only cursors.

Until now the Discord adapter kept each channel's settings as JSON under `channel:<id>` in the
cursor table, and the daily job its rotation under the made-up platform "daily". Those rows move
into `channel_settings` and `daily_rotation` (and back on downgrade).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

CHANNEL_PREFIX = "channel:"
DAILY = ("daily", "rotation")  # the cursor (platform, key) the rotation was kept under

cursors = sa.table(
    "cursors",
    sa.column("platform", sa.String),
    sa.column("key", sa.String),
    sa.column("value", sa.Text),
    sa.column("updated_at", sa.DateTime),
)
channel_settings = sa.table(
    "channel_settings",
    sa.column("platform", sa.String),
    sa.column("channel_id", sa.String),
    sa.column("enabled", sa.Boolean),
    sa.column("nsfw_images", sa.Boolean),
    sa.column("updated_at", sa.DateTime),
)
daily_rotation = sa.table(
    "daily_rotation",
    sa.column("id", sa.Integer),
    sa.column("state", sa.Text),
    sa.column("updated_at", sa.DateTime),
)


def upgrade() -> None:
    op.create_table(
        "channel_settings",
        sa.Column("platform", sa.String(16), primary_key=True),
        sa.Column("channel_id", sa.String(32), primary_key=True),
        sa.Column("enabled", sa.Boolean, nullable=True),
        sa.Column("nsfw_images", sa.Boolean, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "daily_rotation",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    bind = op.get_bind()
    moved = bind.execute(
        sa.select(cursors).where(
            cursors.c.key.startswith(CHANNEL_PREFIX)
            | ((cursors.c.platform == DAILY[0]) & (cursors.c.key == DAILY[1]))
        )
    ).all()
    for row in moved:
        if row.key.startswith(CHANNEL_PREFIX):
            try:
                data = json.loads(row.value)
            except ValueError:
                data = {}  # unreadable settings were read as the defaults; they stay the defaults
            data = data if isinstance(data, dict) else {}
            enabled = data.get("enabled")
            bind.execute(
                channel_settings.insert().values(
                    platform=row.platform,
                    channel_id=row.key.removeprefix(CHANNEL_PREFIX)[:32],
                    enabled=enabled if isinstance(enabled, bool) else None,
                    nsfw_images=data.get("nsfw_images") is True,
                    updated_at=row.updated_at,
                )
            )
        else:
            bind.execute(daily_rotation.insert().values(id=1, state=row.value, updated_at=row.updated_at))
        bind.execute(cursors.delete().where(cursors.c.platform == row.platform, cursors.c.key == row.key))


def downgrade() -> None:
    bind = op.get_bind()
    now = datetime.now(UTC).replace(tzinfo=None)
    for row in bind.execute(sa.select(channel_settings)).all():
        value = json.dumps({"enabled": row.enabled, "nsfw_images": row.nsfw_images})
        key = CHANNEL_PREFIX + row.channel_id
        bind.execute(
            cursors.insert().values(
                platform=row.platform, key=key, value=value, updated_at=row.updated_at or now
            )
        )
    for row in bind.execute(sa.select(daily_rotation)).all():
        bind.execute(
            cursors.insert().values(
                platform=DAILY[0], key=DAILY[1], value=row.state, updated_at=row.updated_at
            )
        )
    op.drop_table("daily_rotation")
    op.drop_table("channel_settings")
