"""The daily prompt: one scheduled request per enabled platform per date, never twice.

daily = DailyPrompt(settings.daily, service, platforms=adapters.keys())
await daily.start()      # inside the running loop: schedules, and catches up a missed minute
...
await daily.stop()
"""

from bot.daily.job import DailyPrompt, daily_date, external_id
from bot.daily.settings import DailySettings

__all__ = ["DailyPrompt", "DailySettings", "daily_date", "external_id"]
