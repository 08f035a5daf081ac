"""Alembic environment: migrates the connection it is handed, or DALLEBOT_DATABASE_URL.

storage.schema passes its connection (already inside a write transaction) in
`config.attributes["connection"]`; the alembic.ini next to this file serves manual runs.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection

from storage.db import dispose, make_engine, transaction
from storage.models import metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    config = context.config
    if context.is_offline_mode():
        context.configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("DALLEBOT_DATABASE_URL")
    if not url:
        raise SystemExit("set DALLEBOT_DATABASE_URL (or sqlalchemy.url) to the database to migrate")
    engine = make_engine(url)
    with transaction(engine, write=True) as connection:
        _run(connection)
    dispose(engine)


_main()
