"""Small SQL helpers shared by the storage modules (dialect-specific inserts, counting)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table, func, select
from sqlalchemy.dialects import postgresql, sqlite


def insert(connection: Connection, table: Table) -> Any:
    """An INSERT that supports ON CONFLICT on this connection's backend."""
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def count(connection: Connection, table: Table, *where: Any) -> int:
    return connection.execute(select(func.count()).select_from(table).where(*where)).scalar_one()
