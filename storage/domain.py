"""The one vocabulary of what is stored: requests, statuses, options, admission outcomes.

Plain dataclasses and enums only — no platform, torch or SQL imports, nothing of the project — so
storage, the service, the worker and every adapter speak the same language and tests can build
them by hand. It lives at the bottom (storage) because storage persists and returns these types;
`bot.domain` re-exports them for the bot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

NSFW_CHANNEL = "nsfw"  # reply_to key the Discord adapter sets to "true"; read it as `nsfw_channel`


class Platform(StrEnum):
    WEB = "web"
    DISCORD = "discord"
    X = "x"


class Status(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    REJECTED = "rejected"


class RejectionReason(StrEnum):
    EMPTY_PROMPT = "empty_prompt"
    PROMPT_TOO_LONG = "prompt_too_long"
    INVALID_CHARACTERS = "invalid_characters"
    BAD_OPTION = "bad_option"
    UNSAFE_PROMPT = "unsafe_prompt"
    NOT_UNDERSTOOD = "not_understood"  # words unknown to the model, and none of the rest names a thing
    BANNED = "banned"
    QUOTA_EXCEEDED = "quota_exceeded"
    TOO_MANY_IN_FLIGHT = "too_many_in_flight"
    QUEUE_FULL = "queue_full"
    PLATFORM_DISABLED = "platform_disabled"
    UNAVAILABLE = "unavailable"  # storage could not accept it (locked, read-only, full)


@dataclass(frozen=True)
class Options:
    """Per-request generation options; `images` > 1 is delivered as one grid."""

    seed: int | None = None
    images: int = 1
    top_k: int | None = None  # None: the configured default
    temperature: float | None = None
    cond_scale: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Options:
        return cls(**(data or {}))


@dataclass(frozen=True)
class NewRequest:
    """What an adapter hands to `submit`: a request not yet stored."""

    platform: Platform
    external_id: str  # the platform's own id: tweet id, interaction id, "daily:<date>", web uuid
    user_id: str
    prompt: str
    user_name: str = ""
    reply_to: dict[str, str] = field(default_factory=dict)  # platform-specific: channel, message, tweet
    options: Options = field(default_factory=Options)
    ignored_words: tuple[str, ...] = ()  # set by the service: words the model does not know

    @property
    def nsfw_channel(self) -> bool:
        """Asked in a channel marked NSFW whose admin allowed flagged images (Discord sets it)."""
        return self.reply_to.get(NSFW_CHANNEL) == "true"


@dataclass(frozen=True)
class Request:
    """A stored request as storage returns it."""

    id: int
    platform: Platform
    external_id: str
    user_id: str
    user_name: str
    prompt: str
    options: Options
    reply_to: dict[str, str]
    status: Status
    attempts: int
    created_at: datetime
    updated_at: datetime
    last_error: str | None = None
    result_ref: str | None = None
    posted_message_id: str | None = None
    ignored_words: tuple[str, ...] = ()  # not in the model's vocabulary: left out of the picture

    @property
    def nsfw_channel(self) -> bool:
        """Asked in a channel marked NSFW whose admin allowed flagged images (Discord sets it)."""
        return self.reply_to.get(NSFW_CHANNEL) == "true"


@dataclass(frozen=True)
class Accepted:
    request_id: int
    position: int  # 1 = next to run; 0 = already running or finished (duplicate submit)
    eta_seconds: float | None
    duplicate: bool = False


@dataclass(frozen=True)
class Rejected:
    reason: RejectionReason
    message: str  # what was wrong and what to do, fit to show the user
    retry_after: datetime | None = None


Outcome = Accepted | Rejected


@dataclass(frozen=True)
class Refusal:
    """Storage's answer when admission says no: the reason and the facts behind it, in no words.

    The bot words it (`bot.vocabulary.refusal`) into the `Rejected` users read; storage never
    composes user-facing text.
    """

    reason: RejectionReason  # BANNED, QUEUE_FULL, TOO_MANY_IN_FLIGHT or QUOTA_EXCEEDED
    retry_after: datetime | None = None  # QUOTA_EXCEEDED: when enough images leave the window
    ban_reason: str = ""  # BANNED: the moderator's reason, "" when none was given
    in_flight: int = 0  # TOO_MANY_IN_FLIGHT: the user's queued and running requests
    used: int = 0  # QUOTA_EXCEEDED: images counted in the window
    policy: QuotaPolicy | None = None  # the limits applied (None: no quota, e.g. the queue cap)


@dataclass(frozen=True)
class QuotaPolicy:
    """Per-user limits; a platform may override the default policy."""

    images_per_window: int = 10
    window_seconds: int = 3600
    max_in_flight: int = 2
