"""Small SQL helpers shared by the storage modules.

Hot statements are built once, with bind parameters, and reused: building a SQLAlchemy statement
and its cache key costs more than running it on SQLite. Inserts that need ON CONFLICT exist in a
PostgreSQL and a SQLite flavour; `for_dialect` picks the one for the connection.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Table, func, select
from sqlalchemy.dialects import postgresql, sqlite


def insert(connection: Connection, table: Table) -> Any:
    """An INSERT that supports ON CONFLICT on this connection's backend."""
    return dialect_insert(connection.dialect.name, table)


def dialect_insert(dialect: str, table: Table) -> Any:
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


def for_dialect(build: Callable[[str], Any]) -> Callable[[Connection], Any]:
    """Build a statement once per backend (lazily) and return it for a connection."""
    built: dict[str, Any] = {}

    def get(connection: Connection) -> Any:
        name = connection.dialect.name
        if name not in built:
            built[name] = build(name)
        return built[name]

    return get


def count(connection: Connection, table: Table, *where: Any) -> int:
    return connection.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


_Prepared = tuple[str, tuple[str, ...] | None, dict[str, Any], dict[str, Any]]


class Fast:
    """A hot statement run straight on the driver's cursor, inside the caller's transaction.

    SQLAlchemy's per-execute work (cache key, execution context, result wrapping) costs several
    times what SQLite spends running a small statement, and it sits inside the writer gate. A Fast
    statement is compiled once per (backend, bound names); its binds still go through the
    columns' own type processors (UTC datetimes, JSON), so the values written are the same.
    `execute` gives the driver's own values (counts, ids, rowcounts); `rows` reads whole table rows
    through the columns' result processors.
    """

    def __init__(self, build: Callable[[str], Any], *, binary: tuple[str, ...] = ()) -> None:
        """`binary`: parameters psycopg should send in binary (it sends lists as text, so a list
        of PNGs went hex-escaped: twice the bytes, ~6 µs of Python per KiB)."""
        self._build = build
        self._binary = binary
        self._compiled: dict[tuple[str, tuple[str, ...]], _Prepared] = {}
        self._read: dict[str, tuple[Any, list[Any]]] = {}

    def _prepare(self, connection: Connection, keys: tuple[str, ...]) -> _Prepared:
        dialect = connection.dialect
        found = self._compiled.get((dialect.name, keys))
        if found is None:
            compiled = self._build(dialect.name).compile(dialect=dialect, column_keys=list(keys))
            if compiled.literal_execute_params or compiled.post_compile_params:
                raise TypeError("Fast statements cannot expand parameters at execution time")
            positions = tuple(compiled.positiontup) if compiled.positional else None
            escaped = compiled.escaped_bind_names
            if escaped:
                raise TypeError(f"Fast statements need plain bind names, not {sorted(escaped)}")
            # binds the statement itself carries (`.values(status="done")`), filled in as SQLAlchemy would
            fixed = {
                name: bind.effective_value
                for bind, name in compiled.bind_names.items()
                if not bind.required and name not in keys
            }
            sql = compiled.string
            if dialect.name == "postgresql":
                for name in self._binary:
                    if f"%({name})s" not in sql:
                        raise TypeError(f"no %({name})s placeholder to send in binary")
                    sql = sql.replace(f"%({name})s", f"%({name})b")
            found = (sql, positions, _bind_processors(compiled, dialect), fixed)
            self._compiled[(dialect.name, keys)] = found
        return found

    def rows(self, connection: Connection, params: dict[str, Any], table: Table) -> list[Any]:
        """Run a statement that RETURNs all of `table`'s columns, in order; rows as SQLAlchemy reads them.

        Each value goes through its column type's result processor (UTC datetimes, JSON on SQLite),
        so `row.<column>` is what a Core select of the table gives.
        """
        cursor = self.execute(connection, params)
        fetched = cursor.fetchall()
        if not fetched:
            return []
        row_type, processors = self._readers(connection, table, cursor)
        return [
            row_type(*(v if read is None else read(v) for read, v in zip(processors, row, strict=True)))
            for row in fetched
        ]

    def _readers(self, connection: Connection, table: Table, cursor: Any) -> tuple[Any, list[Any]]:
        """A row type named after the columns, and each column's processor for the driver's type code."""
        dialect = connection.dialect
        found = self._read.get(dialect.name)
        if found is None:
            columns = list(table.c)
            row_type = namedtuple(f"{table.name}_row", [column.name for column in columns])  # type: ignore[misc]
            processors = [
                column.type.dialect_impl(dialect).result_processor(dialect, described[1])
                for column, described in zip(columns, cursor.description, strict=True)  # built once: not free
            ]
            found = self._read[dialect.name] = (row_type, processors)
        return found

    def execute(self, connection: Connection, params: dict[str, Any]) -> Any:
        """Run with `params`; returns the driver cursor (rowcount, fetchone)."""
        sql, positions, processors, fixed = self._prepare(connection, tuple(params))
        values = {
            key: (processors[key](value) if key in processors else value)
            for key, value in (fixed | params).items()
        }
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        cursor.execute(sql, values if positions is None else tuple(values[name] for name in positions))
        return cursor


def _bind_processors(compiled: Any, dialect: Any) -> dict[str, Any]:
    """Each bind's type processor for this dialect (UTC datetimes, JSON), by bind name: what
    SQLAlchemy applies to a parameter before the driver sees it, through public type API only."""
    processors = {}
    for bind, name in compiled.bind_names.items():
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            processors[name] = process
    return processors
