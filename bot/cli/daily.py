"""`dallebot daily`: show when the daily prompt runs; `dallebot daily --now` submits today's by hand.

`--now` submits today's date (in daily.timezone) to every platform that would run, exactly as the
scheduler does: a date already submitted is left as it is, so running it twice, or while the bot
runs, posts nothing twice. The running bot's worker generates it and its adapters post it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.config import ConfigError, Settings, load_settings
from bot.domain import Accepted, Outcome, Platform


def register(subparsers: Any) -> None:
    daily = subparsers.add_parser("daily", help="the daily prompt: when it runs; --now submits today's")
    daily.add_argument("--config", type=Path, default=None, help="config file (default: ./config.yaml)")
    daily.add_argument(
        "--now",
        action="store_true",
        help="submit today's prompt now (once per date: a repeat changes nothing)",
    )
    daily.set_defaults(func=daily_command)


def daily_command(args: argparse.Namespace) -> int:
    try:
        settings = load_settings(args.config)
    except ConfigError as error:
        print(f"config error:\n{error}", file=sys.stderr)
        return 2
    platforms = _running_platforms(settings)
    if not args.now:
        return _describe(settings, platforms)
    try:
        prompts = settings.daily.load_prompts()
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    if not prompts:
        print("no daily prompts: set daily.prompts or daily.prompts_file in config.yaml", file=sys.stderr)
        return 2
    if not platforms:
        print("no platform in daily.platforms would run (see `dallebot check-config`)", file=sys.stderr)
        return 1
    outcomes = asyncio.run(_submit_today(settings, platforms))
    for platform, outcome in outcomes.items():
        print(f"{platform.value}: {_say(outcome)}")
    return 0 if all(isinstance(o, Accepted) for o in outcomes.values()) else 1


def _running_platforms(settings: Settings) -> list[Platform]:
    from bot.assembly import plan_adapters

    running = plan_adapters(settings, os.environ).adapters
    return [p for p in settings.daily.platforms if p in running and running[p].takes_daily()]


def _describe(settings: Settings, platforms: list[Platform]) -> int:
    from bot.daily.schedule import local_today, occurrence

    daily = settings.daily
    state = "on" if daily.enabled else "off (daily.enabled is false; --now still works)"
    today = local_today(datetime.now(UTC), daily)
    at = occurrence(today, daily).astimezone(daily.zone)
    print(
        f"daily: {state}; at {daily.time} {daily.timezone} (today: {at:%Y-%m-%d %H:%M %Z}), "
        f"grace {daily.grace_minutes} min"
    )
    print(f"platforms: {', '.join(p.value for p in platforms) or 'none would run'}")
    return 0


async def _submit_today(settings: Settings, platforms: list[Platform]) -> dict[Platform, Outcome]:
    from bot.assembly import open_configured_store
    from bot.daily import DailyPrompt
    from bot.daily.schedule import local_today
    from bot.safety.filter import SafetyFilter
    from bot.service import BotService

    store = await asyncio.to_thread(open_configured_store, settings, os.environ)
    safety = await asyncio.to_thread(SafetyFilter.from_settings, settings.safety)
    service = BotService(store, settings, safety)
    try:
        daily = DailyPrompt(settings.daily, service, platforms=platforms)
        return await daily.run_for(local_today(datetime.now(UTC), settings.daily))
    finally:
        service.close()
        store.close()


def _say(outcome: Outcome) -> str:
    if not isinstance(outcome, Accepted):
        return f"refused ({outcome.reason.value}): {outcome.message}"
    if outcome.duplicate:
        return f"already submitted today (request {outcome.request_id})"
    return f"queued as request {outcome.request_id}, position {outcome.position}"
