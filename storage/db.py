"""Engines: one per Store, with the pragmas and transaction modes each backend needs.

SQLite: WAL (readers run while one writer writes), `synchronous=NORMAL` (survives a process kill),
a busy timeout, and write transactions begun with `BEGIN IMMEDIATE` — a DEFERRED transaction that
reads and then writes can fail with SQLITE_BUSY at once in WAL mode, whatever the timeout. pysqlite
would emit its own BEGIN, so it is switched to autocommit and SQLAlchemy's "begin" event emits ours.
Writers first queue on a `WriteGate` (storage/gate.py): SQLite's busy handler alone starves
writers under contention.
PostgreSQL: psycopg 3, a connect timeout, and a checkout check so a restarted server is noticed:
a server that ends a connection (restart, idle timeout, an administrator) first writes to it, so a
pooled connection with something to read is pinged and, if dead, replaced; a quiet one is used as
it is. SQLAlchemy's pre-ping would cost a round trip on every transaction.
"""

from __future__ import annotations

import logging
import os
import select
import sqlite3
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext, suppress
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, DisconnectionError, NoSuchModuleError

from storage.errors import StorageError, translate
from storage.gate import WriteGate

log = logging.getLogger(__name__)

WRITE_OPTION = "dallebot_write"  # execution option: begin this transaction as a writer
DEADLINE_OPTION = "dallebot_deadline"  # execution option: time.monotonic() by which a writer gives up
URL_HELP = "use sqlite:///path/to/dallebot.db or postgresql://user@host:5432/database"
POSTGRES_DRIVER_HELP = "PostgreSQL's driver is the optional extra: pip install 'dallebot[postgres]'"
_GATES: weakref.WeakKeyDictionary[Engine, WriteGate] = weakref.WeakKeyDictionary()
_URLS: weakref.WeakKeyDictionary[Engine, str] = weakref.WeakKeyDictionary()


