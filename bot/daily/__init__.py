"""The daily prompt: one scheduled request per enabled platform per date, never twice."""

from bot.daily.settings import DailySettings

__all__ = ["DailySettings"]
