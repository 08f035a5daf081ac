"""The Store's reads, operator actions (quotas, bans, cursors) and housekeeping (retention)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from storage import cursors, images, queue, quotas, state
from storage.db import dispose
from storage.domain import Platform, QuotaPolicy, Request, Status
from storage.models import requests
from storage.records import ChannelSettings, QueueStats, QuotaStatus
from storage.transactions import Transactions

RECENT = timedelta(hours=24)
REFUSAL_RETENTION = timedelta(days=30)


class Lookups(Transactions):
    """Reading requests, images and counts; quotas, bans and cursors; pruning old data."""

    # -- reads --------------------------------------------------------------------------------

    def get_request(self, request_id: int) -> Request | None:
        with self._read() as connection:
            return queue.get(connection, request_id)

    def find_request(self, platform: Platform, external_id: str) -> Request | None:
        with self._read() as connection:
            return queue.find(connection, Platform(platform).value, external_id)

    def open_requests(self, platform: Platform, *, limit: int = 200) -> list[Request]:
        """`platform`'s requests not finished yet (queued or running), oldest first."""
        with self._read() as connection:
            return queue.open_for(connection, Platform(platform).value, limit)

    def get_image(self, request_id: int) -> bytes | None:
        with self._read() as connection:
            return images.get(connection, request_id)

    def recent_images(
        self, limit: int = 24, platform: Platform | None = None, *, passed_gates_only: bool = False
    ) -> list[Request]:
        """The newest finished images; `passed_gates_only` leaves out flagged and hidden ones."""
        with self._read() as connection:
            value = None if platform is None else Platform(platform).value
            return images.recent(connection, limit, value, passed_gates_only)

    def position(self, request_id: int) -> int:
        with self._read() as connection:
            return queue.position(connection, request_id)

    def eta_seconds(self, request_id: int) -> float | None:
        with self._read() as connection:
            speed = queue.throughput(connection, self._now())
            return None if speed is None else speed.eta(queue.position(connection, request_id))

    def stats(self) -> QueueStats:
        since = self._now() - RECENT
        with self._read() as connection:
            by_platform = queue.counts_by_platform(connection, since)
        total: dict[str, int] = {}
        for counts in by_platform.values():
            for status, n in counts.items():
                total[status] = total.get(status, 0) + n
        return QueueStats(
            queued=total.get(Status.QUEUED.value, 0),
            running=total.get(Status.RUNNING.value, 0),
            failed_recent=total.get(Status.FAILED.value, 0),
            done_recent=total.get(Status.DONE.value, 0),
            by_platform=by_platform,
        )

    # -- quotas, bans, cursors ----------------------------------------------------------------

    def quota_status(self, platform: Platform, user_id: str, policy: QuotaPolicy) -> QuotaStatus:
        with self._read() as connection:
            return quotas.status(connection, Platform(platform).value, user_id, policy, self._now())

    def reset_quota(self, platform: Platform, user_id: str) -> None:
        with self._write() as connection:
            quotas.reset(connection, Platform(platform).value, user_id)

    def ban(self, platform: Platform, user_id: str, reason: str = "") -> None:
        with self._write() as connection:
            quotas.ban(connection, Platform(platform).value, user_id, reason, self._now())

    def unban(self, platform: Platform, user_id: str) -> None:
        with self._write() as connection:
            quotas.unban(connection, Platform(platform).value, user_id)

    def is_banned(self, platform: Platform, user_id: str) -> bool:
        with self._read() as connection:
            return quotas.ban_reason(connection, Platform(platform).value, user_id) is not None

    def get_cursor(self, platform: Platform, key: str) -> str | None:
        """A platform's ingestion cursor (X's since_id)."""
        with self._read() as connection:
            return cursors.get(connection, Platform(platform).value, key)

    def set_cursor(self, platform: Platform, key: str, value: str) -> None:
        with self._write() as connection:
            cursors.put(connection, Platform(platform).value, key, value, self._now())

    def channel_settings(self, platform: Platform, channel_id: str) -> ChannelSettings | None:
        """What moderators set for a channel; None when nothing was ever set."""
        with self._read() as connection:
            return state.get_channel(connection, Platform(platform).value, channel_id)

    def set_channel_settings(self, platform: Platform, channel_id: str, settings: ChannelSettings) -> None:
        with self._write() as connection:
            state.put_channel(connection, Platform(platform).value, channel_id, settings, self._now())

    def daily_rotation(self) -> str | None:
        """The daily job's rotation state (JSON); None before the first daily prompt."""
        with self._read() as connection:
            return state.get_rotation(connection)

    def set_daily_rotation(self, rotation: str) -> None:
        with self._write() as connection:
            state.put_rotation(connection, rotation, self._now())

    # -- housekeeping -------------------------------------------------------------------------

    def prune_images(self) -> int:
        """Apply the image retention limits; returns how many images were deleted."""
        with self._write() as connection:
            return images.prune(connection, self.image_retention, self._now())

    def prune_refusals(self) -> int:
        """Delete refused requests past the image age limit (30 days when images are kept forever),
        once their reply is not owed; returns how many."""
        age = self.image_retention.max_age_seconds or REFUSAL_RETENTION.total_seconds()
        with self._write() as connection:
            return images.prune_refusals(connection, self._now() - timedelta(seconds=age))

    def count_requests(self, status: Status | None = None) -> int:
        with self._read() as connection:
            stmt = select(func.count()).select_from(requests)
            if status is not None:
                stmt = stmt.where(requests.c.status == Status(status).value)
            return connection.execute(stmt).scalar_one()

    def close(self) -> None:
        dispose(self.engine)
