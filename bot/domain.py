"""The bot's vocabulary: what storage persists (defined in `storage.domain`, re-exported here so the
bot's parts import it from one place) and nothing platform-specific.

Dependencies point one way: `storage` defines requests, statuses and outcomes because it stores
and returns them; the bot only uses them.
"""

from storage.domain import (
    NSFW_CHANNEL,
    Accepted,
    NewRequest,
    Options,
    Outcome,
    Platform,
    QuotaPolicy,
    Refusal,
    Rejected,
    RejectionReason,
    Request,
    Status,
)

__all__ = [
    "NSFW_CHANNEL",
    "Accepted",
    "NewRequest",
    "Options",
    "Outcome",
    "Platform",
    "QuotaPolicy",
    "Refusal",
    "Rejected",
    "RejectionReason",
    "Request",
    "Status",
]
