"""Storage errors: what went wrong with the database, phrased so an operator knows what to do.

Driver exceptions never leave the package: `translate` turns them into `StorageUnavailable`
(the database cannot take the write right now — unreachable, locked past its timeout, read-only,
full) or `StorageError` (anything else). In both cases the transaction was rolled back, so
nothing is half-written.
"""

from __future__ import annotations

from sqlalchemy import exc as sa_exc


class StorageError(Exception):
    """A storage operation failed; the message says what to check."""


class StorageUnavailable(StorageError):
    """The database cannot be used right now: unreachable, locked, read-only or full."""

    def __init__(self, message: str, *, cause: str) -> None:
        super().__init__(message)
        self.cause = cause  # "unreachable" | "locked" | "read_only" | "full"


# SQLSTATE classes/codes (PostgreSQL) and message fragments (SQLite) for each cause.
_PG_CODES = {
    "53100": "full",  # disk_full
    "53200": "full",  # out_of_memory
    "25006": "read_only",  # read_only_sql_transaction
    "55P03": "locked",  # lock_not_available
    "57014": "locked",  # query_canceled (statement_timeout while waiting for a lock)
    "57P01": "unreachable",  # admin_shutdown
    "57P03": "unreachable",  # cannot_connect_now
}
_SQLITE_FRAGMENTS = (
    ("database is locked", "locked"),
    ("database table is locked", "locked"),
    ("readonly database", "read_only"),
    ("read-only", "read_only"),
    ("disk is full", "full"),
    ("no space left", "full"),
    ("unable to open database file", "unreachable"),
    ("disk i/o error", "unreachable"),
)
_ADVICE = {
    "unreachable": "cannot reach the database at {url}: check storage.url in config.yaml "
    "(or DALLEBOT_DATABASE_URL), that the server is running, and that the file's directory exists",
    "locked": "the database at {url} stayed locked by another process for longer than the "
    "busy timeout; nothing was written — retry shortly, and look for a stuck process holding it",
    "read_only": "the database at {url} is read-only; nothing was written — check the permissions "
    "of the file and its directory (SQLite) or that the server is not a read-only replica",
    "full": "the disk (or quota) behind the database at {url} is full; nothing was written — "
    "free space or lower the image retention (storage.image_retention_days)",
}


def classify(error: BaseException) -> str | None:
    """The StorageUnavailable cause of a driver error, or None when it is some other failure."""
    orig = getattr(error, "orig", None) or error
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if code in _PG_CODES:
        return _PG_CODES[code]
    if code and code.startswith("08"):  # connection_exception class
        return "unreachable"
    text = str(orig).lower()
    for fragment, cause in _SQLITE_FRAGMENTS:
        if fragment in text:
            return cause
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return "unreachable"
    if type(orig).__module__.startswith("psycopg") and type(orig).__name__ == "OperationalError":
        return "unreachable"  # connection refused, DNS failure, authentication against a dead host
    return None


def translate(error: BaseException, url: str) -> StorageError:
    """Wrap a driver exception in the storage error that says what to do."""
    detail = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
    cause = classify(error)
    if cause is None:
        return StorageError(f"database error at {url}: {detail}")
    return StorageUnavailable(f"{_ADVICE[cause].format(url=url)} ({detail})", cause=cause)
