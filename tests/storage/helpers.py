"""Test helpers without pytest imports, so spawned worker processes start quickly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage.domain import NewRequest, Options, Platform

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class FakeClock:
    """A settable UTC clock: tests move time instead of sleeping."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def new_request(
    n: int | str, *, user: str = "u1", platform: Platform = Platform.X, images: int = 1
) -> NewRequest:
    return NewRequest(
        platform=platform,
        external_id=str(n),
        user_id=user,
        user_name=f"name-{user}",
        prompt=f"prompt {n}",
        reply_to={"tweet_id": str(n)},
        options=Options(seed=7, images=images),
    )
