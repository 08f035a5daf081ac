"""The daily prompt: exactly one `daily:<date>` request per enabled platform per date.

A real SQLite store and the real service; time is moved with time-machine, which both the job's
clock and APScheduler read (`datetime.now`), while the event loop keeps real monotonic time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine

from bot.config import Settings
from bot.daily import DailyPrompt, DailySettings
from bot.daily.rotation import Rotation
from bot.daily.schedule import due_date, occurrence
from bot.domain import Platform
from bot.service import BotService
from storage import Store, open_store

BERLIN = ZoneInfo("Europe/Berlin")
PROMPTS = ["a lighthouse in a storm", "a cat astronaut", "a fox in the snow"]
ENABLED = [Platform.X, Platform.WEB]  # discord is in daily.platforms but not running


def daily_settings(**overrides: object) -> DailySettings:
    values: dict[str, object] = {
        "enabled": True,
        "time": "09:00",
        "timezone": "Europe/Berlin",
        "prompts": PROMPTS,
        "grace_minutes": 120,
    }
    return DailySettings.model_validate(values | overrides)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'dallebot.db'}"


@pytest.fixture
def service(db_url: str) -> Iterator[BotService]:
    store = open_store(db_url)
    service = BotService(store, Settings(), safety=None)
    yield service
    service.close()
    store.close()


def daily_rows(store: Store) -> dict[tuple[str, str], str]:
    """(platform, external id) → prompt of every stored daily request."""
    rows = {}
    for request_id in range(1, store.count_requests() + 1):
        request = store.get_request(request_id)
        if request is not None and request.external_id.startswith("daily:"):
            rows[(request.platform.value, request.external_id)] = request.prompt
    return rows


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


async def settle() -> None:
    """Let jobs the scheduler handed to the event loop run to the end."""
    for _ in range(50):
        await asyncio.sleep(0.02)
        if not [
            t
            for t in asyncio.all_tasks()
            if t is not asyncio.current_task() and "run_coroutine_job" in repr(t.get_coro())
        ]:
            return


async def test_frozen_clock_across_the_scheduled_minute(service: BotService) -> None:
    with time_machine.travel(berlin(2026, 11, 26, 8, 59, 30), tick=False) as traveller:
        daily = DailyPrompt(daily_settings(), service, platforms=ENABLED)
        await daily.start()
        await settle()
        assert daily_rows(service.store) == {}  # not yet

        traveller.move_to(berlin(2026, 11, 26, 9, 0, 1))
        daily.scheduler.wakeup()
        await settle()
        rows = daily_rows(service.store)
        assert set(rows) == {("x", "daily:2026-11-26"), ("web", "daily:2026-11-26")}
        assert len(set(rows.values())) == 1 and next(iter(rows.values())) in PROMPTS

        traveller.move_to(berlin(2026, 11, 26, 9, 1, 0))  # the next minutes: the next run is tomorrow
        daily.scheduler.wakeup()
        await settle()
        assert len(daily_rows(service.store)) == 2
        next_run = daily.scheduler.get_job("daily-prompt").next_run_time
        assert next_run == berlin(2026, 11, 27, 9, 0)
        await daily.stop()


async def test_restart_after_the_minute_catches_up_within_grace_only(db_url: str) -> None:
    def fresh_service() -> BotService:
        return BotService(open_store(db_url), Settings(), safety=None)

    # Down at 09:00, back at 10:30 (grace 120 min): the start-up run posts today's prompt.
    with time_machine.travel(berlin(2026, 11, 26, 10, 30), tick=False):
        service = fresh_service()
        daily = DailyPrompt(daily_settings(), service, platforms=ENABLED)
        await daily.start()
        await daily.stop()
        assert set(daily_rows(service.store)) == {("x", "daily:2026-11-26"), ("web", "daily:2026-11-26")}
        service.close()
        service.store.close()

    # Restarted again at 10:45 the same day: nothing new.
    with time_machine.travel(berlin(2026, 11, 26, 10, 45), tick=False):
        service = fresh_service()
        daily = DailyPrompt(daily_settings(), service, platforms=ENABLED)
        await daily.start()
        await daily.stop()
        assert len(daily_rows(service.store)) == 2

    # Next day, back only at 11:30 (150 min late > grace): that day is skipped, not posted at noon.
    with time_machine.travel(berlin(2026, 11, 27, 11, 30), tick=False):
        daily = DailyPrompt(daily_settings(), service, platforms=ENABLED)
        await daily.start()
        await daily.stop()
        assert len(daily_rows(service.store)) == 2
    service.close()
    service.store.close()


async def test_two_firings_at_once_make_one_request_per_platform(service: BotService) -> None:
    with time_machine.travel(berlin(2026, 11, 26, 9, 0, 5), tick=False):
        daily = DailyPrompt(daily_settings(), service, platforms=ENABLED)
        other = DailyPrompt(daily_settings(), service, platforms=ENABLED)  # e.g. `daily --now` meanwhile
        results = await asyncio.gather(daily.run_due(), daily.run_due(), other.run_due())
        assert len(daily_rows(service.store)) == 2
        duplicates = [o.duplicate for result in results for o in result.values()]
        assert duplicates.count(False) == 2 and duplicates.count(True) == 4


async def test_fall_back_fires_twice_but_posts_once(service: BotService) -> None:
    # 2026-10-25 in Berlin: 02:30 happens twice (CEST, then CET); APScheduler fires at both.
    settings = daily_settings(time="02:30")
    fired = 0
    with time_machine.travel(datetime(2026, 10, 25, 0, 29, tzinfo=UTC), tick=False) as traveller:
        daily = DailyPrompt(settings, service, platforms=ENABLED)
        run_due = daily.run_due

        async def counting() -> dict:
            nonlocal fired
            fired += 1
            return await run_due()

        daily.run_due = counting  # type: ignore[method-assign]
        await daily.start()
        await settle()
        for moment in (
            datetime(2026, 10, 25, 0, 30, 1, tzinfo=UTC),
            datetime(2026, 10, 25, 1, 30, 1, tzinfo=UTC),
        ):
            traveller.move_to(moment)
            daily.scheduler.wakeup()
            await settle()
        await daily.stop()
    assert fired == 3  # the start-up check, then 02:30 CEST and 02:30 CET
    assert set(daily_rows(service.store)) == {("x", "daily:2026-10-25"), ("web", "daily:2026-10-25")}


async def test_spring_forward_time_in_the_gap_posts_that_date_once(service: BotService) -> None:
    # 2026-03-29 in Berlin: 02:00-03:00 CET does not exist; a 02:30 post is due from the jump (01:00 UTC).
    settings = daily_settings(time="02:30")
    assert occurrence(date(2026, 3, 29), settings) == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    with time_machine.travel(datetime(2026, 3, 28, 12, 0, tzinfo=UTC), tick=False) as traveller:
        daily = DailyPrompt(settings, service, platforms=ENABLED)
        await daily.start()
        await settle()
        # Scheduled the day before, APScheduler fires 02:30 with the old offset: 03:30 CEST.
        fire = daily.scheduler.get_job("daily-prompt").next_run_time
        # (a fold-dependent time never equals one in another zone, PEP 495: compare instants)
        assert fire.timestamp() == datetime(2026, 3, 29, 1, 30, tzinfo=UTC).timestamp()
        traveller.move_to(fire + timedelta(seconds=1))
        daily.scheduler.wakeup()
        await settle()
        await daily.stop()
    assert set(daily_rows(service.store)) == {("x", "daily:2026-03-29"), ("web", "daily:2026-03-29")}


async def test_started_inside_the_skipped_hour_the_catch_up_posts(service: BotService) -> None:
    # Started at 03:10 CEST on the jump day, APScheduler's next 02:30 is tomorrow: the catch-up posts.
    settings = daily_settings(time="02:30")
    with time_machine.travel(datetime(2026, 3, 29, 1, 10, tzinfo=UTC), tick=False):
        daily = DailyPrompt(settings, service, platforms=ENABLED)
        await daily.start()
        await settle()
        assert daily.scheduler.get_job("daily-prompt").next_run_time.date() == date(2026, 3, 30)
        await daily.stop()
    assert set(daily_rows(service.store)) == {("x", "daily:2026-03-29"), ("web", "daily:2026-03-29")}


def test_due_date_spans_midnight_and_ends_with_the_grace() -> None:
    settings = daily_settings(time="23:30", grace_minutes=90)
    assert due_date(berlin(2026, 11, 26, 23, 29), settings) is None
    assert due_date(berlin(2026, 11, 26, 23, 30), settings) == date(2026, 11, 26)
    assert due_date(berlin(2026, 11, 27, 0, 45), settings) == date(
        2026, 11, 26
    )  # after midnight: still that date
    assert due_date(berlin(2026, 11, 27, 1, 0), settings) is None


def test_rotation_uses_every_prompt_before_repeating() -> None:
    rotation = Rotation()
    days = [date(2026, 11, 1) + timedelta(days=n) for n in range(7)]
    picks = [rotation.pick(day, PROMPTS) for day in days[:3]]
    assert sorted(picks) == sorted(PROMPTS)
    again = Rotation.loads(rotation.dumps())  # survives a restart
    assert again.pick(days[1], PROMPTS) == picks[1]  # a date keeps its prompt
    fourth = again.pick(days[3], PROMPTS)
    assert fourth != picks[2]  # a new round does not open with yesterday's prompt
    assert sorted([fourth, *(again.pick(day, PROMPTS) for day in days[4:6])]) == sorted(PROMPTS)


def test_rotation_follows_config_changes_and_needs_prompts() -> None:
    rotation = Rotation(used=["gone from the config", "a cat astronaut"])
    assert rotation.pick(date(2026, 11, 1), PROMPTS) in {"a lighthouse in a storm", "a fox in the snow"}
    with pytest.raises(ValueError, match=r"daily\.prompts"):
        Rotation().pick(date(2026, 11, 1), [])


async def test_rotation_state_persists_across_restarts(db_url: str) -> None:
    picked = []
    for n in range(3):
        service = BotService(open_store(db_url), Settings(), safety=None)
        day = date(2026, 11, 1) + timedelta(days=n)
        outcomes = await DailyPrompt(daily_settings(), service, platforms=ENABLED).run_for(day)
        picked.append(service.store.get_request(outcomes[Platform.X].request_id).prompt)
        service.close()
        service.store.close()
    assert sorted(picked) == sorted(PROMPTS)


def test_prompts_file_is_read_with_the_list(tmp_path: Path) -> None:
    path = tmp_path / "prompts.txt"
    path.write_text("# one per line\na fox in the snow\n\n  a red balloon  \n", encoding="utf-8")
    settings = daily_settings(prompts_file=str(path))
    assert settings.load_prompts() == [*PROMPTS, "a red balloon"]


def test_settings_reject_bad_time_zone_and_unknown_keys() -> None:
    for bad in ({"time": "9:00"}, {"timezone": "Mars/Olympus"}, {"when": "09:00"}):
        with pytest.raises(ValueError):
            daily_settings(**bad)
    with pytest.raises(ValueError, match="prompts"):
        DailySettings(enabled=True)


def test_cli_daily_now_submits_today_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main

    config = tmp_path / "config.yaml"
    config.write_text(
        f"storage: {{url: 'sqlite:///{tmp_path / 'd.db'}'}}\n"
        "safety: {prompt: {enabled: false}, image: {enabled: false}}\n"
        "daily: {prompts: ['a cat astronaut'], timezone: Europe/Berlin}\n",
        encoding="utf-8",
    )
    assert main(["daily", "--now", "--config", str(config)]) == 0
    assert "web: queued as request 1" in capsys.readouterr().out
    assert main(["daily", "--now", "--config", str(config)]) == 0  # a second run: nothing new
    assert "web: already submitted today (request 1)" in capsys.readouterr().out
    store = open_store(f"sqlite:///{tmp_path / 'd.db'}")
    try:
        ((platform, external), prompt), *more = daily_rows(store).items()
        assert (platform, prompt, more) == ("web", "a cat astronaut", [])
        assert external in {
            f"daily:{d}"
            for d in (datetime.now(BERLIN).date(), datetime.now(BERLIN).date() - timedelta(days=1))
        }
    finally:
        store.close()
