"""Core tables: requests, images, delivery outbox, quota usage, bans, cursors.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "requests",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("external_id", sa.String(200), nullable=False),
        sa.Column("user_id", sa.String(100), nullable=False),
        sa.Column("user_name", sa.String(200), nullable=False),
        sa.Column("prompt", sa.Text, nullable=False),
        sa.Column("options", sa.JSON, nullable=False),
        sa.Column("reply_to", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("token", sa.BigInteger, nullable=False),
        sa.Column("lease_owner", sa.String(200)),
        sa.Column("lease_expires", sa.DateTime),
        sa.Column("not_before", sa.DateTime, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime),
        sa.Column("generation_seconds", sa.Float),
        sa.Column("last_error", sa.Text),
        sa.Column("result_ref", sa.String(200)),
        sa.Column("posted_message_id", sa.String(200)),
        sa.UniqueConstraint("platform", "external_id", name="uq_requests_platform_external_id"),
    )
    op.create_index("ix_requests_status_id", "requests", ["status", "id"])
    op.create_index("ix_requests_user", "requests", ["platform", "user_id", "status"])

    op.create_table(
        "images",
        sa.Column("request_id", Id, sa.ForeignKey("requests.id", name="fk_images_request"), primary_key=True),
        sa.Column("png", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )

    op.create_table(
        "deliveries",
        sa.Column(
            "request_id", Id, sa.ForeignKey("requests.id", name="fk_deliveries_request"), primary_key=True
        ),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("message", sa.Text),
        sa.Column("not_before", sa.DateTime, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("posted_message_id", sa.String(200)),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_deliveries_platform_state", "deliveries", ["platform", "state", "not_before"])

    op.create_table(
        "quota_usage",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("user_id", sa.String(100), nullable=False),
        sa.Column("request_id", Id),
        sa.Column("images", sa.Integer, nullable=False),
        sa.Column("used_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_quota_usage_user", "quota_usage", ["platform", "user_id", "used_at"])

    op.create_table(
        "bans",
        sa.Column("platform", sa.String(16), primary_key=True),
        sa.Column("user_id", sa.String(100), primary_key=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )

    op.create_table(
        "cursors",
        sa.Column("platform", sa.String(16), primary_key=True),
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    for table in ("cursors", "bans", "quota_usage", "deliveries", "images", "requests"):
        op.drop_table(table)
