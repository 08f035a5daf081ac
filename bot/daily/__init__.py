"""The daily prompt: one scheduled request per enabled platform per date, never twice.

daily = DailyPrompt(settings.daily, service, platforms=adapters.keys())
await daily.start()      # inside the running loop: schedules, and catches up a missed minute
...
await daily.stop()
"""

from bot.daily.job import DailyPrompt, external_id
from bot.daily.settings import DailySettings

__all__ = ["DailyPrompt", "DailySettings", "external_id"]
