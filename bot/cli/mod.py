"""`dallebot mod hide ID`: an operator keeps a request out of public view.

Hiding records a flagged "operator" safety decision for the request; the web gallery and its
image URL leave out every request with a flagged decision. The URL comes from --url, else
DALLEBOT_DATABASE_URL, else storage.url in config.yaml.
"""

from __future__ import annotations

import argparse

from bot.cli.db import _add_database_options, _database_url, _fail


def register(subparsers: argparse._SubParsersAction) -> None:
    mod = subparsers.add_parser("mod", help="moderation by hand", description="Moderation by hand.")
    commands = mod.add_subparsers(dest="mod_command", metavar="COMMAND", required=True)
    hide = commands.add_parser(
        "hide",
        help="keep a request out of the web gallery",
        description="Keep a request (and its image) out of the web gallery; the request is not deleted.",
    )
    hide.add_argument("request_id", type=int, metavar="ID", help="the request's id (as the gallery shows it)")
    _add_database_options(hide)
    hide.set_defaults(func=run_hide)


def run_hide(args: argparse.Namespace) -> int:
    """Record the operator's hide decision; an unknown id is an error that names it."""
    from bot.config import ConfigError
    from storage import StorageError, open_store

    try:
        store = open_store(_database_url(args), upgrade=False)
        try:
            store.hide(args.request_id)
        finally:
            store.close()
    except KeyError:
        return _fail("mod hide", f"no request with id {args.request_id}; the gallery shows each image's id")
    except (ConfigError, StorageError) as error:
        return _fail("mod hide", str(error))
    print(f"request {args.request_id} hidden: it no longer appears in the gallery")
    return 0
