"""`dallebot run`, `dallebot worker`, `dallebot check-config`: start the bot, or say what would start."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

from bot.config import DEFAULT_CONFIG_PATH, ConfigError, Settings, load_settings

log = logging.getLogger(__name__)


def register(subparsers: Any) -> None:
    run = subparsers.add_parser("run", help="start the bot: worker, delivery and every enabled platform")
    _config_option(run)
    run.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="generation threads in this process, each with its own model copy (0: front ends only)",
    )
    run.add_argument("--host", default=None, help="the playground's bind address (overrides web.host)")
    run.add_argument(
        "--port", type=_port, default=None, help="the playground's port, 0: any free one (overrides web.port)"
    )
    run.set_defaults(func=run_command)

    worker = subparsers.add_parser("worker", help="generate only: claim queued requests from the database")
    _config_option(worker)
    worker.set_defaults(func=worker_command)

    check = subparsers.add_parser("check-config", help="validate config.yaml and say what would run and why")
    _config_option(check)
    check.set_defaults(func=check_config_command)


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is out of range: use 0 to 65535")
    return port


def _config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, default=None, help="config file (default: ./config.yaml)")


def _load(args: argparse.Namespace) -> Settings | None:
    if logging.getLogger().level > logging.DEBUG:  # alembic lists its plugins at INFO on every start
        logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        return load_settings(args.config)
    except ConfigError as error:
        print(f"config error:\n{error}", file=sys.stderr)
        return None


# -- run ----------------------------------------------------------------------------------------


def run_command(args: argparse.Namespace) -> int:
    settings = _load(args)
    if settings is None:
        return 2
    if args.workers < 0:
        print("--workers must be 0 or more", file=sys.stderr)
        return 2
    if args.host is not None and not args.host.strip():
        print("--host must not be empty (127.0.0.1: this machine only; 0.0.0.0: all)", file=sys.stderr)
        return 2
    overrides = {key: getattr(args, key) for key in ("host", "port") if getattr(args, key) is not None}
    if overrides:
        settings = settings.model_copy(update={"web": settings.web.model_copy(update=overrides)})
    if args.workers and (error := _model_error(settings)):
        print(f"cannot start: {error}", file=sys.stderr)
        return 2
    return asyncio.run(_run(settings, args.workers))


def _model_error(settings: Settings) -> str | None:
    """Why generation.model cannot be used (not downloaded, damaged, no such directory), before
    anything binds a port or opens the database; reads local files only. An embedded model's name
    (`things`, `shapes`) resolves as loading resolves it."""
    if settings.generation.model is None:
        return None
    from generation.loading import ModelLoadError, model_directory

    try:
        model_directory(settings.generation.model)
    except ModelLoadError as error:
        return f"generation.model: {error}"
    return None


async def _run(settings: Settings, workers: int) -> int:
    from bot.adapters.web import WebAdapter
    from bot.app import BotApp
    from bot.assembly import StartupError

    app = BotApp(settings, os.environ, workers=workers)
    def force_stop_all() -> None:
        for worker in app.workers:
            worker.force_stop()

    stop = _stop_on_signals(on_second=force_stop_all)
    try:
        await app.start()
    except StartupError as error:
        print(f"cannot start: {error}", file=sys.stderr)
        return 1
    for adapter in app.adapters.values():
        if isinstance(adapter, WebAdapter):
            print(f"dallebot playground: {adapter.url}  (Ctrl-C to stop)", flush=True)
    await stop.wait()
    print("stopping: the image being generated is finished (Ctrl-C again to release it)…", flush=True)
    await app.stop()
    return 0


def _stop_on_signals(*, on_second: Any) -> asyncio.Event:
    """SIGINT/SIGTERM set the returned event; a second one calls `on_second` (stop waiting)."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    def handle() -> None:
        if stop.is_set():
            on_second()
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, handle)
    return stop


# -- worker -------------------------------------------------------------------------------------


def worker_command(args: argparse.Namespace) -> int:
    """One generation worker against the configured database, until SIGINT/SIGTERM."""
    settings = _load(args)
    if settings is None:
        return 2
    if error := _model_error(settings):
        print(f"cannot start: {error}", file=sys.stderr)
        return 2
    import threading

    from bot.assembly import StartupError, build_worker, open_configured_store
    from bot.safety.filter import SafetyFilter

    try:
        store = open_configured_store(settings, os.environ)
    except StartupError as error:
        print(f"cannot start: {error}", file=sys.stderr)
        return 1
    stopped = threading.Event()
    worker = build_worker(store, settings, SafetyFilter.from_settings(settings.safety))

    def handle(signum: int, frame: Any) -> None:
        if stopped.is_set():
            worker.force_stop()
        stopped.set()

    signal.signal(signal.SIGINT, handle)
    signal.signal(signal.SIGTERM, handle)
    try:
        worker.start()
    except StartupError as error:
        print(f"cannot start: {error}", file=sys.stderr)
        store.close()
        return 1
    print(f"worker {worker.worker_id} generating from {_safe_url(settings)}  (Ctrl-C to stop)", flush=True)
    stopped.wait()
    worker.stop(settings.worker.lease_seconds)
    store.close()
    return 0


