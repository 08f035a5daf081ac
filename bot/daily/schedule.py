"""When the daily prompt is due: wall-clock time in the configured zone, daylight saving included.

A date's post is due from its scheduled instant until `grace_minutes` later. On the spring-forward
day a time inside the gap (02:30 in Europe/Berlin) does not exist: it is due from the moment the
clocks jump (03:00 CEST). APScheduler's CronTrigger fires such a time later (02:30 read with the old
offset, 03:30 CEST) when it was scheduled the day before, and not at all that day when started
inside the gap hour — the start-up catch-up covers that case. On the fall-back day a repeated time
is the first of the two; the scheduler fires at both, and the job's per-date idempotency makes the
second a no-op.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from bot.daily.settings import DailySettings


def occurrence(day: date, settings: DailySettings) -> datetime:
    """The UTC instant `day`'s prompt is scheduled for."""
    zone = settings.zone
    local = datetime.combine(day, time(settings.hour, settings.minute), tzinfo=zone)  # fold=0: the first
    instant = local.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == local.replace(tzinfo=None):
        return instant
    # Inside a spring-forward gap: find the jump, between the two readings of the missing time.
    before = local.replace(fold=1).astimezone(UTC)  # read with the new offset: before the jump
    after = instant  # read with the old offset: after it
    while after - before > timedelta(seconds=1):
        middle = before + (after - before) / 2
        if middle.astimezone(zone).utcoffset() == before.astimezone(zone).utcoffset():
            before = middle
        else:
            after = middle
    return after.replace(microsecond=0)


def due_date(now: datetime, settings: DailySettings) -> date | None:
    """The date whose prompt is due at `now` (scheduled, and less than the grace period ago), if any."""
    grace = timedelta(minutes=settings.grace_minutes)
    today = now.astimezone(settings.zone).date()
    for day in (today, today - timedelta(days=1)):  # a late-evening time's grace can run past midnight
        start = occurrence(day, settings)
        if start <= now < start + grace:
            return day
    return None


def local_today(now: datetime, settings: DailySettings) -> date:
    """The date at `now` in the configured zone (for `dallebot daily --now`)."""
    return now.astimezone(settings.zone).date()
