"""`dallebot db upgrade` and `dallebot queue`: the database by hand.

The URL comes from --url, else DALLEBOT_DATABASE_URL, else storage.url in config.yaml.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    db = subparsers.add_parser("db", help="database maintenance", description="Database maintenance.")
    db_commands = db.add_subparsers(dest="db_command", metavar="COMMAND", required=True)
    upgrade = db_commands.add_parser(
        "upgrade",
        help="bring the schema to the newest version (the bot also does this at start)",
        description="Run the schema migrations up to the newest version; existing data is kept.",
    )
    _add_database_options(upgrade)
    upgrade.set_defaults(func=run_upgrade)

    queue = subparsers.add_parser(
        "queue",
        help="print queue depth, running, recent failures and per-platform counts",
        description="Print the queue: queued, running, done and failed in the last 24 hours, per platform.",
    )
    _add_database_options(queue)
    queue.set_defaults(func=run_queue)


def _add_database_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", default=None, help="SQLAlchemy database URL (default: from the config)")
    parser.add_argument("--config", type=Path, default=None, help="config file (default: ./config.yaml)")


def _database_url(args: argparse.Namespace) -> str:
    if args.url:
        return args.url
    from bot.config import load_settings

    return load_settings(args.config).database_url(os.environ)


def _fail(command: str, message: str) -> int:
    print(f"dallebot {command}: error: {message}", file=sys.stderr)
    return 1


def run_upgrade(args: argparse.Namespace) -> int:
    from bot.config import ConfigError
    from storage import StorageError, schema
    from storage.db import dispose, make_engine

    try:
        engine = make_engine(_database_url(args))
        try:
            before = schema.current_revision(engine)
            after = schema.upgrade(engine)
        finally:
            dispose(engine)
    except (ConfigError, StorageError) as error:
        return _fail("db upgrade", str(error))
    head = schema.head_revision()
    if before == head:
        print(f"schema already at the newest revision ({head})")
    else:
        print(f"schema upgraded: {before or 'empty database'} → {after if after != 'head' else head}")
    return 0


def run_queue(args: argparse.Namespace) -> int:
    from bot.config import ConfigError
    from storage import StorageError, open_store

    try:
        store = open_store(_database_url(args), upgrade=False)
        try:
            stats = store.stats()
        finally:
            store.close()
    except (ConfigError, StorageError) as error:
        return _fail("queue", str(error))
    print(f"queued   {stats.queued}")
    print(f"running  {stats.running}")
    print(f"done     {stats.done_recent}   (last 24 h)")
    print(f"failed   {stats.failed_recent}   (last 24 h)")
    for platform in sorted(stats.by_platform):
        counts = stats.by_platform[platform]
        summary = "  ".join(f"{status} {counts[status]}" for status in sorted(counts))
        print(f"  {platform:<8} {summary}")
    return 0