# -- check-config -------------------------------------------------------------------------------


def _safe_url(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    url = settings.database_url(os.environ)
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unparseable storage.url)"


def describe(settings: Settings, env: dict[str, str] | os._Environ[str]) -> tuple[list[str], list[str]]:
    """What `dallebot run` would start, one line each, and the errors that would stop it."""
    from bot.assembly import plan_adapters

    lines: list[str] = []
    errors: list[str] = []
    from bot.assembly import database_setting
    from storage.check import check_database

    source = " (from DALLEBOT_DATABASE_URL)" if env.get("DALLEBOT_DATABASE_URL") else ""
    database = check_database(settings.database_url(env), timeout=settings.storage.write_timeout_seconds)
    lines.append(f"storage: {_safe_url(settings)}{source}: {database.note}")
    if database.problem is not None:  # the same words `dallebot run` stops with
        errors.append(f"{database_setting(env)}: {database.problem}")
    gen = settings.generation
    if gen.model is None:
        from generation.loading import CONFIG_FILE, DEFAULT_EMBEDDED, DEFAULT_MODEL_DIR

        where = f"the embedded {DEFAULT_EMBEDDED} model ({DEFAULT_MODEL_DIR})"
        if not (DEFAULT_MODEL_DIR / CONFIG_FILE).is_file():
            errors.append(
                f"generation.model: the embedded model is not in {DEFAULT_MODEL_DIR} yet; set "
                "generation.model to a model directory, or use --workers 0 and run workers elsewhere"
            )
    else:
        where = gen.model
        if error := _model_error(settings):
            errors.append(error)
    lines.append(f"generation: {where}, device {gen.device}, dtype {gen.dtype}")
    from bot.assembly import resolve_batching

    w = settings.worker
    batching = (
        f"continuous batching in {w.slots} image slots"
        if resolve_batching(settings) == "continuous"
        else f"batches of up to {w.batch_size}"
    )
    lines.append(
        f"worker: {batching}, lease {w.lease_seconds:g}s (heartbeat {w.heartbeat_seconds:g}s), "
        f"{w.max_attempts} attempts"
    )
    q = settings.quotas
    lines.append(
        f"quotas: {q.images_per_window} images per {q.window_seconds}s, {q.max_in_flight} in flight per user"
        + "".join(
            f"; {platform.value}: {policy.images_per_window}/{policy.window_seconds}s, {policy.max_in_flight}"
            for platform in q.per_platform
            for policy in [q.policy_for(platform)]
        )
    )
    lines.append(f"queue: cap {settings.queue.cap}")
    s = settings.safety
    lines.append(
        f"safety: prompt gate {'on' if s.prompt.enabled else 'OFF'} (threshold {s.prompt.threshold}), "
        f"image gate {'on' if s.image.enabled else 'OFF'} (threshold {s.image.threshold})"
    )
    plan = plan_adapters(settings, env)
    for item in plan.platforms:
        (errors if item.error else lines).append(item.reason)
    if not plan.adapters and not plan.errors:
        errors.append("no platform would run: enable web (web.enabled) or one with its secrets")
    daily = settings.daily
    when = f"at {daily.time} {daily.timezone}" if daily.enabled else "off (daily.enabled is false)"
    lines.append(f"daily: {when}")
    return lines, errors


def check_config_command(args: argparse.Namespace) -> int:
    """Exit 0: it would run; 1: an error (a missing or invalid file included), as the README says."""
    path = args.config or DEFAULT_CONFIG_PATH
    if not path.is_file():
        print(
            f"error: {path}: no such file (`dallebot run` here would use every default; "
            "pass --config with your file, or copy the project's config.yaml)",
            file=sys.stderr,
        )
        return 1
    settings = _load(args)
    if settings is None:
        return 1
    lines, errors = describe(settings, os.environ)
    verdict = "is valid" if not errors else f"parses, but {len(errors)} problem(s) stop `dallebot run`"
    print(f"config: {path} {verdict}")
    for line in lines:
        print(f"  {line}")
    for error in errors:
        print(f"error: {error}", file=sys.stderr)
    return 1 if errors else 0
