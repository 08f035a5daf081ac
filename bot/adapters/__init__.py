"""Platform adapters: each translates its platform's events into `NewRequest`s and posts results.

`base` defines the interface every adapter implements; each platform lives in its own package
(`web`, `discord`, `x`) exposing `build_adapter(settings, env) -> Adapter | None`.
"""

from bot.adapters.base import Adapter, DeliveryError, DeliveryErrorKind, MissingSecret, Service

__all__ = ["Adapter", "DeliveryError", "DeliveryErrorKind", "MissingSecret", "Service"]
