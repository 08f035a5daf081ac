"""Engines: one per Store, with the pragmas and transaction modes each backend needs.

SQLite: WAL (readers run while one writer writes), `synchronous=NORMAL` (survives a process kill),
a busy timeout, and write transactions begun with `BEGIN IMMEDIATE` — a DEFERRED transaction that
reads and then writes can fail with SQLITE_BUSY at once in WAL mode, whatever the timeout. pysqlite
would emit its own BEGIN, so it is switched to autocommit and SQLAlchemy's "begin" event emits ours.
PostgreSQL: psycopg 3, a connect timeout, pre-ping so a restarted server is noticed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from storage.errors import translate

WRITE_OPTION = "dallebot_write"  # execution option: begin this transaction as a writer


def normalize_url(url: str) -> str:
    """Use psycopg 3 for plain postgresql:// URLs (SQLAlchemy's default driver is not installed)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, *, busy_timeout: float = 5.0) -> Engine:
    """An engine for `url` with pragmas, timeouts and the writer `BEGIN IMMEDIATE` hook."""
    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed.render_as_string(hide_password=False), parsed.database, busy_timeout)
    engine = create_engine(
        parsed,
        pool_pre_ping=True,
        pool_size=5,
        connect_args={"connect_timeout": max(1, int(busy_timeout))},
    )
    lock_timeout_ms = int(busy_timeout * 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET lock_timeout = {lock_timeout_ms}")
        dbapi_connection.commit()

    return engine


def _sqlite_engine(url: str, database: str | None, busy_timeout: float) -> Engine:
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": busy_timeout, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None  # no implicit BEGIN; the "begin" hook below emits ours
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            # a read-only file keeps its mode; writes will then report read-only clearly
            with suppress(sqlite3.OperationalError):
                cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        writer = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")

    return engine


@contextmanager
def transaction(engine: Engine, *, write: bool) -> Iterator[Connection]:
    """One transaction; driver errors come out as StorageError/StorageUnavailable after rollback."""
    try:
        with engine.connect() as connection:
            if write:
                connection.execution_options(**{WRITE_OPTION: True})
            with connection.begin():
                yield connection
    except DBAPIError as error:
        raise translate(error, engine.url.render_as_string(hide_password=True)) from error
