"""Safety decision records, and image sizes so retention by total size never reads the blobs.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("images") as batch:
        batch.add_column(sa.Column("size_bytes", sa.Integer, nullable=False, server_default="0"))
    op.execute("UPDATE images SET size_bytes = length(png)")  # bytes on both backends
    with op.batch_alter_table("images") as batch:
        batch.alter_column("size_bytes", server_default=None)
    op.create_index("ix_images_created_at", "images", ["created_at"])

    op.create_table(
        "safety_decisions",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("request_id", Id, sa.ForeignKey("requests.id", name="fk_safety_request"), nullable=False),
        sa.Column("gate", sa.String(16), nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("threshold", sa.Float, nullable=False),
        sa.Column("flagged", sa.Boolean, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_safety_decisions_request", "safety_decisions", ["request_id"])


def downgrade() -> None:
    op.drop_index("ix_safety_decisions_request", table_name="safety_decisions")
    op.drop_table("safety_decisions")
    op.drop_index("ix_images_created_at", table_name="images")
    with op.batch_alter_table("images") as batch:
        batch.drop_column("size_bytes")
