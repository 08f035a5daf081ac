"""The Store's foundation: its engine, injected clock and settings, and one transaction per call.

Every transaction reports to the store's `Outage`, so an outage is logged once when it starts and
once when it ends, whichever method met it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine

from storage.db import display_url, transaction
from storage.errors import StorageError
from storage.outage import Outage
from storage.records import ImageRetention

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Transactions:
    """An engine, a clock and the settings every storage method reads; `_write`/`_read` open one
    transaction (writers begin with `BEGIN IMMEDIATE` on SQLite)."""

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Clock = utc_now,
        max_attempts: int = 3,
        image_retention: ImageRetention | None = None,
        backoff_seconds: float = 5.0,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.max_attempts = max_attempts
        self.image_retention = image_retention or ImageRetention()
        self.backoff_seconds = backoff_seconds
        self._queue_seemed_empty = True  # the last claim came back short: look before locking
        self.outage = Outage(display_url(engine))  # every transaction below reports to it

    # -- transactions -------------------------------------------------------------------------

    @contextmanager
    def _write(self, *, one_statement: bool = False) -> Iterator[Connection]:
        began = self.outage.now()
        try:
            with transaction(self.engine, write=True, one_statement=one_statement) as connection:
                yield connection
        except StorageError as error:
            self.outage.failure(error, write=True, began=began)
            raise
        self.outage.success(write=True)

    @contextmanager
    def _read(self, *, one_statement: bool = False) -> Iterator[Connection]:
        began = self.outage.now()
        try:
            with transaction(self.engine, write=False, one_statement=one_statement) as connection:
                yield connection
        except StorageError as error:
            self.outage.failure(error, write=False, began=began)
            raise
        self.outage.success(write=False)

    def _now(self) -> datetime:
        now = self.clock()
        if now.tzinfo is None:
            raise ValueError("the storage clock must return timezone-aware UTC datetimes")
        return now
