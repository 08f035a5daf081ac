"""Schema upgrades through Alembic, run programmatically from the installed package.

The migration scripts ship inside the package (storage/migrations), so this works from a wheel as
well as from the repository. Upgrades run in one write transaction — SQLite's `BEGIN IMMEDIATE`
or a PostgreSQL advisory lock — so workers starting together upgrade once and the rest wait.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

from storage.db import transaction
from storage.errors import StorageError

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_UPGRADE_LOCK_KEY = 0x64616C6C65626F74  # "dallebot": one advisory lock for schema upgrades


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "storage/migrations/versions holds no migration"
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None for an empty database."""
    with transaction(engine, write=False) as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Upgrade the database to `revision` (default: the newest); returns where it ended."""
    with transaction(engine, write=True) as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _UPGRADE_LOCK_KEY})
        context = MigrationContext.configure(connection)
        if revision == "head" and context.get_current_revision() == head_revision():
            return revision
        command.upgrade(alembic_config(connection), revision)
        return MigrationContext.configure(connection).get_current_revision()


def require_head(engine: Engine) -> None:
    """Refuse to run against a schema older (or newer) than this code."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        raise StorageError(
            f"database schema is at revision {current or 'none (empty database)'}, this code needs "
            f"{head}: run `dallebot db upgrade`"
        )