def normalize_url(url: str) -> str:
    """Use psycopg 3 for plain postgresql:// URLs (SQLAlchemy's default driver is not installed)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def parse_url(url: str) -> URL:
    """The URL with psycopg 3 for plain postgresql://; StorageError when it is not a database URL
    (the URL itself is not repeated: it may hold a password)."""
    try:
        parsed = make_url(normalize_url(url))
        parsed.get_dialect()  # an unknown scheme or a driver that is not installed
    except (NoSuchModuleError, ImportError) as error:
        raise _missing_driver(error) from None
    except (ArgumentError, ValueError) as error:
        raise StorageError(f"the database URL is not valid ({error}): {URL_HELP}") from None
    return parsed


def _missing_driver(error: Exception) -> StorageError:
    help = POSTGRES_DRIVER_HELP if "psycopg" in str(error) else URL_HELP
    return StorageError(f"the database URL names a driver that is not installed ({error}): {help}")


def make_engine(url: str, *, busy_timeout: float = 5.0) -> Engine:
    """An engine for `url` with pragmas, timeouts and the writer `BEGIN IMMEDIATE` hook.

    A URL that is not a database URL, or names a driver that is not installed, raises StorageError
    saying so (the URL itself is not repeated: it may hold a password)."""
    parsed = parse_url(url)
    try:
        if parsed.get_backend_name() == "sqlite":
            return _sqlite_engine(parsed.render_as_string(hide_password=False), parsed.database, busy_timeout)
        engine = create_engine(
            parsed,
            pool_size=5,
            connect_args={"connect_timeout": max(1, int(busy_timeout))},
        )
    except (NoSuchModuleError, ImportError) as error:
        raise _missing_driver(error) from None
    lock_timeout_ms = int(busy_timeout * 1000)

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection, _record, _proxy) -> None:  # type: ignore[no-untyped-def]
        if not _alive(engine, dbapi_connection):
            raise DisconnectionError("the server ended this pooled connection")  # the pool reconnects

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET lock_timeout = {lock_timeout_ms}")
        dbapi_connection.commit()

    return engine


def _alive(engine: Engine, dbapi_connection: Any) -> bool:
    """False for a pooled connection the server has ended; a round trip only if it wrote to it."""
    if dbapi_connection.closed:
        return False
    readable, _, _ = select.select([dbapi_connection.fileno()], [], [], 0)
    if not readable:  # idle and quiet: the server has sent nothing since the last reply
        return True
    try:
        return bool(engine.dialect.do_ping(dbapi_connection))
    except engine.dialect.loaded_dbapi.Error:
        return False


def _sqlite_engine(url: str, database: str | None, busy_timeout: float) -> Engine:
    engine = create_engine(url, connect_args={"timeout": busy_timeout, "check_same_thread": False})
    if database and database != ":memory:":
        path = database.removeprefix("file:").split("?", 1)[0]
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            gate = WriteGate(path, busy_timeout)
            os.close(os.open(gate.path, os.O_RDWR | os.O_CREAT, 0o644))
            _GATES[engine] = gate
        except OSError as error:  # a read-only directory: writes will say so; no gate needed
            log.debug("no writer gate for %s: %s", path, error)

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

    full_ms = int(busy_timeout * 1000)

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        options = connection.get_execution_options()
        # straight to the driver: a SQLAlchemy execute here would cost more than the BEGIN itself
        driver = connection.connection.driver_connection
        assert driver is not None  # a checked-out connection always has its driver connection
        if not options.get(WRITE_OPTION, False):
            driver.execute("BEGIN")
            return
        # The writer gate's wait counts against the same timeout: SQLite's busy handler gets what is
        # left, so a write blocked by a lock gives up after busy_timeout in all, not twice that.
        deadline = options.get(DEADLINE_OPTION)
        left_ms = full_ms if deadline is None else int((deadline - time.monotonic()) * 1000)
        want = full_ms if left_ms >= full_ms - 50 else max(1, left_ms)
        info = connection.connection.info
        if info.get("busy_ms", full_ms) != want:
            driver.execute(f"PRAGMA busy_timeout = {want}")
            info["busy_ms"] = want
        driver.execute("BEGIN IMMEDIATE")

    return engine


@contextmanager
def transaction(engine: Engine, *, write: bool, one_statement: bool = False) -> Iterator[Connection]:
    """One transaction; driver errors come out as StorageError/StorageUnavailable after rollback.

    `one_statement`: the caller runs a single statement, which PostgreSQL makes atomic (and
    durable, at the same commit) on its own, so it runs in autocommit mode: no BEGIN and COMMIT
    round trips around it. SQLite still begins it (`BEGIN IMMEDIATE` for a writer).
    """
    url = display_url(engine)
    gate = _GATES.get(engine) if write else None
    try:
        with gate.hold(url) if gate else nullcontext() as deadline, engine.connect() as connection:
            if write:
                connection.execution_options(**{WRITE_OPTION: True, DEADLINE_OPTION: deadline})
            if one_statement and engine.dialect.name == "postgresql":
                connection.execution_options(isolation_level="AUTOCOMMIT")
            with connection.begin():
                yield connection
    # the driver's own errors: raised by our BEGIN above and by Fast statements (storage/sql.py)
    except (DBAPIError, sqlite3.Error, engine.dialect.loaded_dbapi.Error) as error:
        raise translate(error, url) from error


def display_url(engine: Engine) -> str:
    """The URL for error messages, password hidden (rendered once per engine: it is not free)."""
    url = _URLS.get(engine)
    if url is None:
        url = _URLS[engine] = engine.url.render_as_string(hide_password=True)
    return url


def dispose(engine: Engine) -> None:
    """Close the engine's connections (and its writer gate's file)."""
    engine.dispose()
    gate = _GATES.pop(engine, None)
    if gate is not None:
        gate.close()
