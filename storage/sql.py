"""Small SQL helpers shared by the storage modules.

Hot statements are built once, with bind parameters, and reused: building a SQLAlchemy statement
and its cache key costs more than running it on SQLite. Inserts that need ON CONFLICT exist in a
PostgreSQL and a SQLite flavour; `for_dialect` picks the one for the connection.
"""

from __future__ import annotations

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
