"""The X adapter: poll mentions, reply with images, post the daily prompt."""

from bot.adapters.x.settings import XCredentials, XSettings

__all__ = ["XCredentials", "XSettings"]
