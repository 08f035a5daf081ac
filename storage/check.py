"""`dallebot check-config`'s look at the database: can it be opened and written, and if not, why.

A SQLite file that does not exist yet is not created here (the first `dallebot run` does that):
its directory is checked instead. An existing file, or a PostgreSQL server, is opened and a write
transaction begun and rolled back, so a lock, a read-only file or server, or a refused connection
shows up now rather than at the first request. Nothing is written (the empty transaction commits).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

from storage.db import dispose, make_engine, parse_url, transaction
from storage.errors import StorageError


@dataclass(frozen=True)
class DatabaseCheck:
    """`problem` is None when the database can be used; `note` says what was found either way."""

    note: str
    problem: str | None = None


def check_database(url: str, *, timeout: float = 2.5) -> DatabaseCheck:
    """Open the database at `url` (bounded by `timeout`) and say whether the bot could write to it."""
    try:
        parsed = parse_url(url)
    except StorageError as error:
        return DatabaseCheck("not checked", str(error))
    if parsed.get_backend_name() == "sqlite":
        database = (parsed.database or "").removeprefix("file:").split("?", 1)[0]
        if database in ("", ":memory:"):
            return DatabaseCheck("an in-memory SQLite database (nothing survives a restart)")
        path = Path(database)
        if not path.exists():
            return _new_sqlite_file(path)
        if path.is_dir():
            return DatabaseCheck("not checked", f"{path} is a directory, not a database file")
        if os.statvfs(path).f_flag & os.ST_RDONLY:
            return DatabaseCheck("not checked", f"{path} is on a read-only filesystem: remount it read-write")
        if not os.access(path, os.R_OK | os.W_OK):
            return DatabaseCheck(
                "not checked", f"{path} is not readable and writable by this user: {_owner(path)}"
            )
        if not os.access(path.parent, os.W_OK | os.X_OK):
            return DatabaseCheck(
                "not checked",
                f"{path.parent} is not writable by this user (SQLite writes its journal beside the "
                f"database): {_owner(path.parent)}",
            )
    return _open_and_begin(url, timeout)


def _new_sqlite_file(path: Path) -> DatabaseCheck:
    existing = next((p for p in (path.parent, *path.parent.parents) if p.exists()), Path("/"))
    if not existing.is_dir():
        return DatabaseCheck("not checked", f"{existing} is a file, so {path} cannot be created under it")
    if not os.access(existing, os.W_OK | os.X_OK):
        return DatabaseCheck(
            "not checked",
            f"cannot create {path}: {existing} is not writable by this user: {_owner(existing)}",
        )
    return DatabaseCheck(f"{path} does not exist yet; `dallebot run` creates it")


def _open_and_begin(url: str, timeout: float) -> DatabaseCheck:
    try:
        engine = make_engine(url, busy_timeout=timeout)
    except StorageError as error:
        return DatabaseCheck("not checked", str(error))
    try:
        with transaction(engine, write=True) as connection:
            read_only = False
            if connection.dialect.name == "postgresql":
                read_only = connection.execute(text("SHOW transaction_read_only")).scalar() == "on"
        if read_only:
            return DatabaseCheck(
                "reachable",
                "the PostgreSQL server only allows reads (a replica, or default_transaction_read_only)",
            )
        from storage import schema

        revision = schema.current_revision(engine)
        head = schema.head_revision()
        if revision == head:
            return DatabaseCheck(f"opened, writable, schema up to date ({head})")
        return DatabaseCheck(
            f"opened, writable, schema at {revision or 'none'} (`dallebot run` upgrades it to {head})"
        )
    except StorageError as error:
        return DatabaseCheck("not usable", str(error))
    finally:
        dispose(engine)


def _owner(path: Path) -> str:
    """Who owns `path` and its mode, for a permissions message."""
    stat = path.stat()
    return (
        f"owned by uid {stat.st_uid}, mode {stat.st_mode & 0o777:o}; this process runs as uid {os.getuid()}"
    )
