"""Shared fixtures: a real SQLite store on a fake clock, settings, the service over them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import Settings, parse_settings
from bot.service import BotService
from storage import Store, open_store
from tests.bot.fakes import FakeClock, StandInPipeline, StandInSafety


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings() -> Settings:
    return parse_settings(
        {
            "quotas": {"images_per_window": 100, "max_in_flight": 100},
            "worker": {"batch_size": 4, "max_attempts": 3, "lease_seconds": 30, "heartbeat_seconds": 5},
        }
    )


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'bot.db'}"


@pytest.fixture
def store(db_url: str, clock: FakeClock, settings: Settings) -> Iterator[Store]:
    store = open_store(db_url, clock=clock, max_attempts=settings.worker.max_attempts)
    yield store
    store.close()


@pytest.fixture
def safety() -> StandInSafety:
    return StandInSafety()


@pytest.fixture
def pipeline() -> StandInPipeline:
    return StandInPipeline()


@pytest.fixture
def service(store: Store, settings: Settings, safety: StandInSafety) -> Iterator[BotService]:
    service = BotService(store, settings, safety)  # type: ignore[arg-type]
    yield service
    service.close()
