"""Durable storage: the request queue, quotas, cursors, images and the delivery outbox.

    store = open_store("sqlite:///var/dallebot.db")   # or postgresql+psycopg://…
    outcome = store.enqueue(new_request, quota=policy, queue_cap=200)
    for claim in store.claim("worker-1", limit=4): …  store.complete(claim, image_png=…, seconds=…)

SQLite is the embedded default; several worker machines share one PostgreSQL database running the
same code. Guarantees: ../shared/reference/reliability.md.
"""

from storage.errors import StorageError, StorageUnavailable
from storage.queue import backoff
from storage.records import (
    ChannelSettings,
    Claim,
    Completion,
    Delivery,
    DeliveryKind,
    ImageAction,
    ImageRetention,
    QueueStats,
    QuotaStatus,
)
from storage.store import Store, open_store

__all__ = [
    "ChannelSettings",
    "Claim",
    "Completion",
    "Delivery",
    "DeliveryKind",
    "ImageAction",
    "ImageRetention",
    "QueueStats",
    "QuotaStatus",
    "StorageError",
    "StorageUnavailable",
    "Store",
    "backoff",
    "open_store",
]
