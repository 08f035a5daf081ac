"""Words the model does not know, kept with the request so every reply can name them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.add_column(sa.Column("ignored_words", sa.JSON))  # NULL for every earlier request: none known


def downgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.drop_column("ignored_words")
