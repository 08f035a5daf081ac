"""The schema at the head migration, as SQLAlchemy Core tables, and the row → domain mapping.

Migrations in storage/migrations/versions create exactly this (a test compares them). Times are
stored as naive UTC and come back timezone-aware, so SQLite's text timestamps compare correctly.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

from storage.domain import Options, Platform, Request, Status

metadata = MetaData()

Id = BigInteger().with_variant(Integer(), "sqlite")  # SQLite auto-increments only INTEGER keys


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in Python, naive UTC in the database (the same on both backends)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("storage keeps timezone-aware UTC times; got a naive datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


requests = Table(
    "requests",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("platform", String(16), nullable=False),
    Column("external_id", String(200), nullable=False),  # tweet id, interaction id, "daily:<date>"
    Column("user_id", String(100), nullable=False),
    Column("user_name", String(200), nullable=False),
    Column("prompt", Text, nullable=False),
    Column("options", JSON, nullable=False),
    Column("reply_to", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),  # claims so far (a release does not count)
    Column("token", BigInteger, nullable=False),  # fencing token, +1 on every claim
    Column("lease_owner", String(200)),
    Column("lease_expires", UTCDateTime),
    Column("not_before", UTCDateTime, nullable=False),  # retry backoff: not claimable before this
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("generation_seconds", Float),  # feeds the ETA
    Column("last_error", Text),
    Column("result_ref", String(200)),  # "image:<request id>" while the image is kept
    Column("posted_message_id", String(200)),
    Column("ignored_words", JSON(none_as_null=True)),  # added in 0003: words the model did not know
    UniqueConstraint("platform", "external_id", name="uq_requests_platform_external_id"),
    Index("ix_requests_status_id", "status", "id"),
    Index("ix_requests_user", "platform", "user_id", "status"),
)

images = Table(
    "images",
    metadata,
    Column("request_id", Id, ForeignKey("requests.id", name="fk_images_request"), primary_key=True),
    Column("png", LargeBinary, nullable=False),
    Column("size_bytes", Integer, nullable=False),  # added in 0002 so retention never reads blobs
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_images_created_at", "created_at"),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("request_id", Id, ForeignKey("requests.id", name="fk_deliveries_request"), primary_key=True),
    Column("platform", String(16), nullable=False),
    Column("kind", String(16), nullable=False),  # image | failure | rejection
    Column("state", String(16), nullable=False),  # pending | sending | sent | failed
    Column("attempts", Integer, nullable=False),
    Column("message", Text),
    Column("not_before", UTCDateTime, nullable=False),
    Column("last_error", Text),
    Column("posted_message_id", String(200)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_deliveries_platform_state", "platform", "state", "not_before"),
)

quota_usage = Table(
    "quota_usage",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("platform", String(16), nullable=False),
    Column("user_id", String(100), nullable=False),
    Column("request_id", Id),
    Column("images", Integer, nullable=False),
    Column("used_at", UTCDateTime, nullable=False),
    Index("ix_quota_usage_user", "platform", "user_id", "used_at"),
)

bans = Table(
    "bans",
    metadata,
    Column("platform", String(16), primary_key=True),
    Column("user_id", String(100), primary_key=True),
    Column("reason", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

cursors = Table(
    "cursors",
    metadata,
    Column("platform", String(16), primary_key=True),
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

channel_settings = Table(  # added in 0004: what moderators set for one channel (`/mod channel`)
    "channel_settings",
    metadata,
    Column("platform", String(16), primary_key=True),
    Column("channel_id", String(32), primary_key=True),
    Column("enabled", Boolean, nullable=True),  # NULL: the platform's default decides
    Column("nsfw_images", Boolean, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

daily_rotation = Table(  # added in 0004: which prompts the daily job has used (one row, id 1)
    "daily_rotation",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("state", Text, nullable=False),  # JSON, read by bot.daily.rotation.Rotation
    Column("updated_at", UTCDateTime, nullable=False),
)

safety_decisions = Table(  # added in 0002: why an image was posted, spoilered or blocked
    "safety_decisions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("request_id", Id, ForeignKey("requests.id", name="fk_safety_request"), nullable=False),
    Column("gate", String(16), nullable=False),  # prompt | image | operator
    Column("score", Float, nullable=False),
    Column("threshold", Float, nullable=False),
    Column("flagged", Boolean, nullable=False),
    Column("action", String(16), nullable=False),  # post | spoiler | block | reject | hide
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_safety_decisions_request", "request_id"),
)


def to_request(row: Any) -> Request:
    """A `requests` row (or a row with its columns) as the domain's Request."""
    return Request(
        id=row.id,
        platform=Platform(row.platform),
        external_id=row.external_id,
        user_id=row.user_id,
        user_name=row.user_name,
        prompt=row.prompt,
        options=Options.from_dict(row.options),
        reply_to=dict(row.reply_to or {}),
        status=Status(row.status),
        attempts=row.attempts,
        created_at=row.created_at,
        updated_at=row.updated_at,
        last_error=row.last_error,
        result_ref=row.result_ref,
        posted_message_id=row.posted_message_id,
        ignored_words=tuple(row.ignored_words or ()),
    )
